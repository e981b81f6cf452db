"""Every committed run gets its workflow, exactly once, even if the API died or the engine was down.

The committed `queued` row is the record of a run to start. The request that created it starts
the workflow at once; when that could not happen (the engine was unreachable, or the API process
died between its commit and the start), this starter, running in every API process, finds runs
still `queued` after a grace period and starts them. Starting is idempotent by run id (the
workflow id), so several API processes doing it at once make one workflow.

A schedule's fire starts its run's workflow itself, as its child, so that the schedule's overlap
policy holds: the fire is durable and does so even after a worker dies or behind a backlog. Its
runs are left to it for much longer, and started here only if the fire itself is gone.
"""

import asyncio
import contextlib
import logging
from datetime import timedelta

from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import and_, col, or_, select

from backend.services.engine import EngineUnavailableError, RunEngine
from core.contract import AgentRunInput
from core.db import AllTenants, scoped_session
from core.models import Run, RunStatus
from core.models.common import utcnow
from core.thread_queue import waits_for_its_turn, workflow_input

log = logging.getLogger("agent_runtime.api")
BATCH = 100
# A fire's run still queued this long has lost its fire.
SCHEDULED_GRACE = timedelta(minutes=10)


class RunStarter:
    def __init__(
        self,
        database: Engine,
        engine: RunEngine,
        steps_per_execution: int,
        interval_seconds: float,
    ) -> None:
        self.database = database
        self.engine = engine
        self.steps_per_execution = steps_per_execution
        self.interval = interval_seconds
        # A run this young may still be starting in the request that created it.
        self.grace = timedelta(seconds=interval_seconds)

    def _pending(self) -> list[AgentRunInput]:
        """Runs queued for longer than the grace period whose workflow this process has not
        seen started, oldest first; a thread's run only on its turn; a fire's run only once
        its fire is surely gone."""
        now = utcnow()
        cutoff, fire_cutoff = now - self.grace, now - max(self.grace, SCHEDULED_GRACE)
        with scoped_session(self.database, AllTenants()) as session:
            runs = session.exec(
                select(Run)
                .where(
                    Run.status == RunStatus.queued,
                    or_(
                        col(Run.created_at) < fire_cutoff,
                        and_(col(Run.schedule_id).is_(None), col(Run.created_at) < cutoff),
                    ),
                    ~waits_for_its_turn(),
                )
                .order_by(col(Run.created_at))
                .limit(BATCH * 4)
            ).all()
            waiting = [run for run in runs if not self.engine.known_started(run.id)][:BATCH]
            return [workflow_input(session, run, self.steps_per_execution) for run in waiting]

    async def start_pending(self) -> int:
        """One pass; the number of runs whose workflow it started (or found started)."""
        started = 0
        for run_input in await asyncio.to_thread(self._pending):
            try:
                await self.engine.start(run_input)
            except EngineUnavailableError as exc:
                log.warning("queued runs wait for the durable engine: %s", exc)
                break
            started += 1
        if started:
            log.info("started the workflows of %d queued run(s)", started)
        return started

    async def run_forever(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.start_pending()
            except SQLAlchemyError as exc:  # the database is down: try again next time
                log.warning("could not look for queued runs: %s", exc.__class__.__name__)
            except Exception:
                log.exception("the run starter failed; it tries again")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.interval)
