"""Tools from MCP servers, as a version pins them.

A version's `tools` may name an MCP server (`{"type": "mcp", ...}`). Publishing connects to it,
lists its tools and stores each one's name, description and input schema inside the version,
so they are part of its `config_hash`: the model is offered exactly those, and a call is refused
if the server's definition has changed since (a tool that changes after review is how a server
poisons an agent). Each tool is offered as `<entry name>__<tool name>`, so two servers cannot
shadow each other.
"""

import fnmatch
import hashlib
import re
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from core.models.headers import HeaderName, HeaderValue, SecretRef
from core.models.limits import MAX_TOOL_PARAMETERS_BYTES, json_size_at_most
from core.models.model_spec import StrictModel as _Strict

MCP_ENTRY_PATTERN = r"^[a-zA-Z0-9-]{1,32}$"
# What every provider accepts in a tool name.
_TOOL_NAME_CHARS = re.compile(r"[^a-zA-Z0-9_-]")
MAX_TOOL_NAME = 64
SEPARATOR = "__"


class McpToolDefinition(_Strict):
    """One tool as the server described it when the version was published."""

    name: str = Field(min_length=1, max_length=200, description="The server's name for it.")
    description: str = Field(default="", max_length=20_000, description="What the server said.")
    input_schema: Annotated[dict[str, Any], json_size_at_most(MAX_TOOL_PARAMETERS_BYTES)] = Field(
        default_factory=lambda: {"type": "object"}, description="Its arguments' JSON schema."
    )
    read_only: bool = Field(
        default=False, description="The server says calling it changes nothing (retried)."
    )
    idempotent: bool = Field(
        default=False, description="The server says a repeat does no more (retried)."
    )


McpValue = str | SecretRef


class McpServer(_Strict):
    """An MCP server whose tools the model may call."""

    type: Literal["mcp"] = Field(description="`mcp`.")
    name: str = Field(
        pattern=MCP_ENTRY_PATTERN,
        description="The entry's name: its tools are offered as `<name>__<tool>`.",
    )
    transport: Literal["streamable_http", "stdio"] = Field(
        default="streamable_http", description="How to reach the server."
    )
    url: str | None = Field(
        default=None, max_length=2000, description="`streamable_http`: the server's endpoint."
    )
    headers: dict[HeaderName, HeaderValue] = Field(
        default_factory=dict,
        max_length=64,
        description='Sent with every request; a value may be `{"secret": "ENV_VAR"}`.',
    )
    command: list[Annotated[str, Field(max_length=4000)]] | None = Field(
        default=None,
        max_length=256,
        description="`stdio`: the command to start (where the worker allows it: MCP_ALLOW_STDIO).",
    )
    env: dict[Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")], McpValue] = Field(
        default_factory=dict, max_length=64, description="`stdio`: the command's environment."
    )
    include: list[Annotated[str, Field(max_length=200)]] = Field(
        default_factory=list,
        max_length=128,
        description="Offer only the tools matching one of these patterns (`*`, `?`); all if empty.",
    )
    requires_approval: bool | list[Annotated[str, Field(max_length=200)]] = Field(
        default=False,
        description="Calls that wait for a person's approval: all (`true`), or those of the tools "
        "matching these patterns.",
    )
    approval_timeout_seconds: int | None = Field(
        default=None, ge=1, le=30 * 24 * 3600, description="How long a call may wait for one."
    )
    timeout_seconds: float = Field(
        default=60, gt=0, le=540, description="Seconds a call may take before it is a tool error."
    )
    tools: list[McpToolDefinition] | None = Field(
        default=None,
        max_length=256,
        description="The tools pinned when the version was published (filled in then if unset).",
    )

    @field_validator("url")
    @classmethod
    def _http_url(cls, url: str | None) -> str | None:
        if url is not None and not re.match(r"^https?://[^/?#\s]+", url):
            raise ValueError("url must be an absolute http(s) URL")
        return url

    @model_validator(mode="after")
    def _transport_fields(self) -> "McpServer":
        if self.transport == "streamable_http" and not self.url:
            raise ValueError("a streamable_http server needs a url")
        if self.transport == "stdio" and not self.command:
            raise ValueError("a stdio server needs a command")
        return self

    def offers(self, tool_name: str) -> bool:
        return not self.include or any(fnmatch.fnmatchcase(tool_name, p) for p in self.include)

    def gates(self, tool_name: str) -> bool:
        if isinstance(self.requires_approval, bool):
            return self.requires_approval
        return any(fnmatch.fnmatchcase(tool_name, p) for p in self.requires_approval)


def namespaced(entry: str, tool: str) -> str:
    """`<entry>__<tool>` within what every provider accepts (letters, digits, `_-`, 64 chars);
    a longer one keeps its start and a short hash of the whole."""
    name = f"{entry}{SEPARATOR}{_TOOL_NAME_CHARS.sub('_', tool)}"
    if len(name) <= MAX_TOOL_NAME:
        return name
    digest = hashlib.sha256(f"{entry}/{tool}".encode()).hexdigest()[:8]
    return f"{name[: MAX_TOOL_NAME - 9]}_{digest}"


@dataclass(frozen=True)
class McpTool:
    """One pinned tool of an MCP server entry, as the model is offered it."""

    server: McpServer
    definition: McpToolDefinition

    @property
    def name(self) -> str:
        return namespaced(self.server.name, self.definition.name)

    @property
    def requires_approval(self) -> bool:
        return self.server.gates(self.definition.name)

    @property
    def approval_timeout_seconds(self) -> int | None:
        return self.server.approval_timeout_seconds

    @property
    def retry_safe(self) -> bool:
        return self.definition.read_only or self.definition.idempotent


def pinned_tools(server: McpServer) -> list[McpTool]:
    return [McpTool(server, d) for d in server.tools or [] if server.offers(d.name)]
