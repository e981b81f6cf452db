"""ScheduledRunWorkflow: one fire of a schedule. No I/O here, only decisions.

The engine's Schedule starts it at each fire. Its activity records the fire's run (or says why
none is made); the run's own AgentRunWorkflow then runs as its child, with the run's id, and
this workflow waits for it: the Schedule's overlap policy (skip, buffer one, allow all) thus
governs overlapping runs. The child outlives this workflow if it is ever closed early.
"""

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributeKey, WorkflowIDReusePolicy
from temporalio.exceptions import ChildWorkflowError, WorkflowAlreadyStartedError

with workflow.unsafe.imports_passed_through():
    from core.contract import (
        FIRE_SCHEDULE,
        NON_RETRYABLE_ERRORS,
        SCHEDULED_RUN_WORKFLOW,
        WORKFLOW_NAME,
        AgentRunResult,
        FireScheduleInput,
        FireScheduleResult,
        ScheduledRunInput,
        ScheduledRunResult,
    )

# Set by the engine on every workflow a Schedule starts: the time the fire was due.
SCHEDULED_START_TIME = SearchAttributeKey.for_datetime("TemporalScheduledStartTime")
# Recording the run is a short database write; an outage delays the fire by minutes at most,
# then the fire is given up (the next one tries again).
FIRE_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    maximum_interval=timedelta(seconds=30),
    maximum_attempts=10,
    non_retryable_error_types=NON_RETRYABLE_ERRORS,
)
FIRE_TIMEOUT = timedelta(seconds=30)


@workflow.defn(name=SCHEDULED_RUN_WORKFLOW)
class ScheduledRunWorkflow:
    @workflow.run
    async def run(self, fire: ScheduledRunInput) -> ScheduledRunResult:
        info = workflow.info()
        due = info.typed_search_attributes.get(SCHEDULED_START_TIME)
        recorded: FireScheduleResult = await workflow.execute_activity(
            FIRE_SCHEDULE,
            FireScheduleInput(
                fire.schedule_id,
                fire.tenant_id,
                fire_id=info.workflow_id,
                scheduled_at=due.isoformat() if due else None,
            ),
            result_type=FireScheduleResult,
            start_to_close_timeout=FIRE_TIMEOUT,
            retry_policy=FIRE_RETRY,
        )
        if recorded.run is None:  # the activity logged why
            return ScheduledRunResult(fire.schedule_id, None, "skipped", recorded.skipped)
        run_id = recorded.run.run_id
        try:
            child = await workflow.start_child_workflow(
                WORKFLOW_NAME,
                recorded.run,
                id=run_id,
                task_queue=info.task_queue,
                result_type=AgentRunResult,
                parent_close_policy=workflow.ParentClosePolicy.ABANDON,
                # A run whose workflow has already ended is never run twice.
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            )
        except WorkflowAlreadyStartedError:
            # An earlier attempt started it, or the API's run starter, which leaves a fire's run
            # queued for minutes before taking this fire for lost: it runs on its own.
            return ScheduledRunResult(fire.schedule_id, run_id, "started")
        try:
            ended = await child
        except ChildWorkflowError as failure:
            # Cancelled or terminated from outside; the run's row records how it ended.
            workflow.logger.info("run %s of schedule %s: %s", run_id, fire.schedule_id, failure)
            return ScheduledRunResult(fire.schedule_id, run_id, "ended")
        return ScheduledRunResult(fire.schedule_id, run_id, ended.status)
