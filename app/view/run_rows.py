"""The run page's rows, from the client's run fold (`client.run_state`).

A row shows the step or approval as the REST API listed it (payloads, links, who decided) while
that record is current, and what the events have said since where they are ahead of it.
"""

import json
from datetime import datetime
from typing import Any

from app.view.format import duration, seconds_between, short
from app.view.runs import ApprovalView, StepView, approval_view, step_view
from client.run_state import Approval, Step

SUMMARY_CHARACTERS = 160


def step_row(step: Step, now: datetime | None = None) -> StepView:
    """The step's row; a step still running shows how long it has run until `now`."""
    if step.record is not None and step.record_is_current:
        row = step_view(step.record)
        row.text = row.text or step.text
    else:
        row = step_view(step.as_record())
        # The record's full text once it has one, else the stream's.
        row.text = row.text or step.text
        if step.status == "running":
            row.summary = "retrying…" if step.attempt > 1 else "running…"
        else:
            row.summary = short(step.summary or "", SUMMARY_CHARACTERS)
            if step.duration_ms is not None:
                row.duration = duration(step.duration_ms / 1000)
    if row.error and row.summary and row.summary in row.error:
        row.summary = ""  # the error's callout says it
    if row.status == "running" and not row.ended_at and now is not None:
        row.duration = duration(seconds_between(row.started_at, now.isoformat()))
    return row


def approval_row(
    approval: Approval, agent_names: dict[str, str], me: tuple[str, str] | None
) -> ApprovalView:
    return approval_view(approval.as_record(), agent_names, me)


def request_text(request: dict[str, Any] | None) -> str:
    """A model step's request as people read it: the instructions, each message (tool calls
    and results included), then the tools offered and the parameters."""
    if not request:
        return "This step recorded no request (it ran before requests were recorded)."
    lines = ["Instructions:", str(request.get("system_prompt") or "(none)"), ""]
    dropped = int(request.get("dropped") or 0)
    if dropped:
        lines += [f"({dropped} older messages left out by the context window)", ""]
    for message in request.get("messages") or []:
        role = str(message.get("role"))
        if role == "tool":
            failed = " (failed)" if message.get("is_error") else ""
            lines.append(f"tool {message.get('name') or ''}{failed}: {message.get('content')}")
            continue
        lines.append(f"{role}: {message.get('content') or ''}".rstrip())
        for call in message.get("tool_calls") or []:
            arguments = json.dumps(call.get("arguments"), ensure_ascii=False)
            lines.append(f"  -> {call.get('name')}({arguments})")
    tools = ", ".join(str(tool.get("name")) for tool in request.get("tools") or []) or "none"
    parameters = json.dumps(request.get("parameters") or {}, ensure_ascii=False, sort_keys=True)
    lines += ["", f"Tools offered: {tools}", f"Parameters: {parameters}"]
    return "\n".join(lines)
