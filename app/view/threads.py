"""Threads as the pages show them: the list's rows, and a conversation as chat rows.

A conversation (`GET /v1/threads/{id}/state`) becomes one row per thing to draw: a divider where
each run (turn) starts, with the version it ran (from `/history`), the user's and the
assistant's messages, and each tool call with its result (matched by call id) right after the
assistant message that made it.
"""

import json
from dataclasses import dataclass
from typing import Any

from app.view.format import NONE, pretty, short, short_id, when

# Thread statuses (the API's `ThreadStatus`), for the list's filter.
THREAD_STATUSES = ("idle", "busy", "interrupted", "error")
VERSION_CHOICE_LATEST = "latest"


@dataclass
class ThreadRow:
    id: str = ""
    short_id: str = ""
    status: str = ""
    agent_id: str = ""
    agent_name: str = ""
    runs: int = 0
    last_run: str = ""
    created: str = ""
    metadata: str = ""


def metadata_text(metadata: Any) -> str:
    """`agent=support · user=ada`: a thread's labels on one line."""
    if not isinstance(metadata, dict) or not metadata:
        return ""
    parts = [
        f"{key}={value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)}"
        for key, value in sorted(metadata.items())
    ]
    return short(" · ".join(parts), 120)


def thread_row(thread: dict[str, Any], agent_names: dict[str, str] | None = None) -> ThreadRow:
    agent_id = str(thread.get("agent_id") or "")
    names = agent_names or {}
    labelled = str((thread.get("metadata") or {}).get("agent") or "")
    return ThreadRow(
        id=str(thread["id"]),
        short_id=short_id(str(thread["id"])),
        status=str(thread.get("status") or ""),
        agent_id=agent_id,
        # Before its first run a thread has no agent; its `agent` label may name one.
        agent_name=names.get(agent_id, short_id(agent_id)) if agent_id else labelled or NONE,
        runs=int(thread.get("runs") or 0),
        last_run=when(thread.get("last_run_at"), seconds=True),
        created=when(thread.get("created_at"), seconds=True),
        metadata=metadata_text(thread.get("metadata")),
    )


@dataclass
class ChatRow:
    """One thing of the conversation to draw; `kind` says which: `turn` (a run starts: its
    version and status), `user`, `assistant`, `system`, or `tool` (a call and its result)."""

    key: str = ""
    kind: str = "assistant"
    text: str = ""
    run_id: str = ""
    run_short: str = ""
    version: str = ""
    status: str = ""
    turn: int = 0
    tool_name: str = ""
    arguments: str = ""
    result: str = ""
    is_error: bool = False
    answered: bool = False


def tool_result_text(content: str) -> str:
    """A tool's result as people read it: JSON pretty-printed, anything else as it is."""
    try:
        return pretty(json.loads(content))
    except ValueError:
        return content


def _turns(history: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {str(turn["run_id"]): turn for turn in history}


def _tool_row(key: str, call: dict[str, Any], answer: dict[str, Any] | None) -> ChatRow:
    return ChatRow(
        key=key,
        kind="tool",
        run_id=str(answer.get("run_id") if answer else ""),
        tool_name=str(call.get("name") or (answer or {}).get("name") or "tool"),
        arguments=pretty(call.get("arguments") or {}),
        result=tool_result_text(str(answer.get("content") or "")) if answer else "",
        is_error=bool(answer.get("is_error")) if answer else False,
        answered=answer is not None,
    )


def _answers(messages: list[dict[str, Any]]) -> tuple[dict[str, dict[str, Any]], set[int]]:
    """Each tool call's answer by call id, and the messages naming no call that answer one.

    A tool step cut short before it ran (a cancel while it waited for approval) may name no
    call; it answers the first call of its run to that tool still unanswered, or answered only
    by the closing note a run's end adds (no step): the step says more.
    """
    answers: dict[str, dict[str, Any]] = {}
    taken: set[int] = set()
    for message in messages:
        if message.get("role") == "tool" and message.get("tool_call_id"):
            answers[str(message["tool_call_id"])] = message
    calls = [
        (str(m.get("run_id")), str(call.get("name")), str(call.get("id") or ""))
        for m in messages
        for call in m.get("tool_calls") or []
    ]
    for index, message in enumerate(messages):
        if message.get("role") != "tool" or message.get("tool_call_id"):
            continue
        for run_id, name, call_id in calls:
            known = answers.get(call_id)
            closing = known is not None and known.get("step_seq") is None
            if (run_id, name) == (str(message.get("run_id")), str(message.get("name"))) and (
                known is None or closing
            ):
                answers[call_id] = message
                taken.add(index)
                break
    return answers, taken


def chat_rows(state: dict[str, Any], history: list[dict[str, Any]]) -> list[ChatRow]:
    """The conversation, oldest first, with a `turn` row where each run's messages start."""
    messages = list(state.get("messages") or [])
    turns = _turns(history)
    answers, taken = _answers(messages)
    called: set[str] = set()
    rows: list[ChatRow] = []
    run_id, turn_number = "", 0
    for index, message in enumerate(messages):
        key = f"m{index}"
        if str(message.get("run_id")) != run_id:
            run_id = str(message.get("run_id"))
            turn_number += 1
            turn = turns.get(run_id, {})
            rows.append(
                ChatRow(
                    key=f"turn-{run_id}",
                    kind="turn",
                    run_id=run_id,
                    run_short=short_id(run_id),
                    version=f"v{turn['version']}" if turn.get("version") else "",
                    status=str(turn.get("status") or ""),
                    turn=turn_number,
                )
            )
        role = str(message.get("role"))
        if role == "tool":
            if index in taken or str(message.get("tool_call_id")) in called:
                continue  # shown with its call
            rows.append(_tool_row(key, {"name": message.get("name")}, message))
        else:
            text = str(message.get("content") or "")
            if text or role != "assistant":
                rows.append(ChatRow(key=key, kind=role, text=text, run_id=run_id))
            for number, call in enumerate(message.get("tool_calls") or []):
                call_id = str(call.get("id") or "")
                called.add(call_id)
                row = _tool_row(f"{key}-{number}", call, answers.get(call_id))
                row.run_id = run_id
                rows.append(row)
    return rows


def version_choices(numbers: list[int]) -> list[str]:
    """What the chat's version select offers: `latest`, then the numbers, newest first."""
    return [VERSION_CHOICE_LATEST, *[str(n) for n in sorted(set(numbers), reverse=True)]]


def version_wanted(choice: str) -> int | str:
    """The `version` a run is started with, from the select's choice."""
    return int(choice) if choice.isdigit() else VERSION_CHOICE_LATEST


def thread_agent(thread: dict[str, Any], agents: list[dict[str, Any]]) -> str:
    """The agent the next turn runs: the latest run's, else the one the thread's `agent`
    label names (by id or name), else none ("")."""
    if thread.get("agent_id"):
        return str(thread["agent_id"])
    label = str((thread.get("metadata") or {}).get("agent") or "")
    found = next((a for a in agents if label in (a.get("id"), a.get("name"))), None)
    return str(found["id"]) if found else ""
