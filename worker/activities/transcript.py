"""What a model step is sent: the thread's earlier runs, then this run's input and steps.

The earlier runs have ended, so their messages never change: each worker keeps them per
thread and, for the thread's next run, reads only the runs added since, so a model step's read
does not grow with the thread's length.
"""

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import ColumnElement, and_, or_
from sqlmodel import Session, col, select

from core.models import Run, RunStep
from core.transcript import Entry, input_entries, step_entries
from worker.types import Message, ToolCall

THREADS_CACHED = 256


@dataclass(frozen=True)
class Position:
    """Where a run stands in its thread: runs are ordered by creation, then id."""

    created_at: datetime
    run_id: str

    def before(self, other: "Position") -> bool:
        return (self.created_at, self.run_id) < (other.created_at, other.run_id)


@dataclass
class ThreadPrefix:
    """The messages of a thread's runs up to `through`, the last run read (kept or rolled
    back); None before any."""

    through: Position | None = None
    entries: list[Entry] = field(default_factory=list)


class ThreadTranscripts:
    """Per worker: each thread's earlier runs as messages, extended as the thread grows."""

    def __init__(self, size: int = THREADS_CACHED) -> None:
        self.size = size
        self._threads: OrderedDict[str, ThreadPrefix] = OrderedDict()

    def before(
        self,
        session: Session,
        thread_id: str,
        run: Position,
        read_payloads: Callable[[Session, list[RunStep]], None],
    ) -> list[Entry]:
        """The messages of the thread's runs created before `run` (rolled-back runs left out)."""
        prefix = self._threads.get(thread_id) or ThreadPrefix()
        if prefix.through is not None and not prefix.through.before(run):
            prefix = ThreadPrefix()  # read for a later run than this one: read from the start
        statement = select(Run).where(col(Run.thread_id) == thread_id, _position_before(run))
        if prefix.through is not None:
            statement = statement.where(_position_after(prefix.through))
        runs = list(session.exec(statement.order_by(col(Run.created_at), col(Run.id))))
        if runs:
            kept = [earlier for earlier in runs if not earlier.rolled_back]
            steps = self._steps_of(session, [earlier.id for earlier in kept], read_payloads)
            entries = list(prefix.entries)
            for earlier in kept:
                entries += input_entries(earlier.id, earlier.input)
                entries += step_entries(earlier.id, steps.get(earlier.id, []), ended=True)
            last = runs[-1]
            prefix = ThreadPrefix(Position(last.created_at, last.id), entries)
        self._remember(thread_id, prefix)
        return prefix.entries

    @staticmethod
    def _steps_of(
        session: Session,
        run_ids: list[str],
        read_payloads: Callable[[Session, list[RunStep]], None],
    ) -> dict[str, list[RunStep]]:
        if not run_ids:
            return {}
        rows = list(
            session.exec(
                select(RunStep)
                .where(col(RunStep.run_id).in_(run_ids))
                .order_by(col(RunStep.run_id), col(RunStep.seq))
            )
        )
        read_payloads(session, rows)
        grouped: dict[str, list[RunStep]] = {}
        for row in rows:
            grouped.setdefault(row.run_id, []).append(row)
        return grouped

    def _remember(self, thread_id: str, prefix: ThreadPrefix) -> None:
        self._threads[thread_id] = prefix
        self._threads.move_to_end(thread_id)
        while len(self._threads) > self.size:
            self._threads.popitem(last=False)


def _position_after(position: Position) -> ColumnElement[bool]:
    return or_(
        col(Run.created_at) > position.created_at,
        and_(col(Run.created_at) == position.created_at, col(Run.id) > position.run_id),
    )


def _position_before(position: Position) -> ColumnElement[bool]:
    return or_(
        col(Run.created_at) < position.created_at,
        and_(col(Run.created_at) == position.created_at, col(Run.id) < position.run_id),
    )


def conversation_messages(entries: list[Entry]) -> list[Message]:
    """The provider-neutral conversation; `system` entries go to the instructions instead
    (`core.transcript.instructions`)."""
    return [
        Message(
            entry.role,
            entry.content,
            [ToolCall(c["id"], c["name"], dict(c["arguments"])) for c in entry.tool_calls],
            tool_call_id=entry.tool_call_id,
            name=entry.name,
            is_error=entry.is_error,
        )
        for entry in entries
        if entry.role != "system"
    ]
