"""Jupyter widgets for experimenting with agents, over the REST client only.

from notebooks import AgentRunner, VersionDiff, compare_versions
"""

from notebooks.compare import compare_versions, comparison_chart
from notebooks.runner import AgentRunner
from notebooks.version_diff import VersionDiff

__all__ = ["AgentRunner", "VersionDiff", "compare_versions", "comparison_chart"]
