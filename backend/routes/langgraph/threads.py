"""Threads as LangGraph's SDK creates, reads and searches them: our threads, with their
conversation as `values`."""

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response, status

from backend.deps import CanRead, CanWrite, ObjectStoreDep, TenantSessionDep
from backend.errors import invalid
from backend.services import threads as ours
from backend.services.langgraph import state
from backend.services.langgraph import threads as service
from backend.services.langgraph.models import (
    HistoryQuery,
    NewThread,
    ThreadCount,
    ThreadPatch,
    ThreadSearch,
)
from backend.services.live import forget

router = APIRouter()
ThreadId = Annotated[str, Path(description="The thread's id (`thr_...` or the client's own).")]


def _shape(session: Any, store: Any, thread: Any) -> dict[str, Any]:
    return state.thread_shape(state.view(session, store, thread))


@router.post("/threads")
def create_thread(
    body: NewThread, session: TenantSessionDep, principal: CanWrite, store: ObjectStoreDep
) -> dict[str, Any]:
    """A new thread (`if_exists: do_nothing` returns the existing one of that id)."""
    thread = service.create(session, body, principal.subject, principal.display_name or None)
    return _shape(session, store, thread)


@router.post("/threads/search")
def search_threads(
    body: ThreadSearch, session: TenantSessionDep, _principal: CanRead, store: ObjectStoreDep
) -> list[dict[str, Any]]:
    """The tenant's threads by metadata, status or ids, newest first."""
    return [_shape(session, store, thread) for thread in service.search(session, body)]


@router.post("/threads/count")
def count_threads(body: ThreadCount, session: TenantSessionDep, principal: CanRead) -> int:
    """How many threads match."""
    return service.count(session, principal.tenant_id, body)


@router.get("/threads/{thread_id}")
def get_thread(
    thread_id: ThreadId, session: TenantSessionDep, _principal: CanRead, store: ObjectStoreDep
) -> dict[str, Any]:
    """The thread, its status, its conversation and what interrupts it."""
    return _shape(session, store, ours.get_thread(session, thread_id))


@router.patch("/threads/{thread_id}")
def patch_thread(
    thread_id: ThreadId,
    body: ThreadPatch,
    session: TenantSessionDep,
    _principal: CanWrite,
    store: ObjectStoreDep,
) -> dict[str, Any]:
    """Set metadata keys or the time to live (minutes)."""
    return _shape(session, store, service.patch(session, thread_id, body))


@router.delete("/threads/{thread_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_thread(
    thread_id: ThreadId,
    request: Request,
    session: TenantSessionDep,
    _principal: CanWrite,
    store: ObjectStoreDep,
) -> Response:
    """Delete the thread and everything of its runs (409 while one is active)."""
    forget(request, ours.delete_thread(session, store, thread_id))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/threads/{thread_id}/state")
def get_thread_state(
    thread_id: ThreadId, session: TenantSessionDep, _principal: CanRead, store: ObjectStoreDep
) -> dict[str, Any]:
    """The latest state: the conversation, and the interrupt waiting (if any)."""
    thread = ours.get_thread(session, thread_id)
    return state.thread_state(state.view(session, store, thread))


def _before(raw: dict[str, Any] | None) -> str | None:
    if raw is None:
        return None
    checkpoint_id = (raw.get("configurable") or raw).get("checkpoint_id")
    if not isinstance(checkpoint_id, str):
        raise invalid("before.checkpoint_id", "body", "a checkpoint id from this thread's history")
    return checkpoint_id


def _history(session: Any, store: Any, thread_id: str, query: HistoryQuery) -> list[dict[str, Any]]:
    if query.metadata or query.checkpoint:
        field = "metadata" if query.metadata else "checkpoint"
        raise invalid(field, "body", "not supported: history filters by `before` and `limit`")
    thread = ours.get_thread(session, thread_id)
    return state.history(state.view(session, store, thread), query.limit, _before(query.before))


@router.post("/threads/{thread_id}/history")
def thread_history(
    thread_id: ThreadId,
    body: HistoryQuery,
    session: TenantSessionDep,
    _principal: CanRead,
    store: ObjectStoreDep,
) -> list[dict[str, Any]]:
    """One state per run (the checkpoint after it, its id the run's), newest first."""
    return _history(session, store, thread_id, body)


@router.get("/threads/{thread_id}/history")
def thread_history_get(
    thread_id: ThreadId,
    session: TenantSessionDep,
    _principal: CanRead,
    store: ObjectStoreDep,
    limit: Annotated[int, Query(ge=1, le=1000, description="At most this many states.")] = 10,
    before: Annotated[
        str | None, Query(max_length=64, description="Only states older than this checkpoint.")
    ] = None,
) -> list[dict[str, Any]]:
    """As `POST .../history`, from query parameters."""
    query = HistoryQuery(limit=limit, before={"checkpoint_id": before} if before else None)
    return _history(session, store, thread_id, query)
