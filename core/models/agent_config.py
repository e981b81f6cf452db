"""The configuration an agent version pins: model, prompt, tools, limits.

Shared by the API (which validates it on publish) and the worker (which executes it).
"""

import hashlib
import json
import re
from typing import Annotated, Any, Literal

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from core.models.limits import (
    MAX_METADATA_BYTES,
    MAX_MODEL_PARAMETERS_BYTES,
    MAX_TOOL_PARAMETERS_BYTES,
    json_size_at_most,
)

ModelProvider = Literal["scripted", "openai", "openai_compatible", "anthropic"]
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


class _Strict(BaseModel):
    # Strict types: `true` is no integer, `1` or "yes" no boolean, "10" no number.
    model_config = ConfigDict(extra="forbid", strict=True)


class ModelSpec(_Strict):
    provider: ModelProvider
    name: str = Field(
        default="", max_length=200, validate_default=True, description="Model name at the provider."
    )
    parameters: Annotated[dict[str, Any], json_size_at_most(MAX_MODEL_PARAMETERS_BYTES)] = Field(
        default_factory=dict, description="Provider parameters, e.g. temperature, script."
    )

    @field_validator("name")
    @classmethod
    def _name_required_for_real_providers(cls, name: str, info: Any) -> str:
        if not name and info.data.get("provider", "scripted") != "scripted":
            raise ValueError("a model name is required for this provider")
        return name

    @field_validator("parameters")
    @classmethod
    def _script_is_a_list(cls, parameters: dict[str, Any]) -> dict[str, Any]:
        script = parameters.get("script")
        if script is not None and not isinstance(script, list):
            raise ValueError("parameters.script must be a list of turns")
        return parameters


def _check_json_schema(schema: dict[str, Any]) -> dict[str, Any]:
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        where = "/".join(str(part) for part in exc.path) or "(root)"
        raise ValueError(f"not a valid JSON schema at {where}: {exc.message}") from None
    if schema.get("type", "object") != "object":
        raise ValueError("tool parameters must be a JSON schema of type object")
    return schema


class BuiltinTool(_Strict):
    type: Literal["builtin"]
    name: str = Field(description=f"One of: {', '.join(BUILTIN_TOOLS)}.")
    requires_approval: bool = False
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


class SecretRef(_Strict):
    secret: str = Field(pattern=r"^[A-Z_][A-Z0-9_]*$", description="Worker env var to read.")


# RFC 9110 field names are tokens; values may not hold control characters (but tab), which
# would let a configuration inject headers or split the request.
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,256}$")
_HEADER_VALUE_FORBIDDEN = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


def _header_name(name: str) -> str:
    if not _HEADER_NAME.match(name):
        raise ValueError("a header name is letters, digits and !#$%&'*+.^_`|~- only")
    return name


def _header_value(value: "str | SecretRef") -> "str | SecretRef":
    if isinstance(value, str) and _HEADER_VALUE_FORBIDDEN.search(value):
        raise ValueError("a header value may not contain control characters (CR, LF, NUL...)")
    return value


HeaderName = Annotated[str, AfterValidator(_header_name)]
HeaderValue = Annotated[str | SecretRef, AfterValidator(_header_value)]


class HttpTool(_Strict):
    type: Literal["http"]
    name: str = Field(pattern=TOOL_NAME_PATTERN)
    description: str = Field(default="", max_length=2000)
    parameters: Annotated[dict[str, Any], json_size_at_most(MAX_TOOL_PARAMETERS_BYTES)] = Field(
        default_factory=lambda: {"type": "object"}
    )
    url: str = Field(max_length=2000)
    method: HttpMethod = "POST"
    headers: dict[HeaderName, HeaderValue] = Field(default_factory=dict, max_length=64)
    timeout_seconds: float = Field(default=30, gt=0, le=600)
    requires_approval: bool = False
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


Tool = Annotated[BuiltinTool | HttpTool, Field(discriminator="type")]


def tool_parameters(tool: BuiltinTool | HttpTool) -> dict[str, Any]:
    """The JSON schema a tool's arguments must match."""
    if isinstance(tool, HttpTool):
        return tool.parameters
    return dict(BUILTIN_TOOLS[tool.name]["parameters"])


TOOL_TYPES = frozenset({"builtin", "http"})


class Limits(_Strict):
    max_steps: int = Field(default=20, ge=1, le=10_000)
    max_tokens: int = Field(default=100_000, ge=1)
    max_cost_usd: float | None = Field(default=None, ge=0, allow_inf_nan=False)
    timeout_seconds: int = Field(default=600, ge=1, le=7 * 24 * 3600)
    approval_timeout_seconds: int = Field(default=24 * 3600, ge=1, le=MAX_APPROVAL_SECONDS)


class AgentConfig(_Strict):
    """What a version pins. Hashing and equality ignore `notes`."""

    model: ModelSpec
    system_prompt: str = Field(default="", max_length=100_000)
    tools: list[Tool] = Field(default_factory=list, max_length=128)
    limits: Limits = Field(default_factory=Limits)
    metadata: Annotated[dict[str, Any], json_size_at_most(MAX_METADATA_BYTES)] = Field(
        default_factory=dict
    )

    @field_validator("tools")
    @classmethod
    def _unique_tool_names(
        cls, tools: list[BuiltinTool | HttpTool]
    ) -> list[BuiltinTool | HttpTool]:
        seen: set[str] = set()
        for tool in tools:
            if tool.name in seen:
                raise ValueError(f"the tool name {tool.name!r} is used twice")
            seen.add(tool.name)
        return tools

    def config_dict(self) -> dict[str, Any]:
        """The configuration alone, as JSON-ready data (subclasses may carry more)."""
        return self.model_dump(mode="json", include=set(AgentConfig.model_fields))

    def content_hash(self) -> str:
        canonical = json.dumps(
            self.config_dict(), sort_keys=True, separators=(",", ":"), ensure_ascii=False
        )
        return hashlib.sha256(canonical.encode()).hexdigest()
