"""The configuration an agent version pins: model, prompt, tools, limits.

Shared by the API (which validates it on publish) and the worker (which executes it).
"""

import hashlib
import json
import re
from typing import Annotated, Any, Literal

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from pydantic import Field, ValidationInfo, field_validator

from core.models.headers import HeaderName as HeaderName
from core.models.headers import HeaderValue as HeaderValue
from core.models.headers import SecretRef as SecretRef
from core.models.limits import MAX_METADATA_BYTES, MAX_TOOL_PARAMETERS_BYTES, json_size_at_most
from core.models.mcp_tools import McpServer as McpServer
from core.models.mcp_tools import McpTool as McpTool
from core.models.mcp_tools import pinned_tools
from core.models.model_spec import ModelProvider as ModelProvider
from core.models.model_spec import ModelSpec as ModelSpec
from core.models.model_spec import StrictModel as _Strict

HttpMethod = Literal["GET", "POST", "PUT", "PATCH", "DELETE"]
TOOL_NAME_PATTERN = r"^[a-zA-Z0-9_-]{1,64}$"
# `{name}` in an HTTP tool's URL: filled from the call's argument of that name.
URL_PLACEHOLDER = re.compile(r"\{([^{}/?#\s]+)\}")

BUILTIN_TOOLS: dict[str, dict[str, Any]] = {
    "calculator": {
        "description": "Evaluate an arithmetic expression (+ - * / // % ** and parentheses).",
        "parameters": {
            "type": "object",
            "properties": {"expression": {"type": "string", "maxLength": 1000}},
            "required": ["expression"],
            "additionalProperties": False,
        },
    },
    "current_time": {
        "description": "The current date and time, in UTC or a named IANA time zone.",
        "parameters": {
            "type": "object",
            "properties": {"timezone": {"type": "string"}},
            "additionalProperties": False,
        },
    },
    "http_request": {
        "description": "GET or POST a URL on a host the agent's configuration allows.",
        "parameters": {
            "type": "object",
            "properties": {
                "url": {"type": "string"},
                "method": {"enum": ["GET", "POST"]},
                "body": {},
            },
            "required": ["url"],
            "additionalProperties": False,
        },
    },
    "artifact_write": {
        "description": (
            "Save a named file for the people running this agent to download from the run. "
            "Text as is, binary as base64 (encoding: base64). Writing a name again replaces it."
        ),
        "parameters": {
            "type": "object",
            "properties": {
                "name": {"type": "string", "pattern": r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$"},
                "content": {"type": "string"},
                "content_type": {"type": "string", "maxLength": 200},
                "encoding": {"enum": ["utf-8", "base64"]},
            },
            "required": ["name", "content"],
            "additionalProperties": False,
        },
    },
}


MAX_APPROVAL_SECONDS = 30 * 24 * 3600
APPROVAL_TIMEOUT_HELP = (
    "How long a call may wait for a decision; limits.approval_timeout_seconds if unset."
)


def _check_json_schema(schema: dict[str, Any]) -> dict[str, Any]:
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        where = "/".join(str(part) for part in exc.path) or "(root)"
        raise ValueError(f"not a valid JSON schema at {where}: {exc.message}") from None
    if schema.get("type", "object") != "object":
        raise ValueError("tool parameters must be a JSON schema of type object")
    return schema


APPROVAL_HELP = "Each call waits for a person's approval before it runs."


class BuiltinTool(_Strict):
    """A tool the runtime ships (`GET /v1/meta` lists them with their argument schemas)."""

    type: Literal["builtin"] = Field(description="`builtin`.")
    name: str = Field(description=f"One of: {', '.join(BUILTIN_TOOLS)}.")
    requires_approval: bool = Field(default=False, description=APPROVAL_HELP)
    approval_timeout_seconds: int | None = Field(
        default=None, ge=1, le=MAX_APPROVAL_SECONDS, description=APPROVAL_TIMEOUT_HELP
    )
    allowed_hosts: list[str] = Field(
        default_factory=list, description="Hosts http_request may reach."
    )

    @field_validator("name")
    @classmethod
    def _known_builtin(cls, name: str) -> str:
        if name not in BUILTIN_TOOLS:
            raise ValueError(f"unknown builtin tool {name!r}; known: {', '.join(BUILTIN_TOOLS)}")
        return name


class HttpTool(_Strict):
    """An endpoint of yours the model may call, with arguments checked against `parameters`."""

    type: Literal["http"] = Field(description="`http`.")
    name: str = Field(
        pattern=TOOL_NAME_PATTERN, description="The tool's name as the model sees it; unique."
    )
    description: str = Field(
        default="", max_length=2000, description="What the model is told the tool does."
    )
    parameters: Annotated[dict[str, Any], json_size_at_most(MAX_TOOL_PARAMETERS_BYTES)] = Field(
        default_factory=lambda: {"type": "object"},
        description="The JSON schema (type object) of its arguments.",
    )
    url: str = Field(
        max_length=2000,
        description="An absolute http(s) URL; `{name}` after the host takes that argument.",
    )
    method: HttpMethod = Field(
        default="POST",
        description="`GET` and `DELETE` send the other arguments as the query, others as JSON.",
    )
    headers: dict[HeaderName, HeaderValue] = Field(
        default_factory=dict,
        max_length=64,
        description='Sent with every call; a value may be `{"secret": "ENV_VAR"}`.',
    )
    timeout_seconds: float = Field(
        default=30, gt=0, le=600, description="Seconds a call may take before it is a tool error."
    )
    requires_approval: bool = Field(default=False, description=APPROVAL_HELP)
    approval_timeout_seconds: int | None = Field(
        default=None, ge=1, le=MAX_APPROVAL_SECONDS, description=APPROVAL_TIMEOUT_HELP
    )
    accepts_idempotency_key: bool = Field(
        default=False,
        description="The target drops repeats of an Idempotency-Key, so any method may be retried.",
    )

    @field_validator("parameters")
    @classmethod
    def _valid_schema(cls, schema: dict[str, Any]) -> dict[str, Any]:
        return _check_json_schema(schema)

    @field_validator("url")
    @classmethod
    def _http_url(cls, url: str, info: ValidationInfo) -> str:
        origin = re.match(r"^https?://[^/?#\s]+", url)
        if not origin:
            raise ValueError("url must be an absolute http(s) URL")
        if URL_PLACEHOLDER.search(origin.group()):
            raise ValueError("url placeholders may only follow the host, never be part of it")
        # Unset when the parameters were invalid: that error is reported on its own.
        schema = info.data.get("parameters")
        if schema is not None:
            properties = schema.get("properties") or {}
            required = schema.get("required") or []
            for name in URL_PLACEHOLDER.findall(url):
                if name not in properties or name not in required:
                    raise ValueError(
                        f"the url placeholder {{{name}}} must be a property of parameters "
                        "listed in parameters.required"
                    )
        return url


Tool = Annotated[BuiltinTool | HttpTool | McpServer, Field(discriminator="type")]
# One tool the model may call: a configured one, or one of an MCP server's pinned tools.
CallableTool = BuiltinTool | HttpTool | McpTool


def tool_description(tool: CallableTool) -> str:
    """What the model is told a tool does."""
    if isinstance(tool, McpTool):
        return tool.definition.description or f"{tool.definition.name} ({tool.server.name})"
    if isinstance(tool, HttpTool):
        return tool.description or f"{tool.method} {tool.url}"
    return str(BUILTIN_TOOLS[tool.name]["description"])


def tool_parameters(tool: CallableTool) -> dict[str, Any]:
    """The JSON schema a tool's arguments must match."""
    if isinstance(tool, McpTool):
        return tool.definition.input_schema
    if isinstance(tool, HttpTool):
        return tool.parameters
    return dict(BUILTIN_TOOLS[tool.name]["parameters"])


def expand(tools: list[BuiltinTool | HttpTool | McpServer]) -> list[CallableTool]:
    """Every tool the model is offered: MCP server entries give their pinned tools."""
    expanded: list[CallableTool] = []
    for tool in tools:
        if isinstance(tool, McpServer):
            expanded.extend(pinned_tools(tool))
        else:
            expanded.append(tool)
    return expanded


TOOL_TYPES = frozenset({"builtin", "http", "mcp"})


class Limits(_Strict):
    """What one run may use; a run that reaches a limit ends (checked before every step)."""

    max_steps: int = Field(
        default=20, ge=1, le=10_000, description="Model and tool steps; then `max_steps_exceeded`."
    )
    max_tokens: int = Field(
        default=100_000, ge=1, description="Model tokens in and out; then `max_tokens_exceeded`."
    )
    max_cost_usd: float | None = Field(
        default=None,
        ge=0,
        allow_inf_nan=False,
        description="USD its model steps may cost; then `max_cost_exceeded`. Null: no limit.",
    )
    timeout_seconds: int = Field(
        default=600,
        ge=1,
        le=7 * 24 * 3600,
        description="Seconds until the run ends `timed_out`; waiting for a person does not count.",
    )
    approval_timeout_seconds: int = Field(
        default=24 * 3600,
        ge=1,
        le=MAX_APPROVAL_SECONDS,
        description="Seconds a tool call waits for a decision before it expires, for tools "
        "that set none.",
    )


class ContextWindow(_Strict):
    """How much of a long conversation the model is sent."""

    max_input_tokens: int = Field(
        ge=1,
        le=10_000_000,
        description="The most tokens of conversation sent, estimated at 4 characters a token "
        "(instructions included).",
    )
    strategy: Literal["truncate_oldest"] = Field(
        default="truncate_oldest",
        description="`truncate_oldest`: drop the oldest turns whole (a user message and what "
        "answered it, never a tool call without its result), keeping the instructions and the "
        "newest turn; the model step records how many messages were dropped.",
    )


class AgentConfig(_Strict):
    """What a version pins. Hashing and equality ignore `notes`."""

    model: ModelSpec = Field(
        description="The model to call, by `provider`, with that provider's `parameters`."
    )
    system_prompt: str = Field(
        default="",
        max_length=100_000,
        description="The system prompt; a run's `context` is appended to it.",
    )
    tools: list[Tool] = Field(
        default_factory=list,
        max_length=128,
        description="Tools the model may call: built-in ones, HTTP endpoints or MCP servers; "
        "names unique.",
    )
    limits: Limits = Field(default_factory=Limits, description="What one run may use.")
    metadata: Annotated[dict[str, Any], json_size_at_most(MAX_METADATA_BYTES)] = Field(
        default_factory=dict, description="Free-form data of yours; part of the `config_hash`."
    )
    context_window: ContextWindow | None = Field(
        default=None,
        description="Bound what a long conversation sends the model; unset: everything.",
    )

    @field_validator("tools")
    @classmethod
    def _unique_tool_names(
        cls, tools: list[BuiltinTool | HttpTool | McpServer]
    ) -> list[BuiltinTool | HttpTool | McpServer]:
        entries = [tool.name for tool in tools if isinstance(tool, McpServer)]
        if len(entries) != len(set(entries)):
            raise ValueError("two MCP server entries have the same name")
        seen: set[str] = set()
        for tool in expand(tools):
            if tool.name in seen:
                raise ValueError(f"the tool name {tool.name!r} is used twice")
            seen.add(tool.name)
        return tools

    def callable_tools(self) -> list[CallableTool]:
        """The tools the model is offered, MCP servers' pinned tools included."""
        return expand(self.tools)

    def find_tool(self, name: str) -> CallableTool | None:
        return next((tool for tool in self.callable_tools() if tool.name == name), None)

    def config_dict(self) -> dict[str, Any]:
        """The configuration alone, as JSON-ready data (subclasses may carry more)."""
        config = self.model_dump(mode="json", include=set(AgentConfig.model_fields))
        if config.get("context_window") is None:
            # Unset, it is left out: versions published before it existed hash as they did.
            config.pop("context_window", None)
        return config

    def content_hash(self) -> str:
        canonical = json.dumps(
            self.config_dict(), sort_keys=True, separators=(",", ":"), ensure_ascii=False
        )
        return hashlib.sha256(canonical.encode()).hexdigest()
