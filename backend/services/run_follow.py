"""Following a run's events from a stream: replay from any point, then live, for as long as the
caller's credential holds. Shared by the run's own event stream and the LangGraph-compatible
streams, which translate the same events.

A follow outlives outages: with Redis down it reads the database, with the database down it
waits and retries (the stream's heartbeats go on meanwhile). It counts against the tenant's
`max_event_streams` while open, and checks its credential once per heartbeat interval.
"""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from backend.auth import Authenticator, Principal
from backend.services import events as replays
from backend.services import quotas
from core.events import EventLog, RunEvent
from core.models.common import utcnow
from core.observability import EVENT_LAG_SECONDS

log = logging.getLogger("agent_runtime.api")
PAGE = 500
# A stream's lease outlives this many missed renewals (one per heartbeat) before it stops counting.
LEASE_HEARTBEATS = 3
# An unreachable database: the follower waits it out, retrying this often at most.
DATABASE_DOWN = (DBAPIError, PoolTimeoutError)
RETRY_MAX_SECONDS = 5.0
# The last thing a stream sends when its credential no longer holds.
CREDENTIAL_ENDED = "the credential this stream was opened with was revoked or has expired"


@dataclass(frozen=True)
class Sources:
    """Where a follower reads: the event log, the database, and who may still read."""

    event_log: EventLog
    engine: Engine
    authenticator: Authenticator
    heartbeat: float


@dataclass
class RunFollower:
    """One caller following one run. `events` yields the run's events after a cursor until
    `run.completed`; it stops early, with `credential_ended` set, once the credential lapses."""

    sources: Sources
    principal: Principal
    run_id: str
    lease: str | None
    credential_ended: bool = False

    @property
    def lease_ttl(self) -> float:
        return LEASE_HEARTBEATS * self.sources.heartbeat

    async def events(self, start: int) -> AsyncIterator[RunEvent]:
        try:
            async for event in self._follow(start):
                yield event
        finally:
            if self.lease is not None:
                with contextlib.suppress(Exception):  # else the lease expires on its own
                    await asyncio.to_thread(
                        quotas.close_stream,
                        self.sources.engine,
                        self.principal.tenant_id,
                        self.lease,
                    )

    async def _follow(self, start: int) -> AsyncIterator[RunEvent]:
        sources, tenant_id, run_id = self.sources, self.principal.tenant_id, self.run_id
        clock = asyncio.get_running_loop().time
        cursor, caught_up, checked_at, failures = start, False, clock(), 0
        while True:
            try:
                if clock() - checked_at >= sources.heartbeat:
                    if not await asyncio.to_thread(
                        sources.authenticator.still_valid, self.principal
                    ):
                        self.credential_ended = True
                        return
                    if self.lease is not None:
                        await asyncio.to_thread(
                            quotas.renew_stream,
                            sources.engine,
                            tenant_id,
                            self.lease,
                            self.lease_ttl,
                        )
                    checked_at = clock()
                if caught_up:
                    live = True
                    within = max(0.01, checked_at + sources.heartbeat - clock())
                    events = await sources.event_log.wait(tenant_id, run_id, cursor, within)
                else:
                    live = False
                    events = await sources.event_log.read(tenant_id, run_id, cursor, PAGE)
                    if not events and cursor == 0:
                        events = await asyncio.to_thread(
                            replays.replayed, sources.engine, tenant_id, run_id
                        )
                    caught_up = len(events) < PAGE
                if live and not events:
                    status = await asyncio.to_thread(
                        replays.run_status, sources.engine, tenant_id, run_id
                    )
                    if status.is_terminal:
                        # Its last events may have committed with the ending, after the wait
                        # looked: read once more, then stop (also for an ending without a
                        # `run.completed` in the log, when that could not be written).
                        events = await sources.event_log.read(tenant_id, run_id, cursor, PAGE)
                        if not events:
                            return
                        caught_up = len(events) < PAGE
            except DATABASE_DOWN as exc:
                failures += 1
                log.warning("event stream of run %s waits for the database: %s", run_id, exc)
                await asyncio.sleep(min(0.2 * 2**failures, RETRY_MAX_SECONDS))
                continue
            failures = 0
            for event in events:
                if live:  # replays would count their age as lag
                    _observe_lag(event)
                yield event
                cursor = event.id
                if event.type == "run.completed":
                    return


async def open_follower(sources: Sources, principal: Principal, run_id: str) -> RunFollower:
    """A follower of the caller's run: a 404 if the tenant has no such run, a 429 when the
    tenant's event streams are all open."""
    tenant_id = principal.tenant_id
    await asyncio.to_thread(replays.run_status, sources.engine, tenant_id, run_id)
    ttl = LEASE_HEARTBEATS * sources.heartbeat
    lease = await asyncio.to_thread(quotas.open_stream, sources.engine, tenant_id, run_id, ttl)
    return RunFollower(sources, principal, run_id, lease)


def _observe_lag(event: RunEvent) -> None:
    published = datetime.fromisoformat(event.at.replace("Z", "+00:00"))
    EVENT_LAG_SECONDS.observe(max(0.0, (utcnow() - published).total_seconds()))
