"""Runs as LangGraph's SDK creates, streams, waits for, joins and cancels them: our thread runs.

A run on a thread continues its conversation; a stateless run (`/runs/...`) gets a thread of
its own. A `command` with `resume` decides the approval the thread's run waits for, and that
run goes on (keeping its id).
"""

from typing import Annotated, Any, Literal

from anyio import to_thread
from fastapi import APIRouter, Header, Path, Query, Request, Response, status
from fastapi.responses import JSONResponse
from sse_starlette import EventSourceResponse

from backend.auth import Principal
from backend.deps import CanRead, CanWrite, FollowSourcesDep, SettingsDep, TenantSessionDep
from backend.errors import invalid
from backend.routes.langgraph.common import (
    Begun,
    begin,
    modes_of,
    reader,
    run_path,
    stream_response,
)
from backend.routes.run_actions import stop
from backend.services import runs as our_runs
from backend.services.langgraph import runs as service
from backend.services.langgraph.models import RunRequest, StreamMode
from backend.services.langgraph.streaming import last_event_id, outcome
from backend.services.langgraph.vocabulary import run_shape
from backend.services.run_follow import Sources
from backend.settings import Settings
from core.models.limits import DB_INT_MAX

router = APIRouter()
ThreadId = Annotated[str, Path(description="The thread's id (`thr_...` or the client's own).")]
RunId = Annotated[str, Path(description="The run's id (`run_...`).")]
LastEventId = Annotated[
    str | None,
    Header(alias="Last-Event-ID", description="Resume after this stream part (`<event>-<n>`)."),
]
STREAM: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {"text/event-stream": {}},
        "description": "`metadata` (with `run_id`), then one event per stream mode and step, "
        "then `end` (or `error`); every event has an `id` to resume after",
    }
}


def _located(response: Response, settings: Settings, begun: Begun, tail: str = "") -> None:
    path = run_path(settings, begun.thread_id, begun.run.id)
    response.headers["Content-Location"] = path
    if tail:
        response.headers["Location"] = path + tail


async def _begin(
    request: Request,
    session: TenantSessionDep,
    principal: Principal,
    settings: Settings,
    thread_id: str | None,
    body: RunRequest,
) -> Begun:
    return await to_thread.run_sync(begin, request, session, principal, settings, thread_id, body)


async def _stream(
    request: Request,
    body: RunRequest,
    session: TenantSessionDep,
    principal: Principal,
    settings: Settings,
    sources: Sources,
    thread_id: str | None,
) -> EventSourceResponse:
    modes = modes_of(body.stream_mode)
    begun = await _begin(request, session, principal, settings, thread_id, body)
    cancel = body.on_disconnect == "cancel"
    return await stream_response(
        request, principal, settings, sources, begun, modes, cancel_on_disconnect=cancel
    )


async def _wait(
    request: Request,
    response: Response,
    body: RunRequest,
    session: TenantSessionDep,
    principal: Principal,
    settings: Settings,
    sources: Sources,
    thread_id: str | None,
) -> dict[str, Any]:
    begun = await _begin(request, session, principal, settings, thread_id, body)
    _located(response, settings, begun, "/join")
    return await outcome(sources, reader(request, principal), begun.thread_id, begun.run.id)


@router.post("/threads/{thread_id}/runs")
async def create_run(
    thread_id: ThreadId,
    body: RunRequest,
    request: Request,
    response: Response,
    session: TenantSessionDep,
    principal: CanWrite,
    settings: SettingsDep,
) -> dict[str, Any]:
    """A background run on the thread (or the thread's interrupted run, resumed)."""
    begun = await _begin(request, session, principal, settings, thread_id, body)
    _located(response, settings, begun)
    return run_shape(begun.run)


@router.post("/runs")
async def create_stateless_run(
    body: RunRequest,
    request: Request,
    response: Response,
    session: TenantSessionDep,
    principal: CanWrite,
    settings: SettingsDep,
) -> dict[str, Any]:
    """A background run on a thread of its own."""
    begun = await _begin(request, session, principal, settings, None, body)
    _located(response, settings, begun)
    return run_shape(begun.run)


@router.post(
    "/threads/{thread_id}/runs/stream", response_class=EventSourceResponse, responses=STREAM
)
async def stream_run(
    thread_id: ThreadId,
    body: RunRequest,
    request: Request,
    session: TenantSessionDep,
    principal: CanWrite,
    settings: SettingsDep,
    sources: FollowSourcesDep,
) -> EventSourceResponse:
    """Start (or resume) a run on the thread and stream it."""
    return await _stream(request, body, session, principal, settings, sources, thread_id)


@router.post("/runs/stream", response_class=EventSourceResponse, responses=STREAM)
async def stream_stateless_run(
    body: RunRequest,
    request: Request,
    session: TenantSessionDep,
    principal: CanWrite,
    settings: SettingsDep,
    sources: FollowSourcesDep,
) -> EventSourceResponse:
    """Start a run on a thread of its own and stream it."""
    return await _stream(request, body, session, principal, settings, sources, None)


@router.post("/threads/{thread_id}/runs/wait")
async def wait_run(
    thread_id: ThreadId,
    body: RunRequest,
    request: Request,
    response: Response,
    session: TenantSessionDep,
    principal: CanWrite,
    settings: SettingsDep,
    sources: FollowSourcesDep,
) -> dict[str, Any]:
    """Start (or resume) a run on the thread; answer the thread's values once it ends or
    waits for an approval."""
    return await _wait(request, response, body, session, principal, settings, sources, thread_id)


@router.post("/runs/wait")
async def wait_stateless_run(
    body: RunRequest,
    request: Request,
    response: Response,
    session: TenantSessionDep,
    principal: CanWrite,
    settings: SettingsDep,
    sources: FollowSourcesDep,
) -> dict[str, Any]:
    """Start a run on a thread of its own; answer its values once it ends."""
    return await _wait(request, response, body, session, principal, settings, sources, None)


@router.get("/threads/{thread_id}/runs")
def list_runs(
    thread_id: ThreadId,
    session: TenantSessionDep,
    _principal: CanRead,
    limit: Annotated[int, Query(ge=1, le=1000, description="At most this many.")] = 10,
    offset: Annotated[int, Query(ge=0, le=DB_INT_MAX, description="Skip this many.")] = 0,
    status_filter: Annotated[
        str | None,
        Query(alias="status", max_length=20, description="Only runs in this (LangGraph) status."),
    ] = None,
) -> list[dict[str, Any]]:
    """The thread's runs, newest first."""
    runs = service.list_runs(session, thread_id, limit, offset, status_filter)
    return [run_shape(run) for run in runs]


@router.get("/threads/{thread_id}/runs/{run_id}")
def get_run(
    thread_id: ThreadId, run_id: RunId, session: TenantSessionDep, _principal: CanRead
) -> dict[str, Any]:
    """The run and its status in LangGraph's words."""
    return run_shape(service.thread_run_of(session, thread_id, run_id))


@router.post(
    "/threads/{thread_id}/runs/{run_id}/cancel",
    status_code=status.HTTP_202_ACCEPTED,
    response_class=Response,
    responses={204: {"description": "Cancelled (`wait=1`)"}},
)
async def cancel_run(
    thread_id: ThreadId,
    run_id: RunId,
    request: Request,
    session: TenantSessionDep,
    principal: CanWrite,
    sources: FollowSourcesDep,
    wait: Annotated[bool, Query(description="Answer once the run has stopped (204).")] = False,
    action: Annotated[
        Literal["interrupt", "rollback"],
        Query(description="`rollback` also takes its messages out of the conversation."),
    ] = "interrupt",
) -> Response:
    """Stop the run (202); with `wait`, answer when it has (204)."""

    def cancel() -> None:
        run = service.thread_run_of(session, thread_id, run_id)
        if action == "rollback":
            service.mark_rolled_back(session, run)
        cancelled, changed = our_runs.request_cancel(session, run.id)
        stop(request, session, principal.tenant_id, cancelled, changed)
        session.close()

    await to_thread.run_sync(cancel)
    if not wait:
        return Response(status_code=status.HTTP_202_ACCEPTED)
    await outcome(sources, reader(request, principal), thread_id, run_id, until_ended=True)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/threads/{thread_id}/runs/{run_id}/join")
async def join_run(
    thread_id: ThreadId,
    run_id: RunId,
    request: Request,
    session: TenantSessionDep,
    principal: CanRead,
    sources: FollowSourcesDep,
) -> JSONResponse:
    """The thread's values once the run ends or waits for an approval."""
    await to_thread.run_sync(service.thread_run_of, session, thread_id, run_id)
    session.close()
    result = await outcome(sources, reader(request, principal), thread_id, run_id)
    return JSONResponse(result)


@router.get(
    "/threads/{thread_id}/runs/{run_id}/stream",
    response_class=EventSourceResponse,
    responses=STREAM,
)
async def join_run_stream(
    thread_id: ThreadId,
    run_id: RunId,
    request: Request,
    session: TenantSessionDep,
    principal: CanRead,
    settings: SettingsDep,
    sources: FollowSourcesDep,
    last_event: LastEventId = None,
    stream_mode: Annotated[
        list[StreamMode] | None, Query(description="What to send (default `values`).")
    ] = None,
    after: Annotated[
        int | None,
        Query(ge=0, le=DB_INT_MAX, description="Start after this event (a resumed run's)."),
    ] = None,
    cancel_on_disconnect: Annotated[
        bool, Query(description="Cancel the run if this stream's client goes away.")
    ] = False,
) -> EventSourceResponse:
    """Follow the run (again): from its start, after a resume point, or after the last part
    seen (`Last-Event-ID`)."""
    resume_after = last_event_id(last_event)
    run = await to_thread.run_sync(service.thread_run_of, session, thread_id, run_id)
    session.close()
    if resume_after is not None and after is not None and resume_after.event < after:
        raise invalid("Last-Event-ID", "header", "before the stream's start (`after`)")
    begun = Begun(run, thread_id, after or 0)
    return await stream_response(
        request,
        principal,
        settings,
        sources,
        begun,
        modes_of(list(stream_mode) if stream_mode else None),
        resume_after,
        cancel_on_disconnect,
    )
