"""Schedules: runs of an agent fired by cron or interval, kept by the durable engine."""

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response, status

from backend.deps import CanRead, CanWrite, ScheduleEngineDep, TenantSessionDep
from backend.pagination import Page, PageParams, page_params
from backend.services import schedules as service
from core.models import RunPublic
from core.models.schedule import (
    ScheduleActionAccepted,
    ScheduleBackfillRequest,
    ScheduleCreate,
    ScheduleNote,
    SchedulePublic,
    ScheduleUpdate,
)

router = APIRouter(prefix="/v1/schedules", tags=["schedules"])
Paging = Annotated[PageParams, Depends(page_params)]
ScheduleId = Annotated[str, Path(description="The schedule's id (`sch_...`).")]


@router.post("", status_code=status.HTTP_201_CREATED)
def create_schedule(
    body: ScheduleCreate, session: TenantSessionDep, principal: CanWrite, engine: ScheduleEngineDep
) -> SchedulePublic:
    """Fire runs of an agent by `cron` (in `timezone`) or every `interval_seconds`. Each fire
    makes a normal run (`schedule_id` set, `created_by` `schedule:<id>`); its version is
    resolved at each fire, so an alias moved moves the next runs."""
    return service.create_schedule(
        session, engine, body, principal.subject, principal.display_name or None
    )


@router.get("")
def list_schedules(
    session: TenantSessionDep,
    _principal: CanRead,
    params: Paging,
    engine: ScheduleEngineDep,
    agent_id: Annotated[str | None, Query(description="Only this agent's schedules.")] = None,
) -> Page[SchedulePublic]:
    """The tenant's schedules, newest first, each with what the engine says of its fires."""
    return service.list_schedules(session, engine, params, agent_id)


@router.get("/{schedule_id}")
def get_schedule(
    schedule_id: ScheduleId,
    session: TenantSessionDep,
    _principal: CanRead,
    engine: ScheduleEngineDep,
) -> SchedulePublic:
    """One schedule: its settings, next fire times, recent fires and their runs."""
    return service.public(session, engine, service.get_schedule(session, schedule_id))


@router.patch("/{schedule_id}")
def update_schedule(
    schedule_id: ScheduleId,
    body: ScheduleUpdate,
    session: TenantSessionDep,
    _principal: CanWrite,
    engine: ScheduleEngineDep,
) -> SchedulePublic:
    """Change what it runs or when; runs already made keep what they were given."""
    return service.update_schedule(session, engine, schedule_id, body)


@router.delete("/{schedule_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_schedule(
    schedule_id: ScheduleId,
    session: TenantSessionDep,
    _principal: CanWrite,
    engine: ScheduleEngineDep,
) -> Response:
    """Stop it for good; the runs it made stay (with their `schedule_id`)."""
    service.delete_schedule(session, engine, schedule_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{schedule_id}/pause")
def pause_schedule(
    schedule_id: ScheduleId,
    session: TenantSessionDep,
    _principal: CanWrite,
    engine: ScheduleEngineDep,
    body: ScheduleNote | None = None,
) -> SchedulePublic:
    """No fire until unpaused (a run under way goes on)."""
    note = body.note if body else None
    return service.set_paused(session, engine, schedule_id, True, note)


@router.post("/{schedule_id}/unpause")
def unpause_schedule(
    schedule_id: ScheduleId,
    session: TenantSessionDep,
    _principal: CanWrite,
    engine: ScheduleEngineDep,
    body: ScheduleNote | None = None,
) -> SchedulePublic:
    """Fire again from the next due time (fires missed while paused do not happen)."""
    note = body.note if body else None
    return service.set_paused(session, engine, schedule_id, False, note)


@router.post("/{schedule_id}/trigger", status_code=status.HTTP_202_ACCEPTED)
def trigger_schedule(
    schedule_id: ScheduleId,
    session: TenantSessionDep,
    _principal: CanWrite,
    engine: ScheduleEngineDep,
) -> ScheduleActionAccepted:
    """Fire now, paused or not and whatever the overlap policy; the run appears in its runs."""
    return service.trigger(session, engine, schedule_id)


@router.post("/{schedule_id}/backfill", status_code=status.HTTP_202_ACCEPTED)
def backfill_schedule(
    schedule_id: ScheduleId,
    body: ScheduleBackfillRequest,
    session: TenantSessionDep,
    _principal: CanWrite,
    engine: ScheduleEngineDep,
) -> ScheduleActionAccepted:
    """Take the fires due from `start` to `end` (both inclusive) now, side by side: at most 1000
    fires of an interval, or 31 days of a cron."""
    return service.backfill(session, engine, schedule_id, body.start, body.end)


@router.get("/{schedule_id}/runs")
def schedule_runs(
    schedule_id: ScheduleId, session: TenantSessionDep, _principal: CanRead, params: Paging
) -> Page[RunPublic]:
    """The runs its fires made, newest first."""
    return service.schedule_runs(session, schedule_id, params)
