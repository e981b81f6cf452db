"""What the pages show, computed from the API's answers: rows, labels, diffs and chart data.

Pure functions over plain dicts, so they are easy to test and pages stay declarative.
"""

import difflib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

ENDINGS = ("succeeded", "failed", "cancelled", "timed_out")
ACTIVE = ("queued", "running", "awaiting_approval", "cancelling")
RUN_STATUSES = ("queued", "running", "awaiting_approval", "cancelling", *ENDINGS)
STATUS_COLORS = {
    "queued": "gray",
    "running": "blue",
    "awaiting_approval": "amber",
    "cancelling": "orange",
    "succeeded": "green",
    "failed": "red",
    "cancelled": "gray",
    "timed_out": "red",
    "pending": "amber",
    "approved": "green",
    "rejected": "red",
    "expired": "gray",
}
# What the API adds to a version; the rest is the configuration it pins.
VERSION_RECORD_FIELDS = frozenset(
    {"id", "agent_id", "number", "config_hash", "created_by", "created_at"}
)
BUILTIN_TOOLS = ("calculator", "current_time", "http_request", "artifact_write")
PROVIDERS = ("scripted", "openai", "openai_compatible", "anthropic")
HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
NONE = "—"


# Formatting ------------------------------------------------------------------------------------
def parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def when(value: Any, seconds: bool = False) -> str:
    moment = parse_time(value)
    if moment is None:
        return NONE
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def seconds_between(start: Any, end: Any) -> float | None:
    first, last = parse_time(start), parse_time(end)
    if first is None or last is None:
        return None
    return max((last - first).total_seconds(), 0.0)


def duration(seconds: float | None) -> str:
    if seconds is None:
        return NONE
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {rest} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"


def cost(value: Any) -> str:
    amount = float(value or 0)
    if amount == 0:
        return "$0"
    if amount < 0.01:
        return f"${amount:.5f}"
    return f"${amount:.4f}" if amount < 1 else f"${amount:,.2f}"


def tokens(usage: Any) -> str:
    if not isinstance(usage, dict):
        return NONE
    given, taken = int(usage.get("input_tokens", 0)), int(usage.get("output_tokens", 0))
    return f"{given + taken:,} ({given:,} in / {taken:,} out)"


def pretty(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=str)


def short(text: Any, limit: int = 120) -> str:
    flat = " ".join(str(text if text is not None else "").split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def short_id(identifier: str) -> str:
    prefix, _, rest = identifier.partition("_")
    return f"{prefix}_…{rest[-6:]}" if rest else identifier


def size(count: Any) -> str:
    value = float(count or 0)
    for unit in ("B", "KiB", "MiB"):
        if value < 1024:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GiB"


def person(subject: Any, me: tuple[str, str] | None = None) -> str:
    """Who did something: `you` for the signed-in caller, else the API's subject."""
    text = str(subject or "")
    if me is not None and me[0] and text == me[0]:
        return f"you ({me[1]})"
    return text


def error_text(error: Any) -> str:
    if not error:
        return ""
    if isinstance(error, dict):
        code, message = error.get("code"), error.get("message")
        return f"{code}: {message}" if code and message else str(message or code or error)
    return str(error)


def file_link(api_path: str | None) -> str:
    """The workbench's own link for an API download (it adds the credentials server-side)."""
    return f"/files{api_path}" if api_path else ""


# Agents, versions, runs -------------------------------------------------------------------------
@dataclass
class AgentRow:
    id: str = ""
    name: str = ""
    description: str = ""
    archived: bool = False
    latest_version: str = NONE
    created_by: str = ""
    updated: str = ""


def agent_row(agent: dict[str, Any], me: tuple[str, str] | None = None) -> AgentRow:
    latest = agent.get("latest_version")
    return AgentRow(
        id=agent["id"],
        name=agent["name"],
        description=agent.get("description") or "",
        archived=bool(agent.get("archived")),
        latest_version=f"v{latest}" if latest else NONE,
        created_by=person(agent.get("created_by"), me),
        updated=when(agent.get("updated_at")),
    )


@dataclass
class VersionRow:
    number: int = 0
    label: str = ""
    config_hash: str = ""
    created: str = ""
    author: str = ""
    notes: str = ""
    model: str = ""
    tools: str = ""


def version_row(version: dict[str, Any], me: tuple[str, str] | None = None) -> VersionRow:
    model = version.get("model") or {}
    tools = [str(tool.get("name")) for tool in version.get("tools") or []]
    return VersionRow(
        number=int(version["number"]),
        label=f"v{version['number']}",
        config_hash=str(version.get("config_hash", ""))[:12],
        created=when(version.get("created_at")),
        author=person(version.get("created_by"), me),
        notes=str(version.get("notes") or ""),
        model=f"{model.get('provider', '?')}:{model.get('name') or 'default'}",
        tools=", ".join(tools) if tools else "no tools",
    )


@dataclass
class RunRow:
    id: str = ""
    short_id: str = ""
    agent_id: str = ""
    agent_name: str = ""
    version: str = ""
    status: str = ""
    input: str = ""
    created: str = ""
    duration: str = ""
    tokens: str = ""
    cost: str = ""


def run_row(run: dict[str, Any], agent_names: dict[str, str] | None = None) -> RunRow:
    usage = run.get("usage") or {}
    total = int(usage.get("input_tokens", 0)) + int(usage.get("output_tokens", 0))
    return RunRow(
        id=run["id"],
        short_id=short_id(run["id"]),
        agent_id=run["agent_id"],
        agent_name=(agent_names or {}).get(run["agent_id"], short_id(run["agent_id"])),
        version=f"v{run.get('version')}",
        status=str(run["status"]),
        input=short(run.get("input"), 80),
        created=when(run.get("created_at"), seconds=True),
        duration=duration(seconds_between(run.get("started_at"), run.get("ended_at"))),
        tokens=f"{total:,}",
        cost=cost(run.get("cost_usd")),
    )


def version_config(version: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in version.items() if key not in VERSION_RECORD_FIELDS}


# The version diff ---------------------------------------------------------------------------------
@dataclass
class DiffRow:
    left_number: str = ""
    left: str = ""
    right_number: str = ""
    right: str = ""
    kind: str = "equal"  # equal, changed, added, removed


def diff_rows(left: dict[str, Any], right: dict[str, Any]) -> list[DiffRow]:
    """Two configurations as JSON lines, aligned side by side."""
    a = pretty(version_config(left)).splitlines()
    b = pretty(version_config(right)).splitlines()
    rows: list[DiffRow] = []
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            rows.extend(
                DiffRow(str(i + 1), a[i], str(j + 1), b[j], "equal")
                for i, j in zip(range(i1, i2), range(j1, j2), strict=True)
            )
            continue
        for offset in range(max(i2 - i1, j2 - j1)):
            i, j = i1 + offset, j1 + offset
            has_left, has_right = i < i2, j < j2
            kind = "changed" if has_left and has_right else ("removed" if has_left else "added")
            rows.append(
                DiffRow(
                    str(i + 1) if has_left else "",
                    a[i] if has_left else "",
                    str(j + 1) if has_right else "",
                    b[j] if has_right else "",
                    kind,
                )
            )
    return rows


# The version editor -------------------------------------------------------------------------------
@dataclass
class ToolRow:
    type: str = "builtin"
    name: str = "calculator"
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
    name_error: str = ""
    url_error: str = ""
    parameters_error: str = ""
    headers_error: str = ""
    other_error: str = ""


def tool_row(tool: dict[str, Any]) -> ToolRow:
    timeout = tool.get("approval_timeout_seconds")
    return ToolRow(
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
    )


class FormError(ValueError):
    """Fields of the editor that are not even well-formed (before asking the API)."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def _json_field(text: str, name: str, errors: dict[str, str], kind: type = dict) -> Any:
    if not text.strip():
        return kind()
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        errors[name] = f"not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        return kind()
    if not isinstance(value, kind):
        errors[name] = f"must be a JSON {'object' if kind is dict else kind.__name__}"
        return kind()
    return value


def _number_field(text: str, name: str, errors: dict[str, str], whole: bool = True) -> Any:
    text = text.strip()
    if not text:
        return None
    try:
        return int(text) if whole else float(text)
    except ValueError:
        errors[name] = "must be a whole number" if whole else "must be a number"
        return None


def tool_config(row: ToolRow, index: int, errors: dict[str, str]) -> dict[str, Any]:
    prefix = f"tools.{index}"
    tool: dict[str, Any] = {"type": row.type, "name": row.name.strip()}
    if row.requires_approval:
        tool["requires_approval"] = True
    timeout = _number_field(
        row.approval_timeout_seconds, f"{prefix}.approval_timeout_seconds", errors
    )
    if timeout is not None:
        tool["approval_timeout_seconds"] = timeout
    if row.type == "builtin":
        hosts = [host.strip() for host in row.allowed_hosts.split(",") if host.strip()]
        if hosts:
            tool["allowed_hosts"] = hosts
        return tool
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
    if row.accepts_idempotency_key:
        tool["accepts_idempotency_key"] = True
    return tool


@dataclass
class EditorForm:
    provider: str = "scripted"
    model_name: str = ""
    parameters: str = "{}"
    system_prompt: str = ""
    max_steps: str = "20"
    max_tokens: str = "100000"
    max_cost_usd: str = ""
    timeout_seconds: str = "600"
    approval_timeout_seconds: str = "86400"
    metadata: str = "{}"
    notes: str = ""
    tools: list[ToolRow] = field(default_factory=list)


def editor_form(version: dict[str, Any] | None) -> EditorForm:
    """The editor, prefilled from a version (or a fresh scripted one)."""
    if version is None:
        return EditorForm(
            model_name="demo",
            parameters=pretty({"script": [{"text": "Hello! I am a scripted agent."}]}),
            system_prompt="You are a helpful agent.",
        )
    model, limits = version.get("model") or {}, version.get("limits") or {}

    def text(value: Any) -> str:
        return "" if value is None else str(value)

    return EditorForm(
        provider=str(model.get("provider", "scripted")),
        model_name=str(model.get("name") or ""),
        parameters=pretty(model.get("parameters") or {}),
        system_prompt=str(version.get("system_prompt") or ""),
        max_steps=text(limits.get("max_steps")),
        max_tokens=text(limits.get("max_tokens")),
        max_cost_usd=text(limits.get("max_cost_usd")),
        timeout_seconds=text(limits.get("timeout_seconds")),
        approval_timeout_seconds=text(limits.get("approval_timeout_seconds")),
        metadata=pretty(version.get("metadata") or {}),
        notes="",
        tools=[tool_row(tool) for tool in version.get("tools") or []],
    )


def version_body(form: EditorForm) -> dict[str, Any]:
    """The configuration to publish; raises FormError for fields that are not well-formed."""
    errors: dict[str, str] = {}
    model: dict[str, Any] = {"provider": form.provider}
    if form.model_name.strip():
        model["name"] = form.model_name.strip()
    parameters = _json_field(form.parameters, "model.parameters", errors)
    if parameters:
        model["parameters"] = parameters
    limits: dict[str, Any] = {}
    for name, whole in (
        ("max_steps", True),
        ("max_tokens", True),
        ("max_cost_usd", False),
        ("timeout_seconds", True),
        ("approval_timeout_seconds", True),
    ):
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
    if errors:
        raise FormError(errors)
    return body


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


# The run page ----------------------------------------------------------------------------------
@dataclass
class StepView:
    seq: int = 0
    kind: str = "model"
    name: str = ""
    status: str = "running"
    attempt: int = 1
    summary: str = ""
    text: str = ""
    tool_calls: str = ""
    arguments: str = ""
    result: str = ""
    error: str = ""
    tokens: str = ""
    cost: str = ""
    duration: str = ""
    started: str = ""
    output_url: str = ""
    input_url: str = ""
    started_at: str = ""
    ended_at: str = ""


def step_view(step: dict[str, Any]) -> StepView:
    """A step as the API lists it (large payloads show as a preview and a link)."""
    output, given = step.get("output"), step.get("input")
    view = StepView(
        seq=int(step["seq"]),
        kind=str(step["kind"]),
        name=str(step["name"]),
        status=str(step["status"]),
        attempt=int(step.get("attempt", 1)),
        error=error_text(step.get("error")),
        tokens=tokens(step.get("usage")),
        cost=cost(step.get("cost_usd")),
        duration=duration(seconds_between(step.get("started_at"), step.get("ended_at"))),
        started=when(step.get("started_at"), seconds=True),
        output_url=file_link(step.get("output_url")),
        input_url=file_link(step.get("input_url")),
        started_at=str(step.get("started_at") or ""),
        ended_at=str(step.get("ended_at") or ""),
    )
    if isinstance(output, dict) and "$ref" in output:
        view.result = f"{size(output.get('size'))} (preview) {output.get('preview', '')}"
        output = None
    if view.kind == "model":
        if isinstance(output, dict):
            view.text = str(output.get("text") or "")
            calls = output.get("tool_calls") or []
            if calls:
                view.tool_calls = pretty(
                    [{"name": c.get("name"), "arguments": c.get("arguments")} for c in calls]
                )
                view.summary = "calls " + ", ".join(str(c.get("name")) for c in calls)
        view.summary = view.summary or short(view.text or view.error, 160)
    else:
        if isinstance(given, dict) and "$ref" not in given:
            view.arguments = pretty(given.get("arguments", given))
        elif isinstance(given, dict):
            view.arguments = f"{size(given.get('size'))} (preview) {given.get('preview', '')}"
        if isinstance(output, dict):
            view.result = pretty(output.get("content", output))
        view.summary = short(view.error or view.result, 160)
    return view


@dataclass
class ApprovalView:
    id: str = ""
    run_id: str = ""
    run_short: str = ""
    agent_id: str = ""
    agent_name: str = ""
    step_seq: int = 0
    tool_name: str = ""
    arguments: str = ""
    status: str = "pending"
    requested: str = ""
    expires: str = ""
    decided_by: str = ""
    decided: str = ""
    comment: str = ""
    edited_arguments: str = ""
    requested_at: str = ""
    decided_at: str = ""


def approval_view(
    approval: dict[str, Any],
    agent_names: dict[str, str] | None = None,
    me: tuple[str, str] | None = None,
) -> ApprovalView:
    agent_id = str(approval.get("agent_id") or "")
    return ApprovalView(
        id=approval["id"],
        run_id=approval["run_id"],
        run_short=short_id(approval["run_id"]),
        agent_id=agent_id,
        agent_name=(agent_names or {}).get(agent_id, short_id(agent_id) if agent_id else ""),
        step_seq=int(approval.get("step_seq", 0)),
        tool_name=str(approval.get("tool_name", "")),
        arguments=pretty(approval.get("arguments") or {}),
        status=str(approval.get("status", "pending")),
        requested=when(approval.get("requested_at"), seconds=True),
        expires=when(approval.get("expires_at")),
        decided_by=person(approval.get("decided_by"), me),
        decided=when(approval.get("decided_at"), seconds=True),
        comment=str(approval.get("comment") or ""),
        edited_arguments=pretty(approval.get("edited_arguments"))
        if approval.get("edited_arguments") is not None
        else "",
        requested_at=str(approval.get("requested_at") or ""),
        decided_at=str(approval.get("decided_at") or ""),
    )


@dataclass
class ArtifactView:
    name: str = ""
    size: str = ""
    content_type: str = ""
    created: str = ""
    url: str = ""


def artifact_view(artifact: dict[str, Any]) -> ArtifactView:
    url = artifact.get("download_url") or (
        f"/v1/runs/{artifact['run_id']}/artifacts/{quote(str(artifact['name']))}"
    )
    return ArtifactView(
        name=str(artifact["name"]),
        size=size(artifact.get("size")),
        content_type=str(artifact.get("content_type", "")),
        created=when(artifact.get("created_at"), seconds=True),
        url=file_link(str(url)),
    )


@dataclass
class WaterfallBar:
    """One bar: where it starts (an invisible stack below it) and how long each part takes.

    Kinds a bar is not are None, so the chart's tooltip leaves them out.
    """

    label: str = ""
    offset: float = 0.0
    model: float | None = None
    tool: float | None = None
    approval: float | None = None


def waterfall(
    run: dict[str, Any], steps: list[StepView], approvals: list[ApprovalView], now: datetime
) -> list[WaterfallBar]:
    """Each step and each wait for a person as a bar: seconds from the run's start, and length."""
    origin = parse_time(run.get("started_at")) or parse_time(run.get("created_at"))
    if origin is None:
        return []
    bars: list[tuple[float, WaterfallBar]] = []

    def span(start: str, end: str) -> tuple[float, float] | None:
        first = parse_time(start)
        if first is None:
            return None
        last = parse_time(end) or now
        return (first - origin).total_seconds(), max((last - first).total_seconds(), 0.0)

    for step in steps:
        found = span(step.started_at, step.ended_at)
        if found is None:
            continue
        offset, length = found
        bar = WaterfallBar(label=f"#{step.seq} {step.name}", offset=round(max(offset, 0), 3))
        setattr(bar, "model" if step.kind == "model" else "tool", round(length, 3))
        bars.append((offset, bar))
    for approval in approvals:
        found = span(approval.requested_at, approval.decided_at)
        if found is None:
            continue
        offset, length = found
        bars.append(
            (
                offset,
                WaterfallBar(
                    label=f"#{approval.step_seq} approval",
                    offset=round(max(offset, 0), 3),
                    approval=round(length, 3),
                ),
            )
        )
    return [bar for _, bar in sorted(bars, key=lambda item: item[0])]


# Charts of an agent's runs ------------------------------------------------------------------------
@dataclass
class StatusCount:
    status: str = ""
    runs: int = 0
    fill: str = ""


@dataclass
class RunPoint:
    run: str = ""
    when: str = ""
    seconds: float = 0.0
    cost: float = 0.0
    version: str = ""


def status_counts(runs: list[dict[str, Any]]) -> list[StatusCount]:
    counts = {status: 0 for status in RUN_STATUSES}
    for run in runs:
        counts[str(run["status"])] = counts.get(str(run["status"]), 0) + 1
    return [
        StatusCount(status, count, f"var(--{STATUS_COLORS.get(status, 'gray')}-9)")
        for status, count in counts.items()
        if count
    ]


def run_points(runs: list[dict[str, Any]]) -> list[RunPoint]:
    """Finished runs, oldest first: latency (seconds) and cost over time."""
    points = []
    for run in sorted(runs, key=lambda r: str(r.get("created_at"))):
        elapsed = seconds_between(run.get("started_at"), run.get("ended_at"))
        if elapsed is None:
            continue
        points.append(
            RunPoint(
                run=short_id(run["id"]),
                when=when(run.get("created_at"), seconds=True)[5:],
                seconds=round(elapsed, 3),
                cost=round(float(run.get("cost_usd") or 0), 6),
                version=f"v{run.get('version')}",
            )
        )
    return points
