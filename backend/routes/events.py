"""A run's live events as Server-Sent Events: replay from any point, then follow."""

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from sse_starlette import EventSourceResponse, ServerSentEvent

from backend.deps import CanRead, EngineDep, SettingsDep
from backend.errors import invalid
from backend.events import EventLog, RunEvent
from backend.models.common import utcnow
from backend.models.limits import DB_INT_MAX
from backend.observability import EVENT_LAG_SECONDS
from backend.services import events as service

router = APIRouter(tags=["runs"])
PAGE = 500
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
        return max(0, int(last_event_id))
    except ValueError:
        raise invalid("Last-Event-ID", "header", "not an event id of this API") from None


@router.get("/v1/runs/{run_id}/events", response_class=EventSourceResponse, responses=STREAM)
async def follow_run_events(
    run_id: str,
    request: Request,
    principal: CanRead,
    engine: EngineDep,
    settings: SettingsDep,
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
    `run.completed`. Reconnecting with the last id seen gives no gap and no duplicate."""
    start = _start(after, last_event_id)
    tenant_id = principal.tenant_id
    # No session is held while the stream lasts: reads go through the event log.
    await asyncio.to_thread(service.run_status, engine, tenant_id, run_id)
    event_log: EventLog = request.app.state.event_log
    heartbeat = settings.sse_heartbeat_seconds

    async def stream() -> AsyncIterator[ServerSentEvent]:
        cursor = start
        while True:
            events = await event_log.read(tenant_id, run_id, cursor, PAGE)
            if not events and cursor == 0:
                events = await asyncio.to_thread(service.replayed, engine, tenant_id, run_id)
            live = not events
            if live:
                events = await event_log.wait(tenant_id, run_id, cursor, heartbeat)
            for event in events:
                if live:  # replays would count their age as lag
                    _observe_lag(event)
                yield _message(event)
                cursor = event.id
                if event.type == "run.completed":
                    return
            if not events:
                # Ended without a run.completed in the log (it could not be written): stop.
                status = await asyncio.to_thread(service.run_status, engine, tenant_id, run_id)
                if status.is_terminal:
                    return

    return EventSourceResponse(stream(), ping=heartbeat)


def _observe_lag(event: RunEvent) -> None:
    published = datetime.fromisoformat(event.at.replace("Z", "+00:00"))
    EVENT_LAG_SECONDS.observe(max(0.0, (utcnow() - published).total_seconds()))


def _message(event: RunEvent) -> ServerSentEvent:
    return ServerSentEvent(
        data=json.dumps(event.as_json(), separators=(",", ":"), default=str),
        event=event.type,
        id=str(event.id),
    )
