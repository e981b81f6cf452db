"""Schedules: the tenant's rows and the engine's Schedules of the same ids, kept in step.

A change reaches the engine before its row is committed: the engine refusing it (a cron its own
parser rejects) is a 422 and an unreachable engine a 503, with nothing saved. Called from a
request's thread: the engine is reached through the request's event loop. Reads do not need
the engine: without it they answer the rows alone, saying the engine could not be asked.
"""

import contextlib
from datetime import datetime, timedelta
from typing import Any

from anyio import from_thread
from sqlmodel import Session, col, select

from backend.errors import ApiError, conflict, invalid
from backend.pagination import Page, PageParams, paginate
from backend.services.engine import EngineUnavailableError
from backend.services.lookup import get_or_404
from backend.services.runs import RunFilters, list_runs, pinned_version
from backend.services.schedule_engine import (
    EngineView,
    ScheduleEngine,
    ScheduleRejectedError,
    engine_unavailable,
)
from core.models import Agent, Run, RunPublic, Schedule
from core.models.common import utcnow
from core.models.schedule import (
    ScheduleActionAccepted,
    ScheduleCreate,
    ScheduledRunPublic,
    ScheduleOverlap,
    SchedulePublic,
    ScheduleUpdate,
    stored_version,
    version_reference,
)
from core.run_records import fire_key

# A backfill takes at most this many fires of an interval, or this long a range of a cron.
MAX_BACKFILL_FIRES = 1000
MAX_BACKFILL_RANGE = timedelta(days=31)


def _engine(call: Any, *args: Any) -> Any:
    """Run an engine call from the request's thread; its refusals become API errors."""
    try:
        return from_thread.run(call, *args)
    except EngineUnavailableError as exc:
        raise engine_unavailable(exc) from None


def _described(call: Any, *args: Any) -> Any:
    """What the engine says, or None when it cannot be asked (the rows answer alone then)."""
    try:
        return from_thread.run(call, *args)
    except EngineUnavailableError:
        return None


def _apply(call: Any, row: Schedule, *args: Any) -> None:
    """An engine call that sends the row's timing: the engine's own checks name the field."""
    try:
        _engine(call, row, *args)
    except ScheduleRejectedError as exc:
        message = str(exc)
        if "time zone" in message.lower():
            field = "timezone"
        else:
            field = "cron" if row.cron else "interval_seconds"
        raise invalid(field, "body", message) from None


def _both(message: str) -> ApiError:
    fields = ("cron", "interval_seconds")
    details = [{"field": field, "location": "body", "message": message} for field in fields]
    return ApiError(422, "validation_error", f"cron, interval_seconds: {message}", details)


def _check_timing(row: Schedule) -> None:
    if row.cron is None and row.interval_seconds is None:
        raise _both("give `cron` or `interval_seconds`")
    if row.cron is not None and row.interval_seconds is not None:
        raise _both("give `cron` or `interval_seconds`, not both")
    if row.start_at is not None and row.end_at is not None and row.start_at >= row.end_at:
        raise invalid("end_at", "body", "must be after start_at")


def _agent(session: Session, agent: str) -> Agent:
    """An agent by id or by name; none is a 422 naming `agent`."""
    found = (
        session.get(Agent, agent) or session.exec(select(Agent).where(Agent.name == agent)).first()
    )
    if found is None:
        raise invalid("agent", "body", f"no agent {agent!r} (an id or a name)")
    if found.archived:
        raise conflict("agent_archived", "the agent is archived; unarchive it to schedule it")
    return found


def get_schedule(session: Session, schedule_id: str) -> Schedule:
    return get_or_404(session, Schedule, schedule_id, "schedule")


def _publics(
    session: Session, rows: list[Schedule], described: list[EngineView | None] | None
) -> list[SchedulePublic]:
    """The rows with what the engine says of each (`described`, None if it could not be asked),
    and the run each recent fire made."""
    views = described if described is not None else [None] * len(rows)
    keys = [
        fire_key(row.id, fire.workflow_id)
        for row, view in zip(rows, views, strict=True)
        for fire in (view.recent if view else [])
    ]
    runs: dict[str | None, str] = {}
    if keys:
        found = session.exec(
            select(Run.idempotency_key, Run.id).where(col(Run.idempotency_key).in_(keys))
        )
        runs = {key: run_id for key, run_id in found}
    publics = []
    for row, view in zip(rows, views, strict=True):
        recent = [
            ScheduledRunPublic(
                run_id=runs.get(fire_key(row.id, fire.workflow_id)),
                scheduled_at=fire.scheduled_at,
                started_at=fire.started_at,
            )
            for fire in (view.recent if view else [])
        ]
        data = row.model_dump(exclude={"tenant_id"})
        data.update(
            metadata=row.run_metadata,
            version=version_reference(row.version),
            paused=view.paused if view else row.paused,
            next_fire_times=view.next_fire_times if view else [],
            recent_runs=recent,
            fires=view.fires if view else 0,
            engine_reachable=described is not None,
        )
        publics.append(SchedulePublic.model_validate(data))
    return publics


def publics(session: Session, engine: ScheduleEngine, rows: list[Schedule]) -> list[SchedulePublic]:
    """The rows with what the engine says of each (one call for them all)."""
    return _publics(session, rows, _described(engine.describe_many, [row.id for row in rows]))


def public(session: Session, engine: ScheduleEngine, row: Schedule) -> SchedulePublic:
    return publics(session, engine, [row])[0]


def create_schedule(
    session: Session,
    engine: ScheduleEngine,
    body: ScheduleCreate,
    created_by: str,
    created_by_name: str | None,
) -> SchedulePublic:
    """The engine's Schedule first, then its row: a refusal or an outage leaves nothing."""
    agent = _agent(session, body.agent)
    pinned_version(session, agent.id, body.version)  # names something now; resolved at each fire
    row = Schedule(
        tenant_id=agent.tenant_id,
        agent_id=agent.id,
        **body.model_dump(exclude={"agent", "version", "overlap", "metadata"}),
        run_metadata=body.metadata,
        version=stored_version(body.version),
        overlap=body.overlap.value,
        created_by=created_by,
        created_by_name=created_by_name,
    )
    _check_timing(row)
    _apply(engine.create, row)
    session.add(row)
    try:
        session.commit()
    except Exception:
        session.rollback()
        _forget(engine, row.id)
        raise
    return public(session, engine, row)


def _forget(engine: ScheduleEngine, schedule_id: str) -> None:
    """Best effort after a failed commit; a Schedule left behind removes itself at its next
    fire (its row is missing)."""
    with contextlib.suppress(ApiError):
        _engine(engine.delete, schedule_id)


def list_schedules(
    session: Session, engine: ScheduleEngine, params: PageParams, agent_id: str | None
) -> Page[SchedulePublic]:
    """Newest first."""
    statement = select(Schedule)
    if agent_id:
        statement = statement.where(Schedule.agent_id == agent_id)
    page = paginate(session, statement, col(Schedule.id), params, lambda row: row, lambda r: r.id)
    return Page[SchedulePublic](
        items=publics(session, engine, page.items), next_cursor=page.next_cursor
    )


def update_schedule(
    session: Session, engine: ScheduleEngine, schedule_id: str, body: ScheduleUpdate
) -> SchedulePublic:
    row = get_schedule(session, schedule_id)
    changes = body.model_dump(exclude_unset=True)
    # One timing replaces the other.
    if changes.get("cron") is not None and "interval_seconds" not in changes:
        changes["interval_seconds"] = None
    if changes.get("interval_seconds") is not None and "cron" not in changes:
        changes["cron"] = None
    if "overlap" in changes:
        changes["overlap"] = ScheduleOverlap(changes["overlap"]).value
    if "version" in changes:
        pinned_version(session, row.agent_id, changes["version"])
        changes["version"] = stored_version(changes["version"])
    if "metadata" in changes:
        changes["run_metadata"] = changes.pop("metadata")
    for field, value in changes.items():
        setattr(row, field, value)
    _check_timing(row)
    row.updated_at = utcnow()
    _apply(engine.apply, row)
    session.add(row)
    session.commit()
    return public(session, engine, row)


def set_paused(
    session: Session, engine: ScheduleEngine, schedule_id: str, paused: bool, note: str | None
) -> SchedulePublic:
    row = get_schedule(session, schedule_id)
    row.paused = paused
    if note is not None:
        row.note = note
    row.updated_at = utcnow()
    _engine(engine.pause if paused else engine.unpause, row, note)
    session.add(row)
    session.commit()
    return public(session, engine, row)


def trigger(session: Session, engine: ScheduleEngine, schedule_id: str) -> ScheduleActionAccepted:
    row = get_schedule(session, schedule_id)
    _engine(engine.trigger, row)
    return ScheduleActionAccepted(schedule_id=row.id, action="trigger", requested_at=utcnow())


def backfill(
    session: Session, engine: ScheduleEngine, schedule_id: str, start: datetime, end: datetime
) -> ScheduleActionAccepted:
    """Fires due from `start` to `end` (both inclusive), taken now."""
    row = get_schedule(session, schedule_id)
    now = utcnow()
    if start > end:
        raise invalid("end", "body", "must not be before start (equal takes one fire)")
    if end > now:
        raise invalid("end", "body", "a backfill covers the past: not after now")
    if row.interval_seconds is not None:
        fires = (end - start).total_seconds() / row.interval_seconds
        if fires > MAX_BACKFILL_FIRES:
            message = f"at most {MAX_BACKFILL_FIRES} fires at once; this range holds {fires:.0f}"
            raise invalid("start", "body", message)
    elif end - start > MAX_BACKFILL_RANGE:
        raise invalid("start", "body", f"at most {MAX_BACKFILL_RANGE.days} days at once")
    _engine(engine.backfill, row, start, end)
    return ScheduleActionAccepted(
        schedule_id=row.id, action="backfill", start=start, end=end, requested_at=now
    )


def delete_schedule(session: Session, engine: ScheduleEngine, schedule_id: str) -> None:
    """The engine's Schedule first: an outage leaves both."""
    row = get_schedule(session, schedule_id)
    _engine(engine.delete, row.id)
    session.delete(row)
    session.commit()


def schedule_runs(session: Session, schedule_id: str, params: PageParams) -> Page[RunPublic]:
    """The runs its fires made, newest first (those of earlier settings too)."""
    row = get_schedule(session, schedule_id)
    return list_runs(session, params, RunFilters(schedule_id=row.id))
