"""Jupyter widgets for experimenting with agents, over the REST client only.

from notebooks import AgentRunner, ChatWidget, VersionDiff, compare_versions
"""

from notebooks.chat_widget import ChatWidget
from notebooks.compare import compare_versions, comparison_chart
from notebooks.runner import AgentRunner
from notebooks.version_diff import VersionDiff

__all__ = ["AgentRunner", "ChatWidget", "VersionDiff", "compare_versions", "comparison_chart"]
