"""Threads with a time to live are deleted once idle that long: a periodic job in every API
process (several at once delete each thread once: a deleted thread is simply gone)."""

import asyncio
import contextlib
import logging

from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from backend.errors import ApiError
from backend.services.threads import delete_thread, expired_thread_ids
from core.db import AllTenants, TenantScope, scoped_session
from core.events import EventLog
from core.models import Thread
from core.objectstore import ObjectStore

log = logging.getLogger("agent_runtime.api")


class ThreadSweeper:
    def __init__(
        self, database: Engine, store: ObjectStore, events: EventLog, interval_seconds: float
    ) -> None:
        self.database = database
        self.store = store
        self.events = events
        self.interval = interval_seconds
        # The deleted runs whose live events (e.g. Redis streams) are still to be dropped.
        self.deleted_runs: list[str] = []

    def sweep(self) -> int:
        """One pass; the number of threads deleted."""
        with scoped_session(self.database, AllTenants()) as session:
            expired = [(tid, session.get(Thread, tid)) for tid in expired_thread_ids(session)]
        deleted = 0
        for thread_id, thread in expired:
            if thread is None or thread.tenant_id is None:
                continue
            with scoped_session(self.database, TenantScope(thread.tenant_id)) as session:
                try:
                    self.deleted_runs += delete_thread(session, self.store, thread_id)
                except ApiError:  # gone meanwhile, or a run was added: it is no longer idle
                    session.rollback()
                    continue
            deleted += 1
        if deleted:
            log.info("deleted %d thread(s) idle past their time to live", deleted)
        return deleted

    async def run_forever(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await asyncio.to_thread(self.sweep)
                deleted, self.deleted_runs = self.deleted_runs, []
                await self.events.forget(deleted)
            except SQLAlchemyError as exc:  # the database is down: try again next time
                log.warning("could not look for expired threads: %s", exc.__class__.__name__)
            except Exception:
                log.exception("the thread sweeper failed; it tries again")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.interval)
