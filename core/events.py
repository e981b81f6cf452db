"""A run's events: what they are, how they are numbered, and the log they are kept in.

Events carry a per-run monotonic id (1, 2, 3, ...) given by the database, so a client resuming
after id N gets exactly the events after N. The stores are in `core.event_store`.
"""

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlmodel import Session

from core.models import Approval, Run, RunStep, StepKind
from core.models.common import utcnow

NewEvent = tuple[str, dict[str, Any]]


@dataclass(frozen=True)
class RunEvent:
    id: int
    run_id: str
    type: str
    at: str  # ISO 8601, UTC
    data: dict[str, Any]

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "run_id": self.run_id, "type": self.type, "at": self.at, **self.data}


class EventLog(Protocol):
    """Events are always written to the database, numbered by the run's counter; a store may
    also fan them out to live followers once they are committed."""

    def stage(self, session: Session, run_id: str, events: Sequence[NewEvent]) -> list[RunEvent]:
        """Add the events to the caller's transaction; once it has committed, hand what this
        returns (the events with their ids) to `publish`."""
        ...

    async def publish(self, run_id: str, staged: Sequence[RunEvent]) -> None:
        """Tell live followers about committed events; never raises for the fan-out."""
        ...

    async def append(self, tenant_id: str, run_id: str, events: Sequence[NewEvent]) -> list[int]:
        """Record the events in a transaction of their own, then publish them; their ids."""
        ...

    async def read(self, tenant_id: str, run_id: str, after: int, limit: int) -> list[RunEvent]:
        """Events with id > `after`, oldest first, without gaps."""
        ...

    async def wait(self, tenant_id: str, run_id: str, after: int, within: float) -> list[RunEvent]:
        """Like `read`, but waits up to `within` seconds for one to arrive; [] if none did."""
        ...

    async def forget(self, run_ids: Sequence[str]) -> None:
        """Drop what a store keeps of deleted runs' events besides the database (whose rows
        the deletion removed); never raises: what is left expires on its own."""
        ...

    async def close(self) -> None: ...


def iso(moment: datetime) -> str:
    """An event's `at`: ISO 8601 in UTC, the same whether the event was just staged or read back."""
    return moment.isoformat().replace("+00:00", "Z")


SUMMARY_CHARACTERS = 200


def _summary(value: Any) -> str:
    # Sorted keys: the same summary live and when rebuilt from a (reordering) JSONB column.
    text = value if isinstance(value, str) else json.dumps(value, default=str, sort_keys=True)
    return text if len(text) <= SUMMARY_CHARACTERS else text[: SUMMARY_CHARACTERS - 1] + "…"


def status_event(status: str) -> NewEvent:
    return "run.status", {"status": status}


def step_started_event(seq: int, kind: str, name: str, attempt: int) -> NewEvent:
    return "step.started", {"seq": seq, "kind": kind, "name": name, "attempt": attempt}


def step_completed_event(step: RunStep) -> NewEvent:
    """What a timeline shows of a finished step: its outcome, usage and a short summary."""
    output = step.output or {}
    if step.error:
        summary = str(step.error.get("message", ""))
    elif step.kind == StepKind.model and output.get("tool_calls"):
        summary = "calls " + ", ".join(call["name"] for call in output["tool_calls"])
    elif step.kind == StepKind.model:
        summary = output.get("text") or ""
    else:
        summary = output.get("content", output)
    ended = step.ended_at or utcnow()
    return "step.completed", {
        "seq": step.seq,
        "kind": str(step.kind),
        "name": step.name,
        "status": str(step.status),
        "attempt": step.attempt,
        "usage": {"input_tokens": step.input_tokens, "output_tokens": step.output_tokens},
        "cost_usd": step.cost_usd,
        "duration_ms": round((ended - step.started_at).total_seconds() * 1000, 1),
        "summary": _summary(summary),
        "error": step.error,
    }


def run_completed_event(
    status: str,
    output: Any = None,
    error: dict[str, Any] | None = None,
    input_tokens: int = 0,
    output_tokens: int = 0,
    cost_usd: float = 0.0,
) -> NewEvent:
    """The last event of every run, whatever its ending."""
    return "run.completed", {
        "status": status,
        "output": output,
        "error": error,
        "usage": {"input_tokens": input_tokens, "output_tokens": output_tokens},
        "cost_usd": cost_usd,
    }


def run_ended_event(run: Run) -> NewEvent:
    return run_completed_event(
        str(run.status), run.output, run.error, run.input_tokens, run.output_tokens, run.cost_usd
    )


def approval_requested_event(approval: Approval) -> NewEvent:
    return "approval.requested", {
        "approval_id": approval.id,
        "seq": approval.step_seq,
        "tool_name": approval.tool_name,
        "arguments": approval.arguments,
        "expires_at": iso(approval.expires_at) if approval.expires_at else None,
    }


def approval_decided_event(approval: Approval) -> NewEvent:
    return "approval.decided", {
        "approval_id": approval.id,
        "seq": approval.step_seq,
        "status": str(approval.status),
        "decided_by": approval.decided_by,
        "decided_by_name": approval.decided_by_name,
        "comment": approval.comment,
        "arguments": approval.edited_arguments,
    }
