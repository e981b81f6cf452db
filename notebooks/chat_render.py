"""HTML for the chat widget: the recorded conversation, and the turn under way."""

import json
from collections.abc import Iterable
from html import escape
from typing import Any

from client.run_state import RunState, Step
from notebooks.render import MUTED, STEP_MARKS, shorten, status_html, step_status

USER_STYLE = (
    "margin:6px 0 6px 15%;padding:6px 10px;background:#ddf4ff;border-radius:8px;"
    "white-space:pre-wrap"
)
ASSISTANT_STYLE = (
    "margin:6px 15% 6px 0;padding:6px 10px;background:#f6f8fa;border-radius:8px;"
    "white-space:pre-wrap"
)
TOOL_STYLE = f"margin:2px 15% 2px 12px;font-size:12px;color:{MUTED}"
SYSTEM_STYLE = f"margin:2px 0;font-size:12px;color:{MUTED};font-style:italic"
ERROR_COLOR = "#cf222e"
STREAMING_MARK = "▍"  # where the answer is still being written
PREVIEW_CHARACTERS = 60


def _bubble(who: str, text: str, style: str) -> str:
    return f'<div style="{style}"><b>{escape(who)}</b><br>{escape(text)}</div>'


def user_html(text: str) -> str:
    return _bubble("You", text, USER_STYLE)


def assistant_html(text: str) -> str:
    return _bubble("Assistant", text, ASSISTANT_STYLE)


def _pretty(text: str) -> str:
    """A tool's JSON text indented, or the text as it is."""
    try:
        return json.dumps(json.loads(text), indent=2, sort_keys=True)
    except ValueError:
        return text


def _tool_result_preview(result: dict[str, Any] | None) -> str:
    if result is None:
        return " …"
    content = str(result.get("content") or "")
    try:
        parsed = json.loads(content)
    except ValueError:
        parsed = content
    if isinstance(parsed, dict) and "result" in parsed:
        parsed = parsed["result"]  # the built-in tools answer {"result": ..., ...}: the gist
    flat = parsed if isinstance(parsed, str) else json.dumps(parsed, sort_keys=True)
    mark = "✗" if result.get("is_error") else "→"
    return f" {mark} {shorten(flat, PREVIEW_CHARACTERS)}"


def tool_call_html(call: dict[str, Any], result: dict[str, Any] | None) -> str:
    """A tool call and its result, collapsed: one line, opened for the arguments and result."""
    arguments = json.dumps(call.get("arguments") or {}, sort_keys=True)
    summary = f"🔧 {call.get('name', '?')}({shorten(arguments, PREVIEW_CHARACTERS)})"
    summary += _tool_result_preview(result)
    color = f";color:{ERROR_COLOR}" if result and result.get("is_error") else ""
    body = f"<pre>{escape(json.dumps(call.get('arguments') or {}, indent=2, sort_keys=True))}</pre>"
    if result is not None:
        body += f"<b>result</b><pre>{escape(_pretty(str(result.get('content') or '')))}</pre>"
    else:
        body += "<i>no result recorded</i>"
    return (
        f'<details style="{TOOL_STYLE}"><summary style="cursor:pointer{color}">'
        f"{escape(summary)}</summary>{body}</details>"
    )


def conversation_html(messages: Iterable[dict[str, Any]]) -> str:
    """The thread's messages as a chat: each tool call with its result under the message that
    made it."""
    messages = list(messages)
    results = {m["tool_call_id"]: m for m in messages if m["role"] == "tool" and m["tool_call_id"]}
    shown_results: set[str] = set()
    parts: list[str] = []
    for message in messages:
        role, content = message["role"], str(message.get("content") or "")
        if role == "user":
            parts.append(user_html(content))
        elif role == "system":
            parts.append(f'<div style="{SYSTEM_STYLE}">system: {escape(content)}</div>')
        elif role == "assistant":
            if content:
                parts.append(assistant_html(content))
            for call in message.get("tool_calls") or []:
                result = results.get(str(call.get("id")))
                shown_results.add(str(call.get("id")))
                parts.append(tool_call_html(call, result))
        elif message.get("tool_call_id") not in shown_results:
            # A result whose call is not in view (a payload not read back): shown on its own.
            call = {"id": message.get("tool_call_id"), "name": message.get("name") or "tool"}
            parts.append(tool_call_html(call, message))
    if not parts:
        return f'<i style="color:{MUTED}">No messages yet: say something below.</i>'
    return "".join(parts)


def _live_tool_html(step: Step) -> str:
    status = step_status(step)
    detail = (step.error or {}).get("message") or step.summary or ""
    line = f"{STEP_MARKS.get(status, '•')} 🔧 {step.name}"
    line += f": {shorten(str(detail), PREVIEW_CHARACTERS)}" if detail else ""
    return f'<div style="{TOOL_STYLE}">{escape(line)}</div>'


def live_turn_html(sent: str, state: RunState) -> str:
    """The turn under way: what was sent, the tools called so far, the answer as it streams."""
    parts = [user_html(sent)]
    for step in state.step_list():
        if step.kind == "tool":
            parts.append(_live_tool_html(step))
    writing = "" if state.finished else STREAMING_MARK
    if state.text or not state.finished:
        parts.append(assistant_html((state.text or "…") + writing))
    parts.append(f'<div style="font-size:12px">{status_html(state.status, state.run_id)}</div>')
    return "".join(parts)


def thread_html(thread_id: str | None, agent_name: str, version: int | str) -> str:
    pinned = f"v{version}" if isinstance(version, int) else str(version)
    where = (
        f"thread <code>{escape(thread_id)}</code>"
        if thread_id
        else "a new thread (created with the first message)"
    )
    return f"<b>{escape(agent_name)}</b> {escape(pinned)} · {where}"
