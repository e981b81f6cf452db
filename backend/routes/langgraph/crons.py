"""Crons: LangGraph's scheduled runs, served by our schedules (the engine's own Schedules)."""

from typing import Annotated, Any

from fastapi import APIRouter, Path, Response, status

from backend.deps import CanRead, CanWrite, ScheduleEngineDep, TenantSessionDep
from backend.errors import invalid
from backend.services.langgraph import crons as service
from backend.services.langgraph.models import CronRequest, CronSearch

router = APIRouter()
ThreadId = Annotated[str, Path(description="The thread's id (crons on threads are a 422).")]
CronId = Annotated[str, Path(description="The cron's id: its schedule's (`sch_...`).")]


@router.post("/runs/crons")
def create_cron(
    body: CronRequest, session: TenantSessionDep, principal: CanWrite, engine: ScheduleEngineDep
) -> dict[str, Any]:
    """A schedule firing runs of the assistant by `schedule` (cron, in `timezone`)."""
    return service.create(session, engine, body, principal.subject, principal.display_name or None)


@router.post("/threads/{thread_id}/runs/crons")
def create_thread_cron(thread_id: ThreadId, _principal: CanWrite) -> None:
    """Not served: crons fire runs of their own, on no thread."""
    raise invalid("thread_id", "path", "crons on a thread are not supported: use /runs/crons")


@router.patch("/runs/crons/{cron_id}")
def update_cron(
    cron_id: CronId,
    body: CronRequest,
    session: TenantSessionDep,
    _principal: CanWrite,
    engine: ScheduleEngineDep,
) -> dict[str, Any]:
    """Change what fires or when; `enabled: false` pauses it."""
    return service.update(session, engine, cron_id, body)


@router.delete("/runs/crons/{cron_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_cron(
    cron_id: CronId, session: TenantSessionDep, _principal: CanWrite, engine: ScheduleEngineDep
) -> Response:
    """Remove the cron and the engine's Schedule; its runs stay."""
    service.delete(session, engine, cron_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/runs/crons/search")
def search_crons(
    body: CronSearch, session: TenantSessionDep, _principal: CanRead, engine: ScheduleEngineDep
) -> list[dict[str, Any]]:
    """The tenant's crons, newest first (`sort_order: asc` for oldest)."""
    return service.search(session, engine, body)


@router.post("/runs/crons/count")
def count_crons(body: CronSearch, session: TenantSessionDep, _principal: CanRead) -> int:
    """How many crons the search finds."""
    return service.count(session, body)
