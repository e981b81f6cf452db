"""Following a run for LangGraph clients: its stream parts with resumable ids, and its outcome
(for `wait` and `join`).

A part's id is `<event id>-<n>`: the nth part our event number `<event id>` made (the parts a
stream sends before any event carry the id of the event it starts after). A reconnect with
`Last-Event-ID` folds the run's events again up to that part and sends what follows it, so
nothing is missed and nothing repeats. The fold needs the ended steps' records: they are read
once when the stream opens, and again only for a step that ended since.
"""

import asyncio
from collections.abc import AsyncIterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from backend.errors import invalid
from backend.services.artifacts import read_payloads
from backend.services.langgraph import state
from backend.services.langgraph.messages import input_messages
from backend.services.langgraph.stream import Part, StreamSubject, Translator
from backend.services.run_follow import PAGE, RunFollower, Sources
from backend.services.runs import get_run
from backend.services.threads import get_thread
from core.db import TenantScope, scoped_session
from core.events import RunEvent
from core.models import Approval, ApprovalStatus, RunStatus, RunStep
from core.models.limits import DB_INT_MAX
from core.objectstore import ObjectStore

ERRORED = (RunStatus.failed, RunStatus.timed_out)
# The events after which a run may have ended or begun to wait for a person.
SETTLING = ("run.completed", "approval.requested")


@dataclass(frozen=True, order=True)
class PartId:
    event: int
    part: int

    def __str__(self) -> str:
        return f"{self.event}-{self.part}"


def last_event_id(raw: str | None) -> PartId | None:
    """`Last-Event-ID` as this API's stream parts carry it (`<event>-<part>`)."""
    if raw is None or raw == "":
        return None
    event, _, part = raw.partition("-")
    if not (event.isdigit() and part.isdigit()) or int(event) > DB_INT_MAX or len(part) > 6:
        raise invalid("Last-Event-ID", "header", "not a stream part id of this API")
    return PartId(int(event), int(part))


@dataclass(frozen=True)
class Reader:
    """Where the fold's records come from."""

    engine: Engine
    store: ObjectStore
    tenant_id: str

    def session(self) -> AbstractContextManager[Session]:
        return scoped_session(self.engine, TenantScope(self.tenant_id))

    def translator(self, subject: StreamSubject) -> tuple[Translator, dict[int, RunStep]]:
        """The fold of the run, with the thread's earlier messages, and its steps' records."""
        with self.session() as session:
            run = get_run(session, subject.run_id)
            turns = state.turns(session, self.store, subject.thread_id)
        earlier = [
            turn for turn in turns if (turn.run.created_at, turn.run.id) < (run.created_at, run.id)
        ]
        this = next((turn for turn in turns if turn.run.id == run.id), None)
        records = {step.seq: step for step in (this.steps if this else [])}
        translator = Translator(
            subject, state.conversation(earlier), input_messages(run.id, run.input)
        )
        return translator, records

    def step(self, run_id: str, seq: int) -> RunStep | None:
        with self.session() as session:
            found = session.exec(
                select(RunStep).where(RunStep.run_id == run_id, RunStep.seq == seq)
            ).first()
            if found is None:
                return None
            session.expunge(found)
        return read_payloads(self.store, [found])[0]

    def waiting(self, approval_id: str) -> Approval | None:
        with self.session() as session:
            approval = session.get(Approval, approval_id)
            if approval is None or approval.status != ApprovalStatus.pending:
                return None
            session.expunge(approval)
            return approval


async def _record(
    reader: Reader, records: dict[int, RunStep], run_id: str, event: RunEvent
) -> RunStep | None:
    seq, data = int(event.data["seq"]), event.data
    step = records.get(seq)
    if step is None or (step.attempt, str(step.status)) != (
        data.get("attempt"),
        data.get("status"),
    ):
        step = await asyncio.to_thread(reader.step, run_id, seq)
        if step is not None:
            records[seq] = step
    return step


async def _apply(
    reader: Reader, records: dict[int, RunStep], translator: Translator, event: RunEvent, live: bool
) -> list[Part]:
    step = waiting = None
    if event.type == "step.completed":
        step = await _record(reader, records, translator.subject.run_id, event)
    elif event.type == "approval.requested" and live:
        waiting = await asyncio.to_thread(reader.waiting, str(event.data["approval_id"]))
    return translator.apply(event, step, waiting)


async def parts(
    follower: RunFollower,
    reader: Reader,
    subject: StreamSubject,
    start: int,
    resume_after: PartId | None,
) -> AsyncIterator[tuple[PartId, str, Any]]:
    """The run's stream parts after event `start` (what came before is folded, not sent),
    resuming after the part `resume_after` if given."""
    translator, records = await asyncio.to_thread(reader.translator, subject)
    event_log = follower.sources.event_log
    cursor = 0
    while cursor < start:  # the events before the stream's start build the state it starts from
        batch = await event_log.read(reader.tenant_id, subject.run_id, cursor, PAGE)
        if not batch:
            break
        for event in batch:
            if event.id > start:
                break
            await _apply(reader, records, translator, event, live=False)
            cursor = event.id
        if len(batch) < PAGE or batch[-1].id > start:
            break
    skip = resume_after or PartId(start, -1)

    def sendable(part_id: PartId) -> bool:
        return part_id > skip

    for index, (name, data) in enumerate(translator.prelude()):
        if sendable(PartId(start, index)):
            yield PartId(start, index), name, data
    async for event in follower.events(start):
        produced = await _apply(reader, records, translator, event, live=True)
        for index, (name, data) in enumerate(produced):
            part_id = PartId(event.id, index)
            if sendable(part_id):
                yield part_id, name, data
        if translator.ended or translator.waiting:
            return


def _outcome(
    reader: Reader, thread_id: str, run_id: str, until_ended: bool
) -> tuple[bool, dict[str, Any], int]:
    """(settled, values, events so far): settled once the run ended or (unless `until_ended`)
    waits for a person."""
    with reader.session() as session:
        run = get_run(session, run_id)
        thread = get_thread(session, thread_id)
        shown = state.view(session, reader.store, thread)
        waiting = [a for a in shown.approvals if a.run_id == run.id]
        settled = RunStatus(run.status).is_terminal or (bool(waiting) and not until_ended)
        result = state.values(shown.messages, shown.interrupts if waiting else [])
        if run.status in ERRORED:
            error = run.error or {}
            result["__error__"] = {
                "error": str(error.get("code", run.status)),
                "message": str(error.get("message", "the run failed")),
            }
        return settled, result, run.event_count


async def outcome(
    sources: Sources, reader: Reader, thread_id: str, run_id: str, until_ended: bool = False
) -> dict[str, Any]:
    """The thread's values once the run ended or waits for an approval (then with its
    `__interrupt__`; a failed run's with `__error__`). Checked again at each event that may
    settle it, and once per heartbeat interval in case its ending left no event."""
    settled, result, seen = await asyncio.to_thread(
        _outcome, reader, thread_id, run_id, until_ended
    )
    while not settled:
        events = await sources.event_log.wait(reader.tenant_id, run_id, seen, sources.heartbeat)
        seen = events[-1].id if events else seen
        if events and not any(event.type in SETTLING for event in events):
            continue
        settled, result, _ = await asyncio.to_thread(
            _outcome, reader, thread_id, run_id, until_ended
        )
    return result
