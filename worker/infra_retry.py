"""Riding out outages of the database and the object store inside an activity.

A step's own failure (a tool's error, a provider's refusal, a constraint) goes to the workflow's
retry policy and counts as one of the step's attempts. An unreachable dependency is no fault of
the step: the operation that met it is tried again here, with capped exponential backoff and
heartbeats meanwhile (so the engine keeps the activity alive and a cancel still reaches it),
until the dependency answers or the activity's own time is nearly spent. What already happened
(a tool call, a model reply) is kept: only the operation that met the outage runs again. The
run's timeout still holds: the workflow cancels the step, and the cancel arrives by heartbeat.
"""

import asyncio
import logging
import sqlite3
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TypeVar

import psycopg
from sqlalchemy import exc as sa_exc
from temporalio import activity

from core.objectstore import ObjectNotFoundError, ObjectStoreError

log = logging.getLogger("agent_runtime.worker")
T = TypeVar("T")

HEARTBEAT_EVERY_SECONDS = 1.0
FIRST_BACKOFF_SECONDS = 0.25
MAX_BACKOFF_SECONDS = 3.0
# Retrying stops this long before the activity's own timeout, so that the outage, not a timeout,
# is what the attempt reports.
DEADLINE_MARGIN_SECONDS = 2.0
# SQLite's answers when another writer holds the database (past the busy timeout).
SQLITE_CONTENTION = frozenset({"SQLITE_BUSY", "SQLITE_LOCKED"})


def is_infrastructure_error(error: BaseException) -> bool:
    """An unreachable or overloaded database or object store, as opposed to the step's failure."""
    if isinstance(error, ObjectNotFoundError):
        return False
    if isinstance(error, ObjectStoreError):
        return True
    if isinstance(error, sa_exc.DBAPIError):
        if error.connection_invalidated:
            return True
        if isinstance(error.orig, sqlite3.OperationalError):
            # Other SQLite operational errors (a missing table, a read-only file) stay errors.
            return _sqlite_contention(error.orig)
        return isinstance(error, sa_exc.OperationalError)
    # A pool that could hand out no connection in time, or a raw driver error.
    unavailable = sa_exc.DisconnectionError | sa_exc.TimeoutError | psycopg.OperationalError
    return isinstance(error, unavailable)


def _sqlite_contention(error: sqlite3.OperationalError) -> bool:
    name = getattr(error, "sqlite_errorname", "")
    return name in SQLITE_CONTENTION or "database is locked" in str(error)


async def retry_infrastructure(operation: Callable[[], Awaitable[T]], what: str) -> T:
    """`operation()`, tried again while it fails on infrastructure (`what` names it in logs).

    Any other error, and an infrastructure error once the activity's time is nearly spent,
    propagates as it is.
    """
    backoff = FIRST_BACKOFF_SECONDS
    outage_began: float | None = None
    while True:
        try:
            result = await heartbeating(operation())
        except Exception as error:
            if not is_infrastructure_error(error) or not _time_left_for(backoff):
                raise
            if outage_began is None:
                outage_began = time.monotonic()
                log.warning("%s is unavailable (%s); retrying until it is back", what, error)
            await heartbeating(asyncio.sleep(backoff))
            backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
            continue
        if outage_began is not None:
            log.info("%s is back after %.1f s", what, time.monotonic() - outage_began)
        return result


async def heartbeating(work: Awaitable[T]) -> T:
    """Await `work`, heartbeating meanwhile, so a cancel reaches us and a dead worker is noticed."""
    task = asyncio.ensure_future(work)
    try:
        while True:
            done, _ = await asyncio.wait({task}, timeout=HEARTBEAT_EVERY_SECONDS)
            if done:
                return task.result()
            _heartbeat()
    finally:
        if not task.done():
            task.cancel()


def _heartbeat() -> None:
    # Local activities have no heartbeats: the workflow task they run in is kept alive instead.
    if activity.in_activity() and not activity.info().is_local:
        activity.heartbeat()


def _time_left_for(backoff: float) -> bool:
    """Whether another try after `backoff` fits in the activity's time (outside one: always)."""
    if not activity.in_activity():
        return True
    info = activity.info()
    now = datetime.now(UTC)
    deadlines = []
    if info.start_to_close_timeout:
        deadlines.append(info.started_time + info.start_to_close_timeout)
    if info.schedule_to_close_timeout:
        deadlines.append(info.scheduled_time + info.schedule_to_close_timeout)
    if not deadlines:
        return True
    left = (min(deadlines) - now).total_seconds()
    return left > backoff + DEADLINE_MARGIN_SECONDS
