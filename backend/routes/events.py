"""A run's live events as Server-Sent Events: replay from any point, then follow.

An open stream outlives outages: with Redis down it follows the database, with the database
down it keeps sending heartbeats and retries. It ends, with a comment saying why, once the key
it was opened with is revoked or the token has expired (checked once per heartbeat interval).
"""

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sse_starlette import EventSourceResponse, ServerSentEvent

from backend.auth import Authenticator
from backend.deps import CanRead, EngineDep, SettingsDep
from backend.errors import invalid
from backend.routes.path_params import RunId
from backend.services import events as service
from backend.services import quotas
from core.events import EventLog, RunEvent
from core.models.common import utcnow
from core.models.limits import DB_INT_MAX
from core.observability import EVENT_LAG_SECONDS

log = logging.getLogger("agent_runtime.api")
router = APIRouter(tags=["runs"])
PAGE = 500
# A stream's lease outlives this many missed renewals (one per heartbeat) before it stops counting.
LEASE_HEARTBEATS = 3
# An unreachable database: the stream waits it out, retrying this often at most.
DATABASE_DOWN = (DBAPIError, PoolTimeoutError)
RETRY_MAX_SECONDS = 5.0
# The last thing a stream sends when its credential no longer holds.
CREDENTIAL_ENDED = "the credential this stream was opened with was revoked or has expired"
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
    `run.completed`. Reconnecting with the last id seen gives no gap and no duplicate.

    The stream also ends when the API key it was opened with is revoked or the access token
    expires, within one heartbeat interval; its last line is then an SSE comment saying so."""
    start = _start(after, last_event_id)
    tenant_id = principal.tenant_id
    # No session is held while the stream lasts: reads go through the event log.
    await asyncio.to_thread(service.run_status, engine, tenant_id, run_id)
    event_log: EventLog = request.app.state.event_log
    authenticator: Authenticator = request.app.state.authenticator
    heartbeat = settings.sse_heartbeat_seconds
    # Counted against the tenant's `max_event_streams` while open (429 when all are in use).
    lease_ttl = LEASE_HEARTBEATS * heartbeat
    lease = await asyncio.to_thread(quotas.open_stream, engine, tenant_id, run_id, lease_ttl)

    async def stream() -> AsyncIterator[ServerSentEvent]:
        try:
            async for message in follow():
                yield message
        finally:
            if lease is not None:
                with contextlib.suppress(Exception):  # else the lease expires on its own
                    await asyncio.to_thread(quotas.close_stream, engine, tenant_id, lease)

    async def follow() -> AsyncIterator[ServerSentEvent]:
        clock = asyncio.get_running_loop().time
        cursor, caught_up, checked_at, failures = start, False, clock(), 0
        while True:
            try:
                if clock() - checked_at >= heartbeat:
                    if not await asyncio.to_thread(authenticator.still_valid, principal):
                        yield ServerSentEvent(comment=CREDENTIAL_ENDED)
                        return
                    if lease is not None:
                        await asyncio.to_thread(
                            quotas.renew_stream, engine, tenant_id, lease, lease_ttl
                        )
                    checked_at = clock()
                if caught_up:
                    live = True
                    within = max(0.01, checked_at + heartbeat - clock())
                    events = await event_log.wait(tenant_id, run_id, cursor, within)
                else:
                    live = False
                    events = await event_log.read(tenant_id, run_id, cursor, PAGE)
                    if not events and cursor == 0:
                        events = await asyncio.to_thread(
                            service.replayed, engine, tenant_id, run_id
                        )
                    caught_up = len(events) < PAGE
                if live and not events:
                    # Ended without a run.completed in the log (it could not be written): stop.
                    status = await asyncio.to_thread(service.run_status, engine, tenant_id, run_id)
                    if status.is_terminal:
                        return
            except DATABASE_DOWN as exc:
                # Heartbeats go on meanwhile; the follower resumes where it was.
                failures += 1
                log.warning("event stream of run %s waits for the database: %s", run_id, exc)
                await asyncio.sleep(min(0.2 * 2**failures, RETRY_MAX_SECONDS))
                continue
            failures = 0
            for event in events:
                if live:  # replays would count their age as lag
                    _observe_lag(event)
                yield _message(event)
                cursor = event.id
                if event.type == "run.completed":
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
