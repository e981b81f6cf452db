"""The control plane's handle on the engine's Schedules: one per schedule row, of the same id.

The engine decides when fires happen (cron or interval, time zone, overlap, catch-up, pause);
each fire starts `ScheduledRunWorkflow` on the run task queue. This module builds that Schedule
from the row and speaks to the engine through the run engine's lazy client.
"""

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from anyio import from_thread
from temporalio.client import (
    Schedule as EngineSchedule,
)
from temporalio.client import (
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleBackfill,
    ScheduleHandle,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
    ScheduleState,
    ScheduleUpdate,
    ScheduleUpdateInput,
)
from temporalio.service import RPCError, RPCStatusCode

from backend.errors import ApiError
from backend.services.engine import START_TIMEOUT_SECONDS, EngineUnavailableError, RunEngine
from core.contract import SCHEDULED_RUN_WORKFLOW, ScheduledRunInput
from core.models import Schedule
from core.models.schedule import ScheduleOverlap

T = TypeVar("T")
OVERLAP = {
    ScheduleOverlap.skip: ScheduleOverlapPolicy.SKIP,
    ScheduleOverlap.buffer_one: ScheduleOverlapPolicy.BUFFER_ONE,
    ScheduleOverlap.allow_all: ScheduleOverlapPolicy.ALLOW_ALL,
}
NEXT_FIRES_SHOWN = 5
# A page of schedules is described at once, this many at a time.
DESCRIBE_CONCURRENCY = 16
BACKFILL_START_MARGIN = timedelta(milliseconds=1)


class ScheduleRejectedError(ValueError):
    """The engine refused the schedule's timing (its own cron or time zone checks)."""


class MissingScheduleError(LookupError):
    """The engine has no Schedule of this id."""


@dataclass(frozen=True)
class EngineFire:
    workflow_id: str
    scheduled_at: datetime
    started_at: datetime


@dataclass(frozen=True)
class EngineView:
    """What the engine says of a schedule."""

    paused: bool
    next_fire_times: list[datetime]
    recent: list[EngineFire]
    fires: int


class ScheduleEngine:
    def __init__(self, runs: RunEngine) -> None:
        self.runs = runs

    def _engine_schedule(self, row: Schedule) -> EngineSchedule:
        assert row.tenant_id is not None
        seconds = row.interval_seconds
        every = [ScheduleIntervalSpec(every=timedelta(seconds=seconds))] if seconds else []
        return EngineSchedule(
            action=ScheduleActionStartWorkflow(
                SCHEDULED_RUN_WORKFLOW,
                ScheduledRunInput(row.id, row.tenant_id),
                id=row.id,  # the engine adds the fire's time to it
                task_queue=self.runs.task_queue,
                memo={"tenant_id": row.tenant_id, "schedule_id": row.id},
            ),
            spec=ScheduleSpec(
                cron_expressions=[row.cron] if row.cron else [],
                intervals=every,
                start_at=row.start_at,
                end_at=row.end_at,
                time_zone_name=row.timezone if row.cron else None,
            ),
            policy=SchedulePolicy(
                overlap=OVERLAP[ScheduleOverlap(row.overlap)],
                catchup_window=timedelta(seconds=row.catchup_window_seconds),
            ),
            state=ScheduleState(paused=row.paused, note=row.note or None),
        )

    async def _call(self, what: str, operation: Callable[[], Awaitable[T]]) -> T:
        try:
            return await asyncio.wait_for(operation(), START_TIMEOUT_SECONDS)
        except TimeoutError:
            raise EngineUnavailableError(
                f"the durable engine at {self.runs.address} did not answer in time"
            ) from None
        except RPCError as exc:
            if exc.status == RPCStatusCode.INVALID_ARGUMENT:
                raise ScheduleRejectedError(exc.message) from None
            if exc.status == RPCStatusCode.NOT_FOUND:
                raise MissingScheduleError(what) from None
            raise EngineUnavailableError(f"the durable engine refused {what}: {exc}") from None

    async def _handle(self, schedule_id: str) -> ScheduleHandle:
        return (await self.runs.client()).get_schedule_handle(schedule_id)

    async def create(self, row: Schedule) -> None:
        client = await self.runs.client()
        memo = {"tenant_id": row.tenant_id, "agent_id": row.agent_id}
        # Already there: an earlier attempt of this very create made it.
        with contextlib.suppress(ScheduleAlreadyRunningError):
            await self._call(
                "the schedule",
                lambda: client.create_schedule(row.id, self._engine_schedule(row), memo=memo),
            )

    async def _on_schedule(
        self, row: Schedule, what: str, act: Callable[[ScheduleHandle], Awaitable[None]]
    ) -> None:
        """Do `act` on the row's Schedule; one the engine lost (its data reset) is made again
        from the row first."""
        handle = await self._handle(row.id)
        try:
            await self._call(what, lambda: act(handle))
        except MissingScheduleError:
            await self.create(row)
            await self._call(what, lambda: act(handle))

    async def apply(self, row: Schedule) -> None:
        """Make the engine's Schedule what the row says (timing, policies, pause, note)."""
        wanted = self._engine_schedule(row)

        def replace(_current: ScheduleUpdateInput) -> ScheduleUpdate:
            return ScheduleUpdate(schedule=wanted)

        handle = await self._handle(row.id)
        try:
            await self._call("the update", lambda: handle.update(replace))
        except MissingScheduleError:
            await self.create(row)

    async def pause(self, row: Schedule, note: str | None) -> None:
        await self._on_schedule(row, "the pause", lambda handle: handle.pause(note=note))

    async def unpause(self, row: Schedule, note: str | None) -> None:
        await self._on_schedule(row, "the unpause", lambda handle: handle.unpause(note=note))

    async def trigger(self, row: Schedule) -> None:
        """Fire now, whatever the overlap policy: asked for, not scheduled."""
        overlap = ScheduleOverlapPolicy.ALLOW_ALL
        await self._on_schedule(row, "the trigger", lambda handle: handle.trigger(overlap=overlap))

    async def backfill(self, row: Schedule, start: datetime, end: datetime) -> None:
        """Take the fires due from `start` to `end` (both inclusive) now, side by side."""
        period = ScheduleBackfill(
            # The engine's range excludes its start: from just before it, a fire due exactly
            # at `start` is taken too (fire times are whole seconds).
            start_at=start - BACKFILL_START_MARGIN,
            end_at=end,
            overlap=ScheduleOverlapPolicy.ALLOW_ALL,
        )
        await self._on_schedule(row, "the backfill", lambda handle: handle.backfill(period))

    async def delete(self, schedule_id: str) -> None:
        """Remove the Schedule; one the engine does not have is gone already."""
        handle = await self._handle(schedule_id)
        with contextlib.suppress(MissingScheduleError):
            await self._call("the delete", handle.delete)

    async def delete_many(self, schedule_ids: list[str]) -> None:
        for schedule_id in schedule_ids:
            await self.delete(schedule_id)

    async def describe(self, schedule_id: str) -> EngineView | None:
        """What the engine says of the Schedule; None if it has none of this id."""
        handle = await self._handle(schedule_id)
        try:
            description = await self._call("the description", handle.describe)
        except MissingScheduleError:
            return None
        info = description.info
        paused = description.schedule.state.paused
        return EngineView(
            paused=paused,
            next_fire_times=[] if paused else list(info.next_action_times[:NEXT_FIRES_SHOWN]),
            recent=[
                EngineFire(
                    getattr(action.action, "workflow_id", ""),
                    action.scheduled_at,
                    action.started_at,
                )
                for action in info.recent_actions
            ],
            fires=info.num_actions,
        )

    async def describe_many(self, schedule_ids: list[str]) -> list[EngineView | None]:
        limit = asyncio.Semaphore(DESCRIBE_CONCURRENCY)

        async def one(schedule_id: str) -> EngineView | None:
            async with limit:
                return await self.describe(schedule_id)

        return list(await asyncio.gather(*(one(schedule_id) for schedule_id in schedule_ids)))


def engine_unavailable(exc: EngineUnavailableError) -> ApiError:
    return ApiError(503, "engine_unavailable", str(exc))


def remove_engine_schedules(engine: ScheduleEngine, schedule_ids: list[str]) -> None:
    """From a request's thread: delete these Schedules from the engine (503 if it is away)."""
    if not schedule_ids:
        return
    try:
        from_thread.run(engine.delete_many, schedule_ids)
    except EngineUnavailableError as exc:
        raise engine_unavailable(exc) from None
