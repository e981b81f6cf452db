"""The version editor's form: prefilled from a version, turned back into the body to publish.

The editor publishes the configuration it was opened on with its widgets' values on top: a field
it has no widget for (one the API gained later, say) is carried over as it was.
"""

import copy
import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any

from app.mcp_editor import mcp_config, mcp_row
from app.view import PinnedTool, pretty, version_config


@dataclass
class ToolRow:
    type: str = "builtin"
    name: str = ""
    description: str = ""
    requires_approval: bool = False
    approval_timeout_seconds: str = ""
    allowed_hosts: str = ""
    url: str = ""
    method: str = "POST"
    parameters: str = '{\n  "type": "object",\n  "properties": {}\n}'
    headers: str = "{}"
    timeout_seconds: str = "30"
    accepts_idempotency_key: bool = False
    # An MCP server entry's (app.mcp_editor): its transport, `include` patterns (comma-separated)
    # and `requires_approval` when the version gave tool name patterns (JSON: published again
    # until the switch is toggled); shown only: the tools it pinned (in `carried`, published
    # again until "Refresh tools" drops them) as the model is offered them, whether it pins
    # any, and the command a stdio server is started with.
    transport: str = "streamable_http"
    include: str = ""
    approval_patterns: str = ""
    pinned: list[PinnedTool] = field(default_factory=list)
    has_pinned: bool = False
    command: str = ""
    # The tool's fields this row has no widget for, as JSON: published again unchanged.
    carried: str = "{}"
    # Whether the row offers "Allowed hosts" (only a built-in that makes requests reads them).
    takes_hosts: bool = False
    name_error: str = ""
    url_error: str = ""
    parameters_error: str = ""
    headers_error: str = ""
    other_error: str = ""


# What a row shows but does not edit as a tool's field of that name.
_SHOWN = ("carried", "takes_hosts", "approval_patterns", "pinned", "has_pinned", "command")
# The fields of a tool the row edits (and so publishes as the row says).
TOOL_ROW_FIELDS = frozenset(
    row_field.name
    for row_field in dataclasses.fields(ToolRow)
    if row_field.name not in _SHOWN and not row_field.name.endswith("_error")
)
# The built-in tools that read `allowed_hosts` (the API documents the field for these only).
HOST_BUILTINS = frozenset({"http_request"})


def takes_hosts(row: ToolRow) -> bool:
    """Whether "Allowed hosts" applies to the row: a built-in that makes requests, or one whose
    version already lists hosts (shown, so they are not dropped unseen)."""
    return row.type == "builtin" and (row.name in HOST_BUILTINS or bool(row.allowed_hosts.strip()))


def tool_row(tool: dict[str, Any]) -> ToolRow:
    timeout = tool.get("approval_timeout_seconds")
    carried = {key: value for key, value in tool.items() if key not in TOOL_ROW_FIELDS}
    row = ToolRow(
        type=str(tool.get("type", "builtin")),
        name=str(tool.get("name", "")),
        description=str(tool.get("description") or ""),
        requires_approval=bool(tool.get("requires_approval")),
        approval_timeout_seconds="" if timeout is None else str(timeout),
        allowed_hosts=", ".join(tool.get("allowed_hosts") or []),
        url=str(tool.get("url") or ""),
        method=str(tool.get("method") or "POST"),
        parameters=pretty(tool.get("parameters") or {"type": "object", "properties": {}}),
        headers=pretty(tool.get("headers") or {}),
        timeout_seconds=str(tool.get("timeout_seconds", 30)),
        accepts_idempotency_key=bool(tool.get("accepts_idempotency_key")),
        carried=json.dumps(carried, ensure_ascii=False),
    )
    row.takes_hosts = takes_hosts(row)
    return mcp_row(row, tool)


class FormError(ValueError):
    """Fields of the editor that are not even well-formed (before asking the API)."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


# A field that is not well-formed is sent as typed (the text, or JSON of another kind): the API
# refuses it as well, so nothing is published, and its answer names every other field it refuses.
def _json_field(text: str, name: str, errors: dict[str, str]) -> Any:
    if not text.strip():
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        errors[name] = f"not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        return text
    if not isinstance(value, dict):
        errors[name] = "must be a JSON object"
    return value


def _number_field(text: str, name: str, errors: dict[str, str], whole: bool = True) -> Any:
    text = text.strip()
    if not text:
        return None
    try:
        return int(text) if whole else float(text)
    except ValueError:
        errors[name] = "must be a whole number" if whole else "must be a number"
        return text


def tool_config(row: ToolRow, index: int, errors: dict[str, str]) -> dict[str, Any]:
    prefix = f"tools.{index}"
    carried = json.loads(row.carried or "{}")
    tool: dict[str, Any] = {**carried, "type": row.type, "name": row.name.strip()}
    if row.requires_approval:
        tool["requires_approval"] = True
    timeout = _number_field(
        row.approval_timeout_seconds, f"{prefix}.approval_timeout_seconds", errors
    )
    if timeout is not None:
        tool["approval_timeout_seconds"] = timeout
    if row.type == "builtin":
        hosts = [host.strip() for host in row.allowed_hosts.split(",") if host.strip()]
        if hosts and takes_hosts(row):
            tool["allowed_hosts"] = hosts
        return tool
    if row.type == "mcp":
        tool.update(mcp_config(row))
    else:
        tool["url"] = row.url.strip()
        tool["method"] = row.method
        if row.description.strip():
            tool["description"] = row.description.strip()
        tool["parameters"] = _json_field(row.parameters, f"{prefix}.parameters", errors)
    headers = _json_field(row.headers, f"{prefix}.headers", errors)
    if headers:
        tool["headers"] = headers
    seconds = _number_field(row.timeout_seconds, f"{prefix}.timeout_seconds", errors, whole=False)
    if seconds is not None:
        tool["timeout_seconds"] = seconds
    if row.accepts_idempotency_key and row.type == "http":
        tool["accepts_idempotency_key"] = True
    return tool


# Each limit the editor shows, and whether it is a whole number.
LIMIT_FIELDS = {
    "max_steps": True,
    "max_tokens": True,
    "max_cost_usd": False,
    "timeout_seconds": True,
    "approval_timeout_seconds": True,
}
# Where each field of the editor (but the tools) lives in a configuration.
FORM_FIELDS: dict[str, tuple[str, ...]] = {
    "provider": ("model", "provider"),
    "model_name": ("model", "name"),
    "parameters": ("model", "parameters"),
    "system_prompt": ("system_prompt",),
    **{name: ("limits", name) for name in LIMIT_FIELDS},
    "metadata": ("metadata",),
    "notes": ("notes",),
}


@dataclass
class EditorForm:
    provider: str = "scripted"
    model_name: str = ""
    parameters: str = "{}"
    system_prompt: str = ""
    max_steps: str = ""
    max_tokens: str = ""
    max_cost_usd: str = ""
    timeout_seconds: str = ""
    approval_timeout_seconds: str = ""
    metadata: str = "{}"
    notes: str = ""
    tools: list[ToolRow] = field(default_factory=list)
    # The configuration's fields the editor has no widget for: published again unchanged.
    carried: dict[str, Any] = field(default_factory=dict)


def carried_fields(config: dict[str, Any]) -> dict[str, Any]:
    """What of a configuration the editor's fields do not hold (its tool rows carry their own)."""
    carried = copy.deepcopy({key: value for key, value in config.items() if key != "tools"})
    for path in FORM_FIELDS.values():
        parent: Any = carried
        for part in path[:-1]:
            parent = parent.get(part) if isinstance(parent, dict) else None
        if isinstance(parent, dict):
            parent.pop(path[-1], None)
    return carried


def _merged(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """`base` with `over` on top, objects merged key by key."""
    merged = dict(base)
    for key, value in over.items():
        below = merged.get(key)
        if isinstance(below, dict) and isinstance(value, dict):
            merged[key] = _merged(below, value)
        else:
            merged[key] = value
    return merged


def _with_limits(form: EditorForm, limits: dict[str, Any]) -> EditorForm:
    for name in LIMIT_FIELDS:
        value = limits.get(name)
        setattr(form, name, "" if value is None else str(value))
    return form


def editor_form(
    version: dict[str, Any] | None, limit_defaults: dict[str, Any] | None = None
) -> EditorForm:
    """The editor, prefilled from a version, or a fresh scripted one with the API's default
    limits (`GET /v1/meta`)."""
    if version is None:
        fresh = EditorForm(
            model_name="demo",
            parameters=pretty({"script": [{"text": "Hello! I am a scripted agent."}]}),
            system_prompt="You are a helpful agent.",
        )
        return _with_limits(fresh, limit_defaults or {})
    config = version_config(version)
    model, limits = config.get("model") or {}, config.get("limits") or {}
    form = EditorForm(
        provider=str(model.get("provider", "scripted")),
        model_name=str(model.get("name") or ""),
        parameters=pretty(model.get("parameters") or {}),
        system_prompt=str(config.get("system_prompt") or ""),
        metadata=pretty(config.get("metadata") or {}),
        notes="",
        tools=[tool_row(tool) for tool in config.get("tools") or []],
        carried=carried_fields(config),
    )
    return _with_limits(form, limits)


def version_body(form: EditorForm) -> dict[str, Any]:
    """The configuration to publish; raises FormError for fields that are not well-formed."""
    body, errors = draft_body(form)
    if errors:
        raise FormError(errors)
    return body


def draft_body(form: EditorForm) -> tuple[dict[str, Any], dict[str, str]]:
    """The configuration the form says, and the errors of its fields that are not well-formed
    (those are in the body as typed, which the API refuses: see `_json_field`)."""
    errors: dict[str, str] = {}
    model: dict[str, Any] = {"provider": form.provider}
    if form.model_name.strip():
        model["name"] = form.model_name.strip()
    parameters = _json_field(form.parameters, "model.parameters", errors)
    if parameters:
        model["parameters"] = parameters
    limits: dict[str, Any] = {}
    for name, whole in LIMIT_FIELDS.items():
        value = _number_field(getattr(form, name), f"limits.{name}", errors, whole)
        if value is not None:
            limits[name] = value
    body: dict[str, Any] = {
        "model": model,
        "system_prompt": form.system_prompt,
        "tools": [tool_config(row, index, errors) for index, row in enumerate(form.tools)],
        "limits": limits,
        "metadata": _json_field(form.metadata, "metadata", errors),
        "notes": form.notes,
    }
    return _merged(form.carried, body), errors


def with_local_errors(local: dict[str, str], answered: dict[str, str]) -> dict[str, str]:
    """The API's field errors with the form's own on top: the form says what is wrong with a
    field it could not read (the API only saw its text), the API says the rest."""
    return {**{k: v for k, v in answered.items() if k not in local}, **local}


def split_tool_errors(
    errors: dict[str, str], count: int
) -> tuple[dict[str, str], list[dict[str, str]]]:
    """Errors of the whole form, and those of each tool row by its own field names."""
    general: dict[str, str] = {}
    rows: list[dict[str, str]] = [{} for _ in range(count)]
    for name, message in errors.items():
        parts = name.split(".")
        if parts[0] == "tools" and len(parts) > 1 and parts[1].isdigit() and int(parts[1]) < count:
            sub = parts[2] if len(parts) > 2 else "other"
            if sub not in ("name", "url", "parameters", "headers"):
                message = f"{'.'.join(parts[2:]) or 'tool'}: {message}"
                sub = "other"
            row = rows[int(parts[1])]
            row[sub] = f"{row[sub]}; {message}" if sub in row else message
        else:
            general[name] = message
    return general, rows


@dataclass
class ParameterHelp:
    """One option of a provider's `model.parameters`, as the editor documents it."""

    name: str = ""
    type: str = ""
    default: str = ""
    description: str = ""


# How deep the help goes into nested options (`script[].error.message` is two levels down).
HELP_DEPTH = 2


def parameter_help(schema: dict[str, Any]) -> list[ParameterHelp]:
    """A provider's parameters (its JSON schema from `GET /v1/meta`'s `provider_parameters`):
    each option's name, type, default and description, nested options as `script[].text`."""
    definitions = schema.get("$defs") or {}

    def resolved(part: Any) -> dict[str, Any]:
        if not isinstance(part, dict):
            return {}
        if "$ref" in part:
            return dict(definitions.get(str(part["$ref"]).rsplit("/", 1)[-1]) or {})
        choices = [c for c in part.get("anyOf") or [] if c.get("type") != "null"]
        return resolved(choices[0]) if len(choices) == 1 and "type" not in part else part

    def type_of(part: Any) -> str:
        found = resolved(part)
        if "enum" in found:
            return "one of " + ", ".join(json.dumps(value) for value in found["enum"])
        if found.get("type") == "array":
            return f"list of {type_of(found.get('items'))}"
        if "anyOf" in found:
            return " or ".join(type_of(choice) for choice in found["anyOf"])
        return str(found.get("type") or "object")

    rows: list[ParameterHelp] = []

    def walk(properties: dict[str, Any], prefix: str, depth: int) -> None:
        for name, part in properties.items():
            default = part.get("default") if isinstance(part, dict) else None
            rows.append(
                ParameterHelp(
                    name=prefix + name,
                    type=type_of(part),
                    default="" if default is None else json.dumps(default),
                    description=str(part.get("description") or ""),
                )
            )
            inner = resolved(part)
            suffix = "."
            if inner.get("type") == "array":
                inner, suffix = resolved(inner.get("items")), "[]."
            if depth < HELP_DEPTH and inner.get("properties"):
                walk(inner["properties"], f"{prefix}{name}{suffix}", depth + 1)

    walk(schema.get("properties") or {}, "", 0)
    return rows


def parameter_errors(errors: dict[str, str]) -> list[str]:
    """The API's errors inside `model.parameters` (`model.parameters.script.0.delay_seconds`),
    each as `script.0.delay_seconds: message`, to show beside the parameters."""
    prefix = "model.parameters."
    return [
        f"{key[len(prefix) :]}: {message}"
        for key, message in errors.items()
        if key.startswith(prefix)
    ]
