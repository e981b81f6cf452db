"""Tools an agent may call: their specs as the model sees them, argument validation by JSON
schema, and dispatch to a built-in or a configured HTTP tool."""

from typing import Any

from core.models.agent_config import (
    CallableTool,
    HttpTool,
    McpTool,
    tool_description,
    tool_parameters,
)
from core.tool_arguments import argument_errors
from worker.tools.builtins import REGISTRY
from worker.tools.context import ToolContext
from worker.tools.http import HTTP_TOOL_MAX_RESPONSE_BYTES, call_http_tool
from worker.tools.mcp import call_mcp_tool
from worker.types import ToolError, ToolSpec


def tool_spec(tool: CallableTool) -> ToolSpec:
    return ToolSpec(tool.name, tool_description(tool), tool_parameters(tool))


def validate_arguments(spec: ToolSpec, arguments: dict[str, Any]) -> None:
    errors = argument_errors(spec.parameters, arguments)
    if errors:
        described = "; ".join(
            f"{'/'.join(e.path) or '(arguments)'}: {e.message}" for e in errors[:5]
        )
        raise ToolError(f"invalid arguments for {spec.name}: {described}")


async def execute(
    tool: CallableTool,
    arguments: dict[str, Any],
    context: ToolContext,
    *,
    max_response_bytes: int = HTTP_TOOL_MAX_RESPONSE_BYTES,
) -> Any:
    """Validate, then run. Every failure is a `ToolError` for the model to read.

    `max_response_bytes` bounds what an HTTP tool reads (the worker's TOOL_MAX_RESPONSE_BYTES).
    """
    if "__invalid_json__" in arguments:
        raise ToolError(f"the arguments for {tool.name} were not valid JSON")
    validate_arguments(tool_spec(tool), arguments)
    if isinstance(tool, McpTool):
        return await call_mcp_tool(tool, arguments, context)
    if isinstance(tool, HttpTool):
        return await call_http_tool(tool, arguments, context, max_response_bytes)
    return await REGISTRY[tool.name](arguments, context)
