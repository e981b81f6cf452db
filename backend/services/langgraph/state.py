"""A thread as LangGraph clients read it: its values (`{"messages": [...]}`), its interrupts
(approvals waiting for a person), its state and its history (one checkpoint per run).

Everything is derived from our records, the same ones `GET /v1/threads/{id}/state` reads.
"""

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from backend.services.artifacts import read_payloads
from backend.services.langgraph.messages import TOOLS_NODE, input_messages, step_messages
from backend.services.langgraph.vocabulary import iso
from backend.services.threads import steps_by_run, thread_public, thread_runs
from core.models import Approval, ApprovalStatus, Run, RunStatus, RunStep, Thread
from core.objectstore import ObjectStore

DECISIONS = ["approve", "reject"]


@dataclass
class Turn:
    """One run of the thread with its steps (payloads read back)."""

    run: Run
    steps: list[RunStep]

    @property
    def messages(self) -> list[dict[str, Any]]:
        ended = RunStatus(self.run.status).is_terminal
        return [
            *input_messages(self.run.id, self.run.input),
            *step_messages(self.run.id, self.steps, ended=ended),
        ]


def turns(session: Session, store: ObjectStore, thread_id: str) -> list[Turn]:
    runs = thread_runs(session, thread_id)
    steps = steps_by_run(session, [run.id for run in runs])
    return [Turn(run, read_payloads(store, steps[run.id])) for run in runs]


def conversation(kept: list[Turn]) -> list[dict[str, Any]]:
    """The messages of the turns, rolled-back ones left out (as the next model call sees)."""
    return [message for turn in kept if not turn.run.rolled_back for message in turn.messages]


def pending_approvals(session: Session, run_ids: list[str]) -> list[Approval]:
    if not run_ids:
        return []
    return list(
        session.exec(
            select(Approval)
            .where(col(Approval.run_id).in_(run_ids), Approval.status == ApprovalStatus.pending)
            .order_by(col(Approval.step_seq))
        )
    )


def _call_id(messages: list[dict[str, Any]], approval: Approval) -> str | None:
    """The id of the waiting call: the last call of that tool no tool message answers."""
    answered = {m.get("tool_call_id") for m in messages if m["type"] == "tool"}
    for message in reversed(messages):
        for call in message.get("tool_calls") or []:
            if call["name"] == approval.tool_name and call["id"] not in answered:
                return str(call["id"])
    return None


def interrupt(approval: Approval, messages: list[dict[str, Any]]) -> dict[str, Any]:
    """A waiting approval as a LangGraph interrupt: its value says what waits and what may be
    decided; `Command(resume={"decision": ...})` on a new run of the thread decides it."""
    return {
        "id": approval.id,
        "value": {
            "type": "approval",
            "approval_id": approval.id,
            "run_id": approval.run_id,
            "tool_call": {
                "name": approval.tool_name,
                "args": approval.arguments,
                "id": _call_id(messages, approval),
            },
            "decisions": DECISIONS,
            "arguments_editable": True,
            "expires_at": iso(approval.expires_at),
        },
    }


def values(messages: list[dict[str, Any]], interrupts: list[dict[str, Any]]) -> dict[str, Any]:
    shown: dict[str, Any] = {"messages": messages}
    if interrupts:
        shown["__interrupt__"] = interrupts
    return shown


@dataclass
class ThreadView:
    """What the LangGraph shapes of one thread are built from."""

    thread: Thread
    status: str
    turns: list[Turn]
    approvals: list[Approval]

    @property
    def messages(self) -> list[dict[str, Any]]:
        return conversation(self.turns)

    @property
    def interrupts(self) -> list[dict[str, Any]]:
        messages = self.messages
        return [interrupt(approval, messages) for approval in self.approvals]


def view(session: Session, store: ObjectStore, thread: Thread) -> ThreadView:
    kept = turns(session, store, thread.id)
    active = [t.run.id for t in kept if t.run.status == RunStatus.awaiting_approval]
    status = thread_public(session, thread).status.value
    return ThreadView(thread, status, kept, pending_approvals(session, active))


def thread_shape(shown: ThreadView) -> dict[str, Any]:
    """A thread as LangGraph's `Thread`."""
    thread = shown.thread
    interrupts = shown.interrupts
    by_run: dict[str, list[dict[str, Any]]] = {}
    for item in interrupts:
        by_run.setdefault(item["value"]["run_id"], []).append(item)
    return {
        "thread_id": thread.id,
        "created_at": iso(thread.created_at),
        "updated_at": iso(thread.last_run_at or thread.updated_at),
        "metadata": dict(thread.meta or {}),
        "status": shown.status,
        "values": values(shown.messages, []),
        "interrupts": by_run,
        "config": {},
    }


def _checkpoint(thread_id: str, turn: Turn | None) -> dict[str, Any] | None:
    if turn is None:
        return None
    return {
        "thread_id": thread_id,
        "checkpoint_ns": "",
        "checkpoint_id": turn.run.id,
        "checkpoint_map": None,
    }


def _state(thread: Thread, kept: list[Turn], index: int, interrupts: list[Any]) -> dict[str, Any]:
    """The state after the turn at `index` (-1: before any run)."""
    turn = kept[index] if index >= 0 else None
    parent = kept[index - 1] if index >= 1 else None
    messages = conversation(kept[: index + 1])
    at = turn.run.ended_at or turn.run.created_at if turn else thread.created_at
    tasks = []
    if interrupts and turn is not None:
        tasks.append(
            {
                "id": turn.run.id,
                "name": TOOLS_NODE,
                "path": [TOOLS_NODE],
                "error": None,
                "interrupts": interrupts,
                "checkpoint": None,
                "state": None,
                "result": None,
            }
        )
    return {
        "values": values(messages, []),
        "next": [TOOLS_NODE] if interrupts else [],
        "checkpoint": _checkpoint(thread.id, turn)
        or {"thread_id": thread.id, "checkpoint_ns": "", "checkpoint_id": None},
        "metadata": {
            "source": "loop" if turn else "input",
            "step": index + 1,
            "run_id": turn.run.id if turn else None,
            "assistant_id": turn.run.agent_id if turn else None,
            "version": turn.run.version_number if turn else None,
            "status": RunStatus(turn.run.status).value if turn else None,
            "rolled_back": turn.run.rolled_back if turn else False,
        },
        "created_at": iso(at),
        "parent_checkpoint": _checkpoint(thread.id, parent),
        "tasks": tasks,
        "interrupts": interrupts,
    }


def thread_state(shown: ThreadView) -> dict[str, Any]:
    """The current state: the conversation, and the interrupts waiting."""
    return _state(shown.thread, shown.turns, len(shown.turns) - 1, shown.interrupts)


def history(shown: ThreadView, limit: int, before: str | None) -> list[dict[str, Any]]:
    """One state per run (the checkpoint after it), newest first; `before` a checkpoint id."""
    kept = shown.turns
    last = len(kept) - 1
    if before is not None:
        ids = [turn.run.id for turn in kept]
        last = ids.index(before) - 1 if before in ids else -2
    states = []
    for index in range(last, -1, -1):
        interrupts = shown.interrupts if index == len(kept) - 1 else []
        states.append(_state(shown.thread, kept, index, interrupts))
        if len(states) == limit:
            break
    return states
