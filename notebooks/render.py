"""HTML and Markdown for the widgets: steps, status, approvals, a run's outcome."""

import json
from html import escape

from client.run_state import Approval, Event, Step

STATUS_COLORS = {
    "succeeded": "#1a7f37",
    "failed": "#cf222e",
    "timed_out": "#cf222e",
    "cancelled": "#6e7781",
    "awaiting_approval": "#9a6700",
}
STEP_MARKS = {"running": "⏳", "succeeded": "✓", "failed": "✗"}
SUMMARY_CHARACTERS = 120


def money(cost_usd: float) -> str:
    if 0 < cost_usd < 0.00005:
        return "<$0.0001"
    return f"${cost_usd:.4f}"


def duration(milliseconds: float | None) -> str:
    if milliseconds is None:
        return ""
    return f"{milliseconds:.0f} ms" if milliseconds < 1000 else f"{milliseconds / 1000:.1f} s"


def shorten(text: str, width: int = SUMMARY_CHARACTERS) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def status_html(status: str, run_id: str | None) -> str:
    if run_id is None:
        return "<i>no run yet</i>"
    color = STATUS_COLORS.get(status, "#0969da")
    return f'<b style="color:{color}">{escape(status)}</b> <code>{escape(run_id)}</code>'


def steps_html(steps: list[Step]) -> str:
    if not steps:
        return "<i>no steps yet</i>"
    rows = "".join(_step_row(step) for step in steps)
    titles = ["", "#", "step", "time", "tokens", "cost", ""]
    head = "<tr>" + "".join(f"<th>{title}</th>" for title in titles) + "</tr>"
    return f"<table>{head}{rows}</table>"


def _step_row(step: Step) -> str:
    mark = STEP_MARKS.get(step.status, "•")
    name = f"{step.kind} {step.name}" + (f" (attempt {step.attempt})" if step.attempt > 1 else "")
    tokens = step.input_tokens + step.output_tokens
    detail = (step.error or {}).get("message") or step.summary or ""
    cells = [
        mark,
        str(step.seq),
        name,
        duration(step.duration_ms),
        str(tokens) if step.status != "running" else "",
        money(step.cost_usd) if step.status != "running" else "",
        shorten(str(detail)),
    ]
    return "<tr>" + "".join(f"<td>{escape(cell)}</td>" for cell in cells) + "</tr>"


def approval_html(approval: Approval) -> str:
    arguments = json.dumps(approval.arguments, indent=2, sort_keys=True)
    expires = f" (expires {escape(approval.expires_at)})" if approval.expires_at else ""
    return (
        f"<b>Step {approval.seq} asks to run <code>{escape(approval.tool_name)}</code></b>"
        f"{expires}<pre>{escape(arguments)}</pre>"
    )


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
        f"**{outcome['status']}** · {usage.get('input_tokens', 0)} tokens in, "
        f"{usage.get('output_tokens', 0)} out · {money(outcome.get('cost_usd') or 0.0)}"
    )
    return f"{body}\n\n---\n{footer}".lstrip()


def message_html(message: str, error: bool = False) -> str:
    return f'<span style="color:{"#cf222e" if error else "#57606a"}">{escape(message)}</span>'
