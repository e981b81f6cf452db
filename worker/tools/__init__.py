"""Tools an agent may call: the registry and argument validation (`registry`), configured HTTP
endpoints (`http`), the built-ins (`builtins`) and what a call runs with (`context`)."""

from worker.tools.builtins import HTTP_MAX_RESPONSE_BYTES
from worker.tools.context import ArtifactSink, ToolContext
from worker.tools.http import HTTP_TOOL_MAX_RESPONSE_BYTES
from worker.tools.registry import execute, tool_spec, validate_arguments

__all__ = [
    "HTTP_MAX_RESPONSE_BYTES",
    "HTTP_TOOL_MAX_RESPONSE_BYTES",
    "ArtifactSink",
    "ToolContext",
    "execute",
    "tool_spec",
    "validate_arguments",
]
