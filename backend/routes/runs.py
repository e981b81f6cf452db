"""Runs: start one of an agent's versions, follow its status and steps, cancel it."""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request, Response, status

from backend.deps import CanRead, CanWrite, SettingsDep, TenantSessionDep
from backend.errors import ErrorResponse
from backend.pagination import Page, PageParams, page_params
from backend.routes.path_params import AgentId, RunId
from backend.routes.run_actions import start_if_its_turn, stop
from backend.services import runs as service
from backend.services.webhooks import check_destination
from core.models import RunCreate, RunPublic, RunStatus, StepPublic
from core.observability import RUNS_STARTED

router = APIRouter(tags=["runs"])
Paging = Annotated[PageParams, Depends(page_params)]
MAX_SEARCH_CHARS = 200


@router.post(
    "/v1/agents/{agent_id}/runs",
    status_code=status.HTTP_202_ACCEPTED,
    responses={200: {"model": RunPublic, "description": "The run an Idempotency-Key made"}},
)
def create_run(
    agent_id: AgentId,
    body: RunCreate,
    request: Request,
    response: Response,
    session: TenantSessionDep,
    principal: CanWrite,
    settings: SettingsDep,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            min_length=1,
            max_length=255,
            description="Repeat a request safely: the same key and body give the same run.",
        ),
    ] = None,
) -> RunPublic:
    """Start a run of a version (`latest` by default). 202 with the queued run.

    The committed run is the record: if the durable engine is unreachable the run stays
    `queued` and starts once the engine is back (the answer is the same 202)."""
    if body.webhook:
        check_destination(body.webhook, settings.tool_allow_private_networks, field="webhook")
    run, created = service.create_run(
        session,
        agent_id,
        body,
        principal.subject,
        idempotency_key,
        created_by_name=principal.display_name or None,
    )
    start_if_its_turn(request, session, run, settings.run_steps_per_execution)
    if created:
        RUNS_STARTED.inc()
    else:
        response.status_code = status.HTTP_200_OK
    return RunPublic.of(run)


@router.get("/v1/runs")
def list_runs(
    session: TenantSessionDep,
    _principal: CanRead,
    params: Paging,
    agent_id: Annotated[str | None, Query(description="Only this agent's runs.")] = None,
    schedule_id: Annotated[
        str | None, Query(description="Only the runs this schedule's fires made.")
    ] = None,
    status_filter: Annotated[
        RunStatus | None, Query(alias="status", description="Only runs in this status.")
    ] = None,
    q: Annotated[
        str | None,
        Query(max_length=MAX_SEARCH_CHARS, description="The run's input contains this (any case)."),
    ] = None,
    created_after: Annotated[
        datetime | None,
        Query(description="Only runs created at or after this time (ISO 8601; naive is UTC)."),
    ] = None,
    created_before: Annotated[
        datetime | None,
        Query(description="Only runs created before this time (ISO 8601; naive is UTC)."),
    ] = None,
    sort: Annotated[
        service.RunSort,
        Query(
            description="`created_at` (oldest first), `-created_at` (newest first), `duration` "
            "(`ended_at` minus `started_at`, or `created_at` if it never started; runs not "
            "ended come last either way), `cost` (`cost_usd`); `-` sorts descending. A "
            "`cursor` pages only the sort it came from."
        ),
    ] = "-created_at",
) -> Page[RunPublic]:
    """Newest first unless `sort` says otherwise."""
    filters = service.RunFilters(
        agent_id=agent_id,
        schedule_id=schedule_id,
        status=status_filter,
        search=q or None,
        created_after=service.as_utc(created_after, "created_after"),
        created_before=service.as_utc(created_before, "created_before"),
    )
    return service.list_runs(session, params, filters, sort)


@router.get("/v1/runs/{run_id}")
def get_run(run_id: RunId, session: TenantSessionDep, _principal: CanRead) -> RunPublic:
    """One run: its status, output or error, usage and cost."""
    return RunPublic.of(service.get_run(session, run_id))


@router.get("/v1/runs/{run_id}/steps")
def list_steps(
    run_id: RunId, session: TenantSessionDep, _principal: CanRead, params: Paging
) -> Page[StepPublic]:
    """In order of `seq`."""
    return service.list_steps(session, run_id, params)


@router.post(
    "/v1/runs/{run_id}/cancel",
    status_code=status.HTTP_202_ACCEPTED,
    responses={503: {"model": ErrorResponse, "description": "The durable engine is unreachable"}},
)
def cancel_run(
    run_id: RunId, request: Request, session: TenantSessionDep, principal: CanWrite
) -> RunPublic:
    """Ask a run to stop; it goes `cancelling`, then `cancelled` once its workflow has stopped."""
    run, changed = service.request_cancel(session, run_id)
    stop(request, session, principal.tenant_id, run, changed)
    return RunPublic.of(run)
