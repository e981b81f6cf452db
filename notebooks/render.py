"""HTML and Markdown for the widgets: steps, status, approvals and decisions, a run's outcome."""

import json
from collections.abc import Iterable
from html import escape
from typing import Any

from IPython.display import Markdown

from client.run_state import Approval, Event, Step
from notebooks.formatting import (
    NOTHING,
    duration,
    money,
    person,
    status_label,
    when,
    who,
)

# How each status looks; the statuses themselves are the API's. Any other shows in blue.
STATUS_COLORS = {
    "succeeded": "#1a7f37",
    "approved": "#1a7f37",
    "failed": "#cf222e",
    "timed_out": "#cf222e",
    "rejected": "#cf222e",
    "cancelled": "#6e7781",
    "expired": "#6e7781",
    "awaiting_approval": "#9a6700",
    "pending": "#9a6700",
}
OTHER_STATUS_COLOR = "#0969da"
STEP_MARKS = {"running": "⏳", "succeeded": "✓", "failed": "✗", "cancelled": "⊘"}
OTHER_STEP_MARK = "•"
CANCELLED = "cancelled"
SUMMARY_CHARACTERS = 120
TABLE_STYLE = "border-collapse:collapse;font-size:13px"
CELL_STYLE = "padding:2px 8px;text-align:left;vertical-align:top"
MUTED = "#57606a"


def shorten(text: str, width: int = SUMMARY_CHARACTERS) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def status_badge(status: str) -> str:
    color = STATUS_COLORS.get(status, OTHER_STATUS_COLOR)
    return f'<b style="color:{color}">{escape(status_label(status))}</b>'


def status_html(status: str, run_id: str | None) -> str:
    if run_id is None:
        return "<i>no run yet</i>"
    return f"{status_badge(status)} <code>{escape(run_id)}</code>"


def step_status(step: Step) -> str:
    """The step's status as the API names it; a step a cancel cut short reads `cancelled`, also
    where the API records it as `failed` with the error code `cancelled`."""
    if step.status == "failed" and (step.error or {}).get("code") == CANCELLED:
        return CANCELLED
    return step.status


def _table(titles: list[str], rows: Iterable[list[str]]) -> str:
    """Cells are HTML already."""
    head = "".join(f'<th style="{CELL_STYLE}">{escape(title)}</th>' for title in titles)
    body = "".join(
        "<tr>" + "".join(f'<td style="{CELL_STYLE}">{cell}</td>' for cell in row) + "</tr>"
        for row in rows
    )
    return f'<table style="{TABLE_STYLE}"><tr>{head}</tr>{body}</table>'


def steps_html(steps: list[Step]) -> str:
    if not steps:
        return "<i>no steps yet</i>"
    titles = ["#", "step", "status", "time", "tokens", "cost", "result"]
    return _table(titles, (_step_cells(step) for step in steps))


def _step_cells(step: Step) -> list[str]:
    status = step_status(step)
    name = f"{step.kind} {step.name}" + (f" (attempt {step.attempt})" if step.attempt > 1 else "")
    running = step.status == "running"
    # Tool calls use no tokens: a dash says so better than a column of zeros.
    measured = not running and step.kind == "model"
    detail = (step.error or {}).get("message") or step.summary or ""
    return [
        str(step.seq),
        escape(name),
        f"{STEP_MARKS.get(status, OTHER_STEP_MARK)} {status_badge(status)}",
        escape(NOTHING if running else duration(step.duration_ms)),
        escape(str(step.input_tokens + step.output_tokens) if measured else NOTHING),
        escape(money(step.cost_usd) if measured else NOTHING),
        escape(shorten(str(detail))),
    ]


def approval_html(approval: Approval) -> str:
    arguments = json.dumps(approval.arguments, indent=2, sort_keys=True)
    expires = f" (expires {escape(when(approval.expires_at))})" if approval.expires_at else ""
    return (
        f"<b>Step {approval.seq} asks to run <code>{escape(approval.tool_name)}</code></b>"
        f"{expires}<pre>{escape(arguments)}</pre>"
    )


def decisions_html(approvals: Iterable[Approval]) -> str:
    """The run's settled approvals: what was decided, by whom, when, and the comment."""
    lines = [_decision(approval) for approval in approvals if approval.status != "pending"]
    if not lines:
        return ""
    items = "".join(f"<li>{line}</li>" for line in lines)
    return f'<b>Approvals</b><ul style="margin:2px 0">{items}</ul>'


def _decision(approval: Approval) -> str:
    parts = [f"step {approval.seq} <code>{escape(approval.tool_name or '?')}</code>:"]
    parts.append(status_badge(approval.status))
    if approval.decided_by:
        # The REST record names the person when the API gives a name; an event has the subject.
        record = approval.record if approval.record_is_current else None
        name = who(record, "decided_by") if record else person(approval.decided_by)
        parts.append(f"by {escape(name)}")
    if approval.decided_at:
        # The clock time only: "just now" would still say so tomorrow in a saved notebook.
        parts.append(f"at {escape(when(approval.decided_at, relative=False))}")
    if approval.edited_arguments is not None:
        edited = json.dumps(approval.edited_arguments, sort_keys=True)
        parts.append(f"with edited arguments <code>{escape(edited)}</code>")
    if approval.comment:
        parts.append(f"— “{escape(approval.comment)}”")
    return " ".join(parts)


def text_html(text: str) -> str:
    return f'<pre style="white-space:pre-wrap">{escape(text)}</pre>' if text else ""


def outcome_markdown(outcome: Event) -> str:
    """The run's answer as Markdown, then its status, tokens and cost."""
    output, error = outcome.get("output"), outcome.get("error")
    if isinstance(output, str):
        body = output
    elif output is not None:
        body = "```json\n" + json.dumps(output, indent=2) + "\n```"
    else:
        body = ""
    if error:
        body += f"\n\n**Error** `{error.get('code', 'error')}`: {error.get('message', '')}"
    usage = outcome.get("usage") or {}
    footer = (
        f"**{status_label(str(outcome['status']))}** · {usage.get('input_tokens', 0)} tokens in, "
        f"{usage.get('output_tokens', 0)} out · {money(outcome.get('cost_usd') or 0.0)}"
    )
    return f"{body}\n\n---\n{footer}".lstrip()


class Answer(Markdown):
    """The outcome as Markdown that reads as itself where Markdown is not rendered (text/plain),
    rather than as `<IPython.core.display.Markdown object>`."""

    def __repr__(self) -> str:
        return str(self.data)


def answer(outcome: Event) -> Any:
    return Answer(outcome_markdown(outcome))  # type: ignore[no-untyped-call]


def message_html(message: str, error: bool = False) -> str:
    return f'<span style="color:{"#cf222e" if error else MUTED}">{escape(message)}</span>'
