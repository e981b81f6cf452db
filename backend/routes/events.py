"""A run's live events as Server-Sent Events: replay from any point, then follow.

An open stream outlives outages: with Redis down it follows the database, with the database
down it keeps sending heartbeats and retries. It ends, with a comment saying why, once the key
it was opened with is revoked or the token has expired (checked once per heartbeat interval).
"""

import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query
from sse_starlette import EventSourceResponse, ServerSentEvent

from backend.deps import CanRead, FollowSourcesDep
from backend.errors import invalid
from backend.routes.path_params import RunId
from backend.services.run_follow import CREDENTIAL_ENDED, open_follower
from core.events import RunEvent
from core.models.limits import DB_INT_MAX

router = APIRouter(tags=["runs"])
STREAM: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {"text/event-stream": {}},
        "description": (
            "`id:` the event's per-run number, `event:` its type, `data:` the event as JSON "
            "(`id`, `run_id`, `type`, `at` and the type's fields)"
        ),
    }
}


def _start(after: int | None, last_event_id: str | None) -> int:
    if last_event_id is None:
        return after or 0
    try:
        number = int(last_event_id)
    except ValueError:
        raise invalid("Last-Event-ID", "header", "not an event id of this API") from None
    if number > DB_INT_MAX:
        raise invalid("Last-Event-ID", "header", f"event ids run up to {DB_INT_MAX}")
    return max(0, number)


@router.get("/v1/runs/{run_id}/events", response_class=EventSourceResponse, responses=STREAM)
async def follow_run_events(
    run_id: RunId,
    principal: CanRead,
    sources: FollowSourcesDep,
    after: Annotated[
        int | None,
        Query(ge=0, le=DB_INT_MAX, description="Replay only the events after this id."),
    ] = None,
    last_event_id: Annotated[
        str | None,
        Header(alias="Last-Event-ID", description="Resume after this id (what browsers send)."),
    ] = None,
) -> EventSourceResponse:
    """Replays the run's events (all, or after an id), then follows live with heartbeats until
    `run.completed`. Reconnecting with the last id seen gives no gap and no duplicate.

    The stream also ends when the API key it was opened with is revoked or the access token
    expires, within one heartbeat interval; its last line is then an SSE comment saying so."""
    start = _start(after, last_event_id)
    # No session is held while the stream lasts: reads go through the event log.
    follower = await open_follower(sources, principal, run_id)

    async def stream() -> AsyncIterator[ServerSentEvent]:
        async for event in follower.events(start):
            yield _message(event)
        if follower.credential_ended:
            yield ServerSentEvent(comment=CREDENTIAL_ENDED)

    return EventSourceResponse(stream(), ping=sources.heartbeat)


def _message(event: RunEvent) -> ServerSentEvent:
    return ServerSentEvent(
        data=json.dumps(event.as_json(), separators=(",", ":"), default=str),
        event=event.type,
        id=str(event.id),
    )
