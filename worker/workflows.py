"""AgentRunWorkflow: orchestrates a run's model and tool steps. No I/O here, only decisions."""

import asyncio
import contextlib
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from core.contract import (
        APPROVAL_SIGNAL,
        CALL_MODEL,
        EXPIRE_APPROVAL,
        FINISH_RUN,
        NON_RETRYABLE_ERRORS,
        REQUEST_APPROVAL,
        RUN_TOOL,
        WORKFLOW_NAME,
        AgentRunInput,
        AgentRunResult,
        ApprovalDecided,
        ApprovalOutcome,
        ApprovalRef,
        ApprovalRequested,
        ApprovalRequestInput,
        FinishRunInput,
        InFlight,
        ModelStepInput,
        ModelStepResult,
        ToolStepInput,
        ToolStepResult,
    )

MODEL_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=30),
    maximum_attempts=6,
    non_retryable_error_types=NON_RETRYABLE_ERRORS,
)
TOOL_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    maximum_interval=timedelta(seconds=10),
    maximum_attempts=3,
    non_retryable_error_types=NON_RETRYABLE_ERRORS,
)
# Approval bookkeeping: quick database writes.
BOOKKEEPING_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    maximum_interval=timedelta(seconds=30),
    non_retryable_error_types=NON_RETRYABLE_ERRORS,
)
BOOKKEEPING_TIMEOUT = timedelta(seconds=30)
# Recording a run's ending is retried without limit: a database outage delays it, never loses it.
FINISH_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    maximum_interval=timedelta(seconds=10),
    non_retryable_error_types=NON_RETRYABLE_ERRORS,
)
FINISH_TIMEOUT = timedelta(seconds=30)
STEP_TIMEOUT = timedelta(minutes=10)
# Steps heartbeat every second and workers send one at least every 2 s: a dead worker's step
# runs again elsewhere within about 5 s.
HEARTBEAT_TIMEOUT = timedelta(seconds=5)


class LimitReachedError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@workflow.defn(name=WORKFLOW_NAME)
class AgentRunWorkflow:
    def __init__(self) -> None:
        # The step being executed and when it was scheduled, so an ending can close it.
        self.in_flight: InFlight | None = None
        # The approval the run is waiting for, and decisions signalled by approval id.
        self.awaiting_approval: str | None = None
        self.decisions: dict[str, str] = {}

    @workflow.run
    async def run(self, run_input: AgentRunInput) -> AgentRunResult:
        state = run_input
        if state.deadline_epoch_ms is None:
            now_ms = int(workflow.now().timestamp() * 1000)
            state.deadline_epoch_ms = now_ms + state.limits.timeout_seconds * 1000
        loop = asyncio.create_task(self._agent_loop(state))
        try:
            while not loop.done():
                if self.awaiting_approval is not None:
                    # A human decides; the run's timeout pauses (approvals expire on their own).
                    await workflow.wait_condition(
                        lambda: loop.done() or self.awaiting_approval is None
                    )
                    continue
                remaining = max(0.0, state.deadline_epoch_ms / 1000 - workflow.now().timestamp())
                await workflow.wait_condition(
                    lambda: loop.done() or self.awaiting_approval is not None, timeout=remaining
                )
        except TimeoutError:
            await _stop(loop)
            message = f"the run exceeded its timeout of {state.limits.timeout_seconds} s"
            return await self._finish(state, "timed_out", "run_timeout", message)
        except asyncio.CancelledError:
            await _stop(loop)
            await self._finish(state, "cancelled", "cancelled", "the run was cancelled")
            raise
        try:
            loop.result()
        except LimitReachedError as limit:
            return await self._finish(state, "failed", limit.code, str(limit))
        except ActivityError as failure:
            code, message = _describe(failure)
            return await self._finish(state, "failed", code, message)
        return self._result(state, "succeeded")

    @workflow.signal(name=APPROVAL_SIGNAL)
    def approval_decided(self, decided: ApprovalDecided) -> None:
        # The first decision stands; the database refused any other already.
        self.decisions.setdefault(decided.approval_id, decided.status)

    async def _agent_loop(self, state: AgentRunInput) -> None:
        steps_this_execution = 0
        while True:
            self._check_limits(state)
            self.in_flight = (state.next_seq, "model", "", _now_ms())
            model: ModelStepResult = await workflow.execute_activity(
                CALL_MODEL,
                ModelStepInput(state.run_id, state.tenant_id, state.next_seq),
                result_type=ModelStepResult,
                start_to_close_timeout=STEP_TIMEOUT,
                heartbeat_timeout=HEARTBEAT_TIMEOUT,
                retry_policy=MODEL_RETRY,
            )
            state.next_seq += 1
            steps_this_execution += 1
            self.in_flight = None
            state.input_tokens += model.input_tokens
            state.output_tokens += model.output_tokens
            state.cost_usd += model.cost_usd
            if model.final:
                return
            for index, name in enumerate(model.tool_names):
                self._check_steps(state)
                self.in_flight = (state.next_seq, "tool", name, _now_ms())
                approval_id = None
                if index < len(model.needs_approval) and model.needs_approval[index]:
                    approval_id = await self._approval(state, model.seq, index)
                    # The tool's step starts once the wait for a person is over.
                    self.in_flight = (state.next_seq, "tool", name, _now_ms())
                await workflow.execute_activity(
                    RUN_TOOL,
                    ToolStepInput(
                        state.run_id,
                        state.tenant_id,
                        state.next_seq,
                        model.seq,
                        index,
                        approval_id,
                    ),
                    result_type=ToolStepResult,
                    start_to_close_timeout=STEP_TIMEOUT,
                    heartbeat_timeout=HEARTBEAT_TIMEOUT,
                    retry_policy=TOOL_RETRY,
                )
                state.next_seq += 1
                steps_this_execution += 1
            self.in_flight = None
            if (
                steps_this_execution >= state.steps_per_execution
                or workflow.info().is_continue_as_new_suggested()
            ):
                workflow.continue_as_new(state)

    async def _approval(self, state: AgentRunInput, model_seq: int, index: int) -> str | None:
        """Ask for a decision on a tool call and wait for it, durably, until it expires."""
        requested: ApprovalRequested = await workflow.execute_activity(
            REQUEST_APPROVAL,
            ApprovalRequestInput(state.run_id, state.tenant_id, state.next_seq, model_seq, index),
            result_type=ApprovalRequested,
            start_to_close_timeout=BOOKKEEPING_TIMEOUT,
            retry_policy=BOOKKEEPING_RETRY,
        )
        approval_id = requested.approval_id
        if approval_id is None or requested.status is not None:
            return approval_id
        waiting_since = workflow.now()
        self.awaiting_approval = approval_id
        try:
            wait = requested.expires_epoch_ms / 1000 - waiting_since.timestamp()
            with contextlib.suppress(TimeoutError):
                if wait > 0:
                    await workflow.wait_condition(
                        lambda: approval_id in self.decisions, timeout=wait
                    )
            if approval_id not in self.decisions:
                # Expired, unless a decision was recorded whose signal never arrived.
                await workflow.execute_activity(
                    EXPIRE_APPROVAL,
                    ApprovalRef(state.run_id, state.tenant_id, approval_id),
                    result_type=ApprovalOutcome,
                    start_to_close_timeout=BOOKKEEPING_TIMEOUT,
                    retry_policy=BOOKKEEPING_RETRY,
                )
        finally:
            # Waiting for a person does not count against the run's timeout; the deadline
            # moves before the wait ends, so the run's timer never sees the old one.
            assert state.deadline_epoch_ms is not None
            waited = workflow.now() - waiting_since
            state.deadline_epoch_ms += int(waited.total_seconds() * 1000)
            self.awaiting_approval = None
        return approval_id

    def _check_steps(self, state: AgentRunInput) -> None:
        if state.next_seq - 1 >= state.limits.max_steps:
            raise LimitReachedError(
                "max_steps_exceeded", f"the run reached its limit of {state.limits.max_steps} steps"
            )

    def _check_limits(self, state: AgentRunInput) -> None:
        self._check_steps(state)
        tokens = state.input_tokens + state.output_tokens
        if tokens >= state.limits.max_tokens:
            raise LimitReachedError(
                "max_tokens_exceeded",
                f"the run used {tokens} tokens; its limit is {state.limits.max_tokens}",
            )
        budget = state.limits.max_cost_usd
        if budget is not None and state.cost_usd >= budget:
            raise LimitReachedError(
                "max_cost_exceeded",
                f"the run cost ${state.cost_usd:.4f}; its limit is ${budget:.4f}",
            )

    async def _finish(
        self, state: AgentRunInput, status: str, code: str, message: str
    ) -> AgentRunResult:
        await workflow.execute_local_activity(
            FINISH_RUN,
            FinishRunInput(state.run_id, state.tenant_id, status, code, message, self.in_flight),
            start_to_close_timeout=FINISH_TIMEOUT,
            retry_policy=FINISH_RETRY,
        )
        return self._result(state, status, code)

    def _result(self, state: AgentRunInput, status: str, code: str | None = None) -> AgentRunResult:
        return AgentRunResult(
            run_id=state.run_id,
            status=status,
            steps=state.next_seq - 1,
            input_tokens=state.input_tokens,
            output_tokens=state.output_tokens,
            cost_usd=state.cost_usd,
            error_code=code,
        )


def _now_ms() -> int:
    return int(workflow.now().timestamp() * 1000)


async def _stop(task: "asyncio.Task[None]") -> None:
    """Cancel the agent loop and wait until its in-flight step has been told."""
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError, ActivityError):
        await task


def _describe(failure: ActivityError) -> tuple[str, str]:
    cause = failure.cause
    while isinstance(cause, ActivityError):
        cause = cause.cause
    if isinstance(cause, ApplicationError):
        return cause.type or "activity_failed", cause.message
    return "activity_failed", str(cause or failure)
