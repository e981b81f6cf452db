"""A schedule's fire: record its queued run (idempotently) or say why none is made.

A fire whose schedule row is gone (deleted while the engine was away, or its agent deleted)
also removes the engine's Schedule, once that is old enough not to be one whose row is still
being committed.
"""

from datetime import datetime, timedelta

from sqlmodel import Session
from temporalio import activity
from temporalio.service import RPCError, RPCStatusCode

from core.contract import FIRE_SCHEDULE, FireScheduleInput, FireScheduleResult
from core.models.common import utcnow
from core.observability import run_id_var, tenant_id_var
from core.run_records import SCHEDULE_DELETED, scheduled_run
from core.thread_queue import workflow_input
from worker.activities.recorder import StepRecorder

# The API creates the engine's Schedule first and its row just after: younger, a missing row
# may yet appear.
ORPHAN_AFTER = timedelta(minutes=2)
ENGINE_CALL_TIMEOUT = timedelta(seconds=5)


class ScheduleSteps(StepRecorder):
    @activity.defn(name=FIRE_SCHEDULE)
    async def fire_schedule(self, fire: FireScheduleInput) -> FireScheduleResult:
        tenant_id_var.set(fire.tenant_id)
        due = datetime.fromisoformat(fire.scheduled_at) if fire.scheduled_at else None

        def record(session: Session) -> FireScheduleResult:
            made = scheduled_run(session, fire.schedule_id, fire.fire_id, due)
            if isinstance(made, str):
                return FireScheduleResult(skipped=made)
            return FireScheduleResult(run=workflow_input(session, made, self.steps_per_execution))

        result = await self._db(fire.tenant_id, record)
        if result.run is not None:
            run_id_var.set(result.run.run_id)
            activity.logger.info("schedule %s fired run %s", fire.schedule_id, result.run.run_id)
            return result
        activity.logger.info("schedule %s made no run: %s", fire.schedule_id, result.skipped)
        if result.skipped == SCHEDULE_DELETED:
            await _remove_orphan(fire.schedule_id)
        return result


async def _remove_orphan(schedule_id: str) -> None:
    """Delete the engine's Schedule whose row is gone. Best effort: the next fire tries again."""
    handle = activity.client().get_schedule_handle(schedule_id)
    try:
        description = await handle.describe(rpc_timeout=ENGINE_CALL_TIMEOUT)
        if utcnow() - description.info.created_at < ORPHAN_AFTER:
            return
        await handle.delete(rpc_timeout=ENGINE_CALL_TIMEOUT)
        activity.logger.info("removed the engine's schedule %s: its row is gone", schedule_id)
    except RPCError as exc:
        if exc.status != RPCStatusCode.NOT_FOUND:
            activity.logger.warning("could not remove schedule %s: %s", schedule_id, exc)
