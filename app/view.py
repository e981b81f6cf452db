"""What the pages show, computed from the API's answers: rows, labels, diffs and chart data.

Pure functions over plain dicts, so they are easy to test and pages stay declarative.
"""

import difflib
import json
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

# How each status looks; the statuses themselves are the API's (`GET /v1/meta`). A status
# missing here shows gray.
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
NONE = "—"


# The API's vocabulary -----------------------------------------------------------------------------
@dataclass
class Vocabulary:
    """What `GET /v1/meta` names, in the shapes the pages use."""

    run_statuses: list[str] = field(default_factory=list)
    active: list[str] = field(default_factory=list)
    providers: list[str] = field(default_factory=list)
    builtin_tools: list[str] = field(default_factory=list)
    http_methods: list[str] = field(default_factory=list)
    limit_defaults: dict[str, Any] = field(default_factory=dict)


def vocabulary(meta: dict[str, Any]) -> Vocabulary:
    statuses = meta["run_statuses"]
    return Vocabulary(
        run_statuses=[str(status) for status in statuses["all"]],
        active=[str(status) for status in statuses["active"]],
        providers=[str(provider) for provider in meta["model_providers"]],
        builtin_tools=[str(tool["name"]) for tool in meta["builtin_tools"]],
        http_methods=[str(method) for method in meta["http_methods"]],
        limit_defaults=dict(meta["limit_defaults"]),
    )


class KnownStatuses(Collection[str]):
    """Run statuses of one kind as the API last named them; empty until a session read them.

    For code outside any state that asks `status in ACTIVE`: every page reads the vocabulary
    (`SessionState._session`) before it looks at a run.
    """

    def __init__(self) -> None:
        self._statuses: tuple[str, ...] = ()

    def replace(self, statuses: Iterable[str]) -> None:
        self._statuses = tuple(statuses)

    def __contains__(self, status: object) -> bool:
        return status in self._statuses

    def __iter__(self) -> Iterator[str]:
        return iter(self._statuses)

    def __len__(self) -> int:
        return len(self._statuses)


ACTIVE = KnownStatuses()


def remember_vocabulary(words: Vocabulary) -> None:
    ACTIVE.replace(words.active)


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


def status_counts(runs: list[dict[str, Any]], statuses: Iterable[str] = ()) -> list[StatusCount]:
    """Runs per status, in the order of `statuses` (the API's); others after them."""
    counts = dict.fromkeys(statuses, 0)
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
