"""Threads: conversations that continue across runs, and the runs that continue them."""

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response, status

from backend.deps import CanRead, CanWrite, ObjectStoreDep, SettingsDep, TenantSessionDep
from backend.errors import invalid
from backend.pagination import Page, PageParams, page_params
from backend.routes.path_params import ThreadId
from backend.routes.run_actions import add_thread_run
from backend.services import thread_state
from backend.services import threads as service
from backend.services.live import forget
from core.models import (
    RunPublic,
    ThreadCreate,
    ThreadPublic,
    ThreadRunCreate,
    ThreadStatus,
    ThreadUpdate,
)
from core.models.thread import ThreadState, ThreadTurn

router = APIRouter(prefix="/v1/threads", tags=["threads"])
Paging = Annotated[PageParams, Depends(page_params)]
MAX_METADATA_FILTER_CHARS = 2000


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses={
        200: {"model": ThreadPublic, "description": "The thread of that id (`if_exists: return`)"}
    },
)
def create_thread(
    body: ThreadCreate, response: Response, session: TenantSessionDep, principal: CanWrite
) -> ThreadPublic:
    """Start a conversation (201); with `if_exists: return`, an existing id answers 200."""
    thread, created = service.create_thread(
        session, body, principal.subject, principal.display_name or None
    )
    if not created:
        response.status_code = status.HTTP_200_OK
    return service.thread_public(session, thread)


def _metadata(raw: str | None) -> dict[str, str] | None:
    if raw is None:
        return None
    try:
        parsed: Any = json.loads(raw)
    except ValueError:
        raise invalid("metadata", "query", 'a JSON object, e.g. {"user": "ada"}') from None
    if not isinstance(parsed, dict):
        raise invalid("metadata", "query", 'a JSON object, e.g. {"user": "ada"}')
    return service.metadata_filter(parsed)


@router.get("")
def list_threads(
    session: TenantSessionDep,
    _principal: CanRead,
    params: Paging,
    agent_id: Annotated[
        str | None, Query(max_length=40, description="Threads whose latest run is this agent's.")
    ] = None,
    status_filter: Annotated[
        ThreadStatus | None, Query(alias="status", description="Only threads in this status.")
    ] = None,
    metadata: Annotated[
        str | None,
        Query(
            max_length=MAX_METADATA_FILTER_CHARS,
            description="Threads whose metadata has these string values (a JSON object, e.g. "
            '`{"user": "ada"}`).',
        ),
    ] = None,
) -> Page[ThreadPublic]:
    """The tenant's threads, newest first."""
    filters = service.ThreadFilters(agent_id, status_filter, _metadata(metadata))
    return service.list_threads(session, params, filters)


@router.get("/{thread_id}")
def get_thread(thread_id: ThreadId, session: TenantSessionDep, _principal: CanRead) -> ThreadPublic:
    """The thread and how it stands."""
    return service.thread_public(session, service.get_thread(session, thread_id))


@router.patch("/{thread_id}")
def update_thread(
    thread_id: ThreadId, body: ThreadUpdate, session: TenantSessionDep, _principal: CanWrite
) -> ThreadPublic:
    """Set metadata keys or the time to live."""
    return service.thread_public(session, service.update_thread(session, thread_id, body))


@router.delete("/{thread_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_thread(
    thread_id: ThreadId,
    request: Request,
    session: TenantSessionDep,
    _principal: CanWrite,
    store: ObjectStoreDep,
) -> Response:
    """Delete the thread with its runs, steps, events (the live copies too), approvals,
    artifacts and stored payloads. A thread with an active run is a 409: cancel it first."""
    run_ids = service.delete_thread(session, store, thread_id)
    forget(request, run_ids)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{thread_id}/runs", status_code=status.HTTP_202_ACCEPTED)
def create_thread_run(
    thread_id: ThreadId,
    body: ThreadRunCreate,
    request: Request,
    session: TenantSessionDep,
    principal: CanWrite,
    settings: SettingsDep,
) -> RunPublic:
    """Continue the conversation: a run that sees the thread's earlier runs. 202 with the run,
    `queued` until it starts (after the active run, with `enqueue`, `interrupt` or `rollback`)."""
    run = add_thread_run(
        request, session, principal, thread_id, body, settings.run_steps_per_execution
    )
    return RunPublic.of(run)


@router.get("/{thread_id}/runs")
def list_thread_runs(
    thread_id: ThreadId, session: TenantSessionDep, _principal: CanRead
) -> list[RunPublic]:
    """The thread's runs, oldest first."""
    thread = service.get_thread(session, thread_id)
    return [RunPublic.of(run) for run in service.thread_runs(session, thread.id)]


@router.get("/{thread_id}/state")
def get_thread_state(
    thread_id: ThreadId, session: TenantSessionDep, _principal: CanRead, store: ObjectStoreDep
) -> ThreadState:
    """The conversation as the next run's model sees it: every message, oldest first, with
    the run and step it came from (rolled-back runs left out)."""
    return thread_state.thread_state(session, store, thread_id)


@router.get("/{thread_id}/history")
def get_thread_history(
    thread_id: ThreadId, session: TenantSessionDep, _principal: CanRead, store: ObjectStoreDep
) -> list[ThreadTurn]:
    """One entry per run, oldest first: its version, status, usage and the messages it added."""
    return thread_state.thread_history(session, store, thread_id)
