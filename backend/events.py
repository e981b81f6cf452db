"""A run's ordered event log: a Redis stream `run:{run_id}` with REDIS_URL, else a database table.

Events carry a per-run monotonic id (1, 2, 3, ...), so a client resuming after id N gets exactly
the events after N, from either store. The log is for following a run live; the durable record of
what a run did is its steps in the database.
"""

import asyncio
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import redis.asyncio as aioredis
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from backend.db import TenantScope, scoped_session
from backend.models import Approval, Run, RunEventRow, RunStep, StepKind
from backend.models.common import utcnow
from backend.settings import CommonSettings

# Enough for a long run's deltas; older events of a capped stream are trimmed.
STREAM_MAX_EVENTS = 50_000
STREAM_TTL_SECONDS = 7 * 24 * 3600
DB_POLL_SECONDS = 0.03

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
    async def append(self, tenant_id: str, run_id: str, events: Sequence[NewEvent]) -> list[int]:
        """Append in order; returns the ids given."""
        ...

    def stage(self, session: Session, run_id: str, events: Sequence[NewEvent]) -> list[int] | None:
        """Write the events with the caller's transaction if this store can (their ids), else
        None: then the caller appends them once it has committed."""
        ...

    async def read(self, tenant_id: str, run_id: str, after: int, limit: int) -> list[RunEvent]:
        """Events with id > `after`, oldest first."""
        ...

    async def wait(self, tenant_id: str, run_id: str, after: int, within: float) -> list[RunEvent]:
        """Like `read`, but waits up to `within` seconds for one to arrive; [] if none did."""
        ...

    async def close(self) -> None: ...


def _now() -> str:
    return utcnow().isoformat().replace("+00:00", "Z")


# INCRBY reserves the ids, then each event is added with the explicit stream id 0-<n>: atomic,
# so events from the API and from workers interleave without gaps or reordering.
_APPEND = """
local last = redis.call('INCRBY', KEYS[2], #ARGV / 3)
local first = last - #ARGV / 3 + 1
for i = 0, #ARGV / 3 - 1 do
  redis.call('XADD', KEYS[1], 'MAXLEN', '~', tonumber(ARGV_MAX), '0-' .. (first + i),
             't', ARGV[i * 3 + 1], 'a', ARGV[i * 3 + 2], 'd', ARGV[i * 3 + 3])
end
redis.call('EXPIRE', KEYS[1], ARGV_TTL)
redis.call('EXPIRE', KEYS[2], ARGV_TTL)
return first
""".replace("ARGV_MAX", str(STREAM_MAX_EVENTS)).replace("ARGV_TTL", str(STREAM_TTL_SECONDS))


class RedisEventLog:
    def __init__(self, url: str) -> None:
        self.redis = aioredis.Redis.from_url(url, decode_responses=True)
        self._append = self.redis.register_script(_APPEND)

    @staticmethod
    def _keys(run_id: str) -> list[str]:
        return [f"run:{run_id}", f"run:{run_id}:last"]

    async def append(self, tenant_id: str, run_id: str, events: Sequence[NewEvent]) -> list[int]:
        if not events:
            return []
        at = _now()
        args: list[str] = []
        for event_type, data in events:
            args += [event_type, at, json.dumps(data, separators=(",", ":"), default=str)]
        first = int(await self._append(keys=self._keys(run_id), args=args))
        return list(range(first, first + len(events)))

    def stage(self, session: Session, run_id: str, events: Sequence[NewEvent]) -> list[int] | None:
        return None  # a stream is not part of a database transaction

    def _decode(self, run_id: str, entries: list[Any]) -> list[RunEvent]:
        return [
            RunEvent(
                int(entry_id.split("-", 1)[1]),
                run_id,
                fields["t"],
                fields["a"],
                json.loads(fields["d"]),
            )
            for entry_id, fields in entries
        ]

    async def read(self, tenant_id: str, run_id: str, after: int, limit: int) -> list[RunEvent]:
        entries: Any = await self.redis.xrange(f"run:{run_id}", min=f"(0-{after}", count=limit)
        return self._decode(run_id, entries)

    async def wait(self, tenant_id: str, run_id: str, after: int, within: float) -> list[RunEvent]:
        answer: Any = await self.redis.xread(
            {f"run:{run_id}": f"0-{after}"}, count=500, block=max(1, int(within * 1000))
        )
        return self._decode(run_id, answer[0][1]) if answer else []

    async def close(self) -> None:
        await self.redis.aclose()


class DatabaseEventLog:
    """The embedded default: a table, followed by polling."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def stage(self, session: Session, run_id: str, events: Sequence[NewEvent]) -> list[int] | None:
        """Add the events to the caller's transaction (it commits them with its own writes).

        Numbers come from a counter on the run's row: the update locks the row until commit,
        so concurrent writers of one run get consecutive numbers in commit order.
        """
        if not events:
            return []
        last = session.execute(
            update(Run)
            .where(col(Run.id) == run_id)
            .values(event_count=col(Run.event_count) + len(events))
            .returning(col(Run.event_count)),
            execution_options={"synchronize_session": False},
        ).scalar_one()
        at = utcnow()
        first = last - len(events) + 1
        for number, (event_type, data) in enumerate(events, start=first):
            session.add(
                RunEventRow(
                    run_id=run_id,
                    number=number,
                    type=event_type,
                    data=json.loads(json.dumps(data, default=str)),
                    created_at=at,
                )
            )
        return list(range(first, last + 1))

    def _append(self, tenant_id: str, run_id: str, events: Sequence[NewEvent]) -> list[int]:
        with scoped_session(self.engine, TenantScope(tenant_id)) as session:
            numbers = self.stage(session, run_id, events)
            session.commit()
        return numbers or []

    async def append(self, tenant_id: str, run_id: str, events: Sequence[NewEvent]) -> list[int]:
        if not events:
            return []
        return await asyncio.to_thread(self._append, tenant_id, run_id, events)

    def _read(self, tenant_id: str, run_id: str, after: int, limit: int) -> list[RunEvent]:
        with scoped_session(self.engine, TenantScope(tenant_id)) as session:
            rows = session.exec(
                select(RunEventRow)
                .where(RunEventRow.run_id == run_id, RunEventRow.number > after)
                .order_by(col(RunEventRow.number))
                .limit(limit)
            ).all()
            return [
                RunEvent(row.number, run_id, row.type, _iso(row.created_at), dict(row.data))
                for row in rows
            ]

    async def read(self, tenant_id: str, run_id: str, after: int, limit: int) -> list[RunEvent]:
        return await asyncio.to_thread(self._read, tenant_id, run_id, after, limit)

    async def wait(self, tenant_id: str, run_id: str, after: int, within: float) -> list[RunEvent]:
        deadline = asyncio.get_running_loop().time() + within
        while True:
            events = await self.read(tenant_id, run_id, after, 500)
            if events or asyncio.get_running_loop().time() >= deadline:
                return events
            await asyncio.sleep(DB_POLL_SECONDS)

    async def close(self) -> None:
        pass


def _iso(moment: datetime) -> str:
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
        "expires_at": _iso(approval.expires_at) if approval.expires_at else None,
    }


def approval_decided_event(approval: Approval) -> NewEvent:
    return "approval.decided", {
        "approval_id": approval.id,
        "seq": approval.step_seq,
        "status": str(approval.status),
        "decided_by": approval.decided_by,
        "comment": approval.comment,
        "arguments": approval.edited_arguments,
    }


def event_log_from_settings(settings: CommonSettings, engine: Engine) -> EventLog:
    if settings.redis_url:
        return RedisEventLog(settings.redis_url)
    return DatabaseEventLog(engine)
