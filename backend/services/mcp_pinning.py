"""Pinning MCP servers' tools into versions: at publish, each MCP entry without pinned tools
gets the server's current definitions; a refresh compares a version's pinned tools with what
its servers list now and, when confirmed, publishes a version with the new definitions.

The API connects to the servers itself (through the same SSRF guard as tools, with secrets
from its own environment), so a server that cannot be reached fails the publish with a 422
naming its entry, before anything is written.
"""

from dataclasses import dataclass
from typing import Any

from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from backend.errors import invalid
from core.mcp_client import McpUnavailableError, differences, list_definitions
from core.models import VersionCreate
from core.models.agent_config import AgentConfig, McpServer
from core.models.mcp_tools import McpToolDefinition


@dataclass(frozen=True)
class Reach:
    """What the API may connect to (its settings)."""

    allow_private_networks: bool
    allow_stdio: bool


async def _listed(server: McpServer, index: int, reach: Reach) -> list[McpToolDefinition]:
    try:
        return await list_definitions(
            server,
            allow_private_networks=reach.allow_private_networks,
            allow_stdio=reach.allow_stdio,
        )
    except McpUnavailableError as exc:
        raise invalid(
            f"tools.{index}",
            "body",
            f"could not list the tools of MCP server {server.name!r}: {exc}",
        ) from None


def _revalidated(config: dict[str, Any]) -> VersionCreate:
    try:
        return VersionCreate.model_validate(config)
    except ValidationError as exc:  # e.g. a listed tool's name collides with another tool's
        raise RequestValidationError(
            [{**error, "loc": ("body", *error.get("loc", ()))} for error in exc.errors()]
        ) from None


async def pinned(body: VersionCreate, reach: Reach) -> VersionCreate:
    """The body with every MCP entry's tools pinned (those given are kept as reviewed)."""
    if not any(isinstance(t, McpServer) and t.tools is None for t in body.tools):
        return body
    config = body.model_dump(mode="json")
    for index, tool in enumerate(body.tools):
        if isinstance(tool, McpServer) and tool.tools is None:
            listed = await _listed(tool, index, reach)
            config["tools"][index]["tools"] = [d.model_dump(mode="json") for d in listed]
    return _revalidated(config)


async def refreshed(
    config: AgentConfig, reach: Reach
) -> tuple[list[dict[str, Any]], VersionCreate]:
    """What changed in the MCP tools a configuration pins, and the configuration with the
    servers' current definitions."""
    changes: list[dict[str, Any]] = []
    new = config.config_dict()
    for index, tool in enumerate(config.tools):
        if not isinstance(tool, McpServer):
            continue
        listed = await _listed(tool, index, reach)
        now = {d.name: d for d in listed}
        before = {d.name: d for d in tool.tools or []}
        for name, old in before.items():
            details = differences(old, now.get(name))
            if details:
                kind = "removed" if name not in now else "changed"
                changes.append(
                    {"entry": tool.name, "tool": name, "change": kind, "details": details}
                )
        for name in now.keys() - before.keys():
            changes.append({"entry": tool.name, "tool": name, "change": "added", "details": []})
        new["tools"][index]["tools"] = [d.model_dump(mode="json") for d in listed]
    return changes, _revalidated(new)
