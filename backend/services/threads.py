"""Threads: created, listed, changed and deleted; runs added to them by multitask strategy."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, exists, func, not_, or_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.selectable import ScalarSelect
from sqlmodel import Session, col, select

from backend.errors import ApiError, conflict, invalid
from backend.pagination import Page, PageParams, decode_cursor, encode_cursor
from backend.services.lookup import get_or_404
from backend.services.quotas import admit_run
from backend.services.runs import pinned_version
from core import transitions
from core.models import (
    Agent,
    Approval,
    Artifact,
    MultitaskStrategy,
    Run,
    RunStatus,
    RunStep,
    Thread,
    ThreadCreate,
    ThreadPublic,
    ThreadRunCreate,
    ThreadStatus,
    ThreadUpdate,
)
from core.models.common import utcnow
from core.models.event import EventStreamLease, RunEventRow, TraceOutboxRow
from core.models.thread import ERROR_RUN_STATUSES
from core.objectstore import ObjectStore, artifact_key
from core.thread_queue import HOLDS_THREAD

METADATA_KEY_CHARS = 64


def _holding(thread_id: Any, statuses: tuple[RunStatus, ...] = HOLDS_THREAD) -> ColumnElement[bool]:
    return exists().where(
        col(Run.thread_id) == thread_id, col(Run.status).in_([s.value for s in statuses])
    )


def _latest_status(thread_id: Any) -> ScalarSelect[Any]:
    return (
        select(Run.status)
        .where(col(Run.thread_id) == thread_id)
        .order_by(col(Run.created_at).desc(), col(Run.id).desc())
        .limit(1)
        .scalar_subquery()
    )


def status_is(status: ThreadStatus) -> ColumnElement[bool]:
    """The SQL for "the thread is in `status`", from its runs (as `ThreadStatus` says)."""
    thread_id = col(Thread.id)
    waiting = _holding(thread_id, (RunStatus.awaiting_approval,))
    held = _holding(thread_id)
    failed = _latest_status(thread_id).in_([s.value for s in ERROR_RUN_STATUSES])
    if status == ThreadStatus.interrupted:
        return waiting
    if status == ThreadStatus.busy:
        return and_(not_(waiting), held)
    if status == ThreadStatus.error:
        return and_(not_(held), failed)
    return and_(not_(held), or_(_latest_status(thread_id).is_(None), not_(failed)))


@dataclass
class ThreadRuns:
    """What a thread's runs say about it."""

    count: int = 0
    active_run_id: str | None = None
    status: ThreadStatus = ThreadStatus.idle


def _runs_of(session: Session, thread_ids: list[str]) -> dict[str, ThreadRuns]:
    """Per thread: how many runs, the one holding it, and its status; one query for a page."""
    found: dict[str, ThreadRuns] = {thread_id: ThreadRuns() for thread_id in thread_ids}
    if not thread_ids:
        return found
    rows = session.exec(
        select(Run.thread_id, Run.id, Run.status)
        .where(col(Run.thread_id).in_(thread_ids))
        .order_by(col(Run.created_at), col(Run.id))
    ).all()
    for thread_id, run_id, status in rows:
        summary = found[str(thread_id)]
        summary.count += 1
        if RunStatus(status) in HOLDS_THREAD and summary.active_run_id is None:
            summary.active_run_id = run_id
        if status == RunStatus.awaiting_approval:
            summary.status = ThreadStatus.interrupted
        elif RunStatus(status) in HOLDS_THREAD and summary.status != ThreadStatus.interrupted:
            summary.status = ThreadStatus.busy
        elif summary.status not in (ThreadStatus.interrupted, ThreadStatus.busy):
            failed = RunStatus(status) in ERROR_RUN_STATUSES
            summary.status = ThreadStatus.error if failed else ThreadStatus.idle
    return found


def public(thread: Thread, runs: ThreadRuns) -> ThreadPublic:
    return ThreadPublic(
        id=thread.id,
        agent_id=thread.agent_id,
        status=runs.status,
        metadata=dict(thread.meta or {}),
        ttl_seconds=thread.ttl_seconds,
        runs=runs.count,
        active_run_id=runs.active_run_id,
        created_by=thread.created_by,
        created_by_name=thread.created_by_name,
        created_at=thread.created_at,
        last_run_at=thread.last_run_at,
    )


def thread_public(session: Session, thread: Thread) -> ThreadPublic:
    return public(thread, _runs_of(session, [thread.id])[thread.id])


def get_thread(session: Session, thread_id: str) -> Thread:
    return get_or_404(session, Thread, thread_id, "thread")


def create_thread(
    session: Session, body: ThreadCreate, created_by: str, created_by_name: str | None
) -> tuple[Thread, bool]:
    """The new thread, or with `if_exists: return` the one of that id. (thread, created)."""
    if body.thread_id is not None:
        existing = session.get(Thread, body.thread_id)
        if existing is not None:
            return _existing(existing, body), False
    thread = Thread(
        meta=body.metadata,
        ttl_seconds=body.ttl_seconds,
        created_by=created_by,
        created_by_name=created_by_name,
    )
    if body.thread_id is not None:
        thread.id = body.thread_id
    session.add(thread)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        existing = session.get(Thread, thread.id)
        if existing is None:  # the id is another tenant's: taken, and nothing more is said
            raise conflict("thread_exists", f"thread id {thread.id!r} is taken") from None
        return _existing(existing, body), False
    return thread, True


def _existing(thread: Thread, body: ThreadCreate) -> Thread:
    if body.if_exists == "return":
        return thread
    raise conflict("thread_exists", f"thread {thread.id!r} exists (if_exists: return gets it)")


@dataclass(frozen=True)
class ThreadFilters:
    agent_id: str | None = None
    status: ThreadStatus | None = None
    metadata: dict[str, str] | None = None


def metadata_filter(raw: dict[str, Any]) -> dict[str, str]:
    """`metadata` of the threads list: an object of string values, keys of `[A-Za-z0-9_.-]`."""
    for key, value in raw.items():
        if not isinstance(value, str):
            raise invalid("metadata", "query", f"the value of {key!r} must be a string")
        if (
            not key
            or len(key) > METADATA_KEY_CHARS
            or not all(ch.isalnum() or ch in "_.-" for ch in key)
        ):
            raise invalid("metadata", "query", f"{key!r} is not a metadata key this filters on")
    return dict(raw)


def list_threads(
    session: Session, params: PageParams, filters: ThreadFilters
) -> Page[ThreadPublic]:
    """Newest first (by id within the same moment), keyset paged."""
    statement = select(Thread)
    if filters.agent_id:
        statement = statement.where(col(Thread.agent_id) == filters.agent_id)
    if filters.status:
        statement = statement.where(status_is(filters.status))
    for key, value in (filters.metadata or {}).items():
        statement = statement.where(col(Thread.meta)[key].as_string() == value)
    if params.cursor is not None:
        created, thread_id = _cursor(params.cursor)
        statement = statement.where(
            or_(
                col(Thread.created_at) < created,
                and_(col(Thread.created_at) == created, col(Thread.id) < thread_id),
            )
        )
    order = (col(Thread.created_at).desc(), col(Thread.id).desc())
    rows = list(session.exec(statement.order_by(*order).limit(params.limit + 1)))
    more = len(rows) > params.limit
    rows = rows[: params.limit]
    runs = _runs_of(session, [thread.id for thread in rows])
    last = rows[-1] if more and rows else None
    return Page[ThreadPublic](
        items=[public(thread, runs[thread.id]) for thread in rows],
        next_cursor=encode_cursor(f"{last.created_at.isoformat()}|{last.id}") if last else None,
    )


def _cursor(cursor: str) -> tuple[Any, str]:

    created, _, thread_id = str(decode_cursor(cursor, str)).partition("|")
    try:
        return datetime.fromisoformat(created), thread_id
    except ValueError:
        raise invalid(
            "cursor", "query", "not a cursor this API issued", kind="cursor_invalid"
        ) from None


def update_thread(session: Session, thread_id: str, body: ThreadUpdate) -> Thread:
    thread = get_thread(session, thread_id)
    if body.metadata is not None:
        thread.meta = {**(thread.meta or {}), **body.metadata}
    if "ttl_seconds" in body.model_fields_set:
        thread.ttl_seconds = body.ttl_seconds
    session.add(thread)
    session.commit()
    return thread


def _find_agent(session: Session, agent: str) -> Agent:
    by_id = session.get(Agent, agent)
    if by_id is not None:
        return by_id
    by_name = session.exec(select(Agent).where(Agent.name == agent)).first()
    if by_name is None:
        raise invalid("agent", "body", f"no agent {agent!r} (an id or a name)")
    return by_name


@dataclass
class AddedRun:
    run: Run
    # Runs the strategy cancels (`interrupt`, `rollback`): the route stops their workflows.
    cancelled: list[Run]


def add_run(
    session: Session,
    thread_id: str,
    body: ThreadRunCreate,
    created_by: str,
    created_by_name: str | None,
) -> AddedRun:
    """Insert a queued run continuing the thread, after applying the multitask strategy to the
    run that holds it (if any). The thread's row is locked first, so two requests at once
    see each other's runs."""
    thread = get_thread(session, thread_id)
    session.execute(
        update(Thread).where(col(Thread.id) == thread.id).values(updated_at=utcnow()),
        execution_options={"synchronize_session": False},
    )
    agent = _find_agent(session, body.agent)
    if agent.archived:
        raise conflict("agent_archived", "the agent is archived; unarchive it to run it")
    pinned = pinned_version(session, agent.id, body.version, sticky_key=thread.id)
    holding = list(
        session.exec(
            select(Run)
            .where(
                col(Run.thread_id) == thread.id,
                col(Run.status).in_([s.value for s in HOLDS_THREAD]),
            )
            .order_by(col(Run.created_at), col(Run.id))
        )
    )
    strategy = body.multitask_strategy
    if holding and strategy == MultitaskStrategy.reject:
        session.rollback()
        raise ApiError(
            409,
            "thread_busy",
            f"the thread has an active run ({holding[0].id}); multitask_strategy `enqueue`, "
            "`interrupt` or `rollback` adds a run anyway",
            details={"active_run_id": holding[0].id},
        )
    cancelled: list[Run] = []
    if strategy in (MultitaskStrategy.interrupt, MultitaskStrategy.rollback):
        for active in holding:
            transitions.request_cancel(session, active.id)
            if strategy == MultitaskStrategy.rollback:
                active.rolled_back = True
                session.add(active)
            cancelled.append(active)
    assert agent.tenant_id is not None
    admit_run(session, agent.tenant_id)
    run_input: Any = (
        body.input
        if isinstance(body.input, str)
        else [message.model_dump() for message in body.input]
    )
    run = Run(
        agent_id=agent.id,
        version_id=pinned.version.id,
        version_number=pinned.version.number,
        version_alias=pinned.alias,
        input=run_input,
        context=body.context,
        meta=body.metadata,
        webhook_url=body.webhook,
        created_by=created_by,
        created_by_name=created_by_name,
        thread_id=thread.id,
    )
    thread.agent_id = agent.id
    thread.last_run_at = run.created_at
    session.add_all([run, thread])
    session.commit()
    for active in cancelled:
        session.refresh(active)
    return AddedRun(run, cancelled)


def thread_runs(session: Session, thread_id: str) -> list[Run]:
    return list(
        session.exec(
            select(Run)
            .where(col(Run.thread_id) == thread_id)
            .order_by(col(Run.created_at), col(Run.id))
        )
    )


def steps_by_run(session: Session, run_ids: list[str]) -> dict[str, list[RunStep]]:
    """The runs' steps in order, detached: payloads read back into them are never written."""
    grouped: dict[str, list[RunStep]] = {run_id: [] for run_id in run_ids}
    if run_ids:
        for step in session.exec(
            select(RunStep).where(col(RunStep.run_id).in_(run_ids)).order_by(col(RunStep.seq))
        ):
            session.expunge(step)
            grouped[step.run_id].append(step)
    return grouped


def delete_thread(session: Session, store: ObjectStore, thread_id: str) -> list[str]:
    """Everything of the thread: runs, steps, approvals, events, trace rows, artifacts and
    stored payloads; returns the deleted runs' ids. A thread with an active run is a 409
    (cancel it first)."""
    thread = get_thread(session, thread_id)
    runs = thread_runs(session, thread.id)
    active = [run for run in runs if not RunStatus(run.status).is_terminal]
    if active:
        raise conflict(
            "thread_busy", f"the thread has an active run ({active[0].id}); cancel it first"
        )
    run_ids = [run.id for run in runs]
    keys: list[str] = []
    if run_ids:
        for step in session.exec(select(RunStep).where(col(RunStep.run_id).in_(run_ids))):
            keys += [key for key in (step.input_ref, step.output_ref) if key]
        for artifact in session.exec(select(Artifact).where(col(Artifact.run_id).in_(run_ids))):
            keys.append(artifact_key(str(artifact.tenant_id), artifact.run_id, artifact.name))
        for table in (RunStep, Approval, Artifact, RunEventRow, TraceOutboxRow, EventStreamLease):
            session.execute(delete(table).where(col(table.run_id).in_(run_ids)))
        session.execute(delete(Run).where(col(Run.id).in_(run_ids)))
    session.delete(thread)
    session.commit()
    for key in keys:  # after the commit: a failed delete leaves an orphan object, never a row
        try:
            store.delete(key)
        except Exception:  # noqa: S112  (an object already gone is what we wanted)
            continue
    return run_ids


def expired_thread_ids(session: Session, limit: int = 100) -> list[str]:
    """Idle threads whose time to live has passed since their last run (or creation)."""
    now = utcnow()
    candidates = session.exec(
        select(Thread)
        .where(col(Thread.ttl_seconds).is_not(None), not_(_holding(col(Thread.id))))
        .order_by(col(Thread.updated_at))
        .limit(limit * 4)
    ).all()
    expired = []
    for thread in candidates:
        since = max(thread.updated_at, _last_ended(session, thread.id) or thread.updated_at)
        if since + timedelta(seconds=thread.ttl_seconds or 0) <= now:
            expired.append(thread.id)
    return expired[:limit]


def _last_ended(session: Session, thread_id: str) -> Any:
    return session.exec(select(func.max(Run.ended_at)).where(col(Run.thread_id) == thread_id)).one()
