"""What the charts draw: a run's waterfall, and runs by status, latency and cost."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.view.format import (
    STATUS_COLORS,
    duration,
    parse_time,
    seconds_between,
    short_id,
    when,
)
from app.view.runs import ApprovalView, StepView


@dataclass
class WaterfallBar:
    """One bar: where it starts and how long each part takes, in seconds from the run's start,
    and where it sits on the page's track (percentages of the whole span).

    Kinds a bar is not are None.
    """

    label: str = ""
    offset: float = 0.0
    model: float | None = None
    tool: float | None = None
    approval: float | None = None
    kind: str = ""
    left: str = "0%"
    width: str = "0%"
    # What hovering the bar says: its kind, length and start.
    title: str = ""


# A bar too short to see at the run's scale still shows as a sliver, in percent of the track.
MIN_BAR_PERCENT = 0.4


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
    ordered = [bar for _, bar in sorted(bars, key=lambda item: item[0])]
    place_on_track(ordered)
    return ordered


def bar_length(bar: WaterfallBar) -> float:
    return bar.model or bar.tool or bar.approval or 0.0


def waterfall_span(bars: list[WaterfallBar]) -> float:
    """Seconds from the run's start to the end of its last bar."""
    return max((bar.offset + bar_length(bar) for bar in bars), default=0.0)


def place_on_track(bars: list[WaterfallBar]) -> None:
    span = waterfall_span(bars) or 1.0
    for bar in bars:
        length = bar_length(bar)
        bar.kind = (
            "model" if bar.model is not None else "tool" if bar.tool is not None else "approval"
        )
        bar.left = f"{min(bar.offset / span * 100, 100 - MIN_BAR_PERCENT):.3f}%"
        bar.width = f"{max(length / span * 100, MIN_BAR_PERCENT):.3f}%"
        what = "waiting for approval" if bar.kind == "approval" else bar.kind
        bar.title = f"{bar.label}: {what} {duration(length)}, from {duration(bar.offset)}"


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
