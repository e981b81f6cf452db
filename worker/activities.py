"""Activities: every piece of I/O of a run. Each records its own step, idempotently by seq."""

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from temporalio import activity
from temporalio.exceptions import ApplicationError

from backend.db import TenantScope, scoped_session
from backend.models import AgentVersion, Run, RunStatus, RunStep, StepKind, StepStatus
from backend.models.agent_config import AgentConfig
from backend.models.common import utcnow
from backend.models.run import InvalidTransitionError, check_transition
from worker.contract import (
    FinishRunInput,
    ModelStepInput,
    ModelStepResult,
    ToolStepInput,
    ToolStepResult,
)
from worker.pricing import PriceTable
from worker.providers.base import Provider
from worker.tools import ToolContext, execute, tool_spec
from worker.types import Message, ModelReply, ProviderError, ToolCall, ToolError

HEARTBEAT_EVERY_SECONDS = 2.0
T = TypeVar("T")


@dataclass
class RunContext:
    run: Run
    config: AgentConfig
    steps: list[RunStep]


def _transcript(run: Run, steps: list[RunStep]) -> list[Message]:
    """Rebuild the conversation from the recorded steps: the database is the transcript."""
    messages = [Message(role="user", content=str(run.input or ""))]
    for step in steps:
        if step.status == StepStatus.running:
            continue
        output = step.output or {}
        if step.kind == StepKind.model:
            calls = [ToolCall(**call) for call in output.get("tool_calls", [])]
            messages.append(Message("assistant", output.get("text") or "", calls))
        elif step.kind == StepKind.tool:
            failed = step.status == StepStatus.failed
            content = (step.error or {}).get("message", "") if failed else output.get("content")
            messages.append(
                Message(
                    "tool",
                    content if isinstance(content, str) else json.dumps(content),
                    tool_call_id=(step.input or {}).get("call_id"),
                    name=step.name,
                    is_error=failed,
                )
            )
    return messages


def _system_prompt(config: AgentConfig, run: Run) -> str:
    if not run.context:
        return config.system_prompt
    return f"{config.system_prompt}\n\nContext: {json.dumps(run.context, sort_keys=True)}".strip()


class RunActivities:
    def __init__(
        self,
        engine: Engine,
        providers: dict[str, Provider],
        prices: PriceTable,
    ) -> None:
        self.engine = engine
        self.providers = providers
        self.prices = prices

    async def _db(self, tenant_id: str, work: Callable[[Session], T]) -> T:
        def in_thread() -> T:
            with scoped_session(self.engine, TenantScope(tenant_id)) as session:
                return work(session)

        return await asyncio.to_thread(in_thread)

    def _load(self, session: Session, run_id: str, before_seq: int) -> RunContext:
        run = session.get(Run, run_id)
        if run is None:
            raise ApplicationError(f"run {run_id} not found", type="run_not_found")
        version = session.get(AgentVersion, run.version_id)
        assert version is not None
        steps = list(
            session.exec(
                select(RunStep)
                .where(RunStep.run_id == run_id, RunStep.seq < before_seq)
                .order_by(col(RunStep.seq))
            )
        )
        return RunContext(run, version.agent_config(), steps)

    def _begin_step(
        self, session: Session, run: Run, seq: int, kind: StepKind, name: str, step_input: Any
    ) -> RunStep:
        """Create the step row, or find it again on a retry (unique run_id + seq)."""
        step = session.exec(
            select(RunStep).where(RunStep.run_id == run.id, RunStep.seq == seq)
        ).first()
        attempt = activity.info().attempt
        if step is None:
            step = RunStep(run_id=run.id, seq=seq, kind=kind, name=name, input=step_input)
        elif step.status != StepStatus.running:
            return step  # finished by an earlier attempt whose completion was lost
        step.attempt = attempt
        step.started_at = utcnow()
        if run.status == RunStatus.queued:
            check_transition(RunStatus(run.status), RunStatus.running)
            run.status = RunStatus.running
            run.started_at = run.started_at or utcnow()
            session.add(run)
        session.add(step)
        session.commit()
        return step

    async def _with_heartbeat(self, work: Awaitable[T]) -> T:
        """Heartbeat while waiting, so a cancel reaches us and a dead worker is noticed."""
        task = asyncio.ensure_future(work)
        try:
            while True:
                done, _ = await asyncio.wait({task}, timeout=HEARTBEAT_EVERY_SECONDS)
                if done:
                    return task.result()
                activity.heartbeat()
        finally:
            if not task.done():
                task.cancel()

    @activity.defn(name="call_model")
    async def call_model(self, step_input: ModelStepInput) -> ModelStepResult:
        seq = step_input.seq

        def begin(session: Session) -> tuple[RunContext, RunStep]:
            context = self._load(session, step_input.run_id, seq)
            spec = context.config.model
            step = self._begin_step(
                session,
                context.run,
                seq,
                StepKind.model,
                spec.name or spec.provider,
                {"provider": spec.provider, "model": spec.name, "messages": len(context.steps) + 1},
            )
            return context, step

        context, step = await self._db(step_input.tenant_id, begin)
        if step.status == StepStatus.succeeded:
            return self._model_result(step)
        config = context.config
        provider = self.providers.get(config.model.provider)
        if provider is None:
            raise ApplicationError(
                f"this worker has no provider {config.model.provider!r} configured",
                type="bad_config",
            )
        tools = [tool_spec(tool) for tool in config.tools]
        try:
            reply: ModelReply = await self._with_heartbeat(
                provider.complete(
                    config.model,
                    _system_prompt(config, context.run),
                    _transcript(context.run, context.steps),
                    tools,
                )
            )
        except ProviderError as error:
            await self._db(
                step_input.tenant_id,
                partial(self._record_failure, step_id=step.id, error=error),
            )
            raise ApplicationError(
                error.message, type=error.code, non_retryable=not error.retryable
            ) from None
        cost = self.prices.cost(config.model, reply.input_tokens, reply.output_tokens)
        output = {
            "text": reply.text,
            "tool_calls": [
                {"id": c.id, "name": c.name, "arguments": c.arguments} for c in reply.tool_calls
            ],
        }

        def complete(session: Session) -> RunStep:
            row = session.get(RunStep, step.id)
            assert row is not None
            row.status = StepStatus.succeeded
            row.output = output
            row.input_tokens, row.output_tokens, row.cost_usd = (
                reply.input_tokens,
                reply.output_tokens,
                cost,
            )
            row.ended_at = utcnow()
            row.error = None
            session.add(row)
            if not reply.tool_calls:
                self._end_run(session, step_input.run_id, RunStatus.succeeded, output=reply.text)
            session.commit()
            return row

        return self._model_result(await self._db(step_input.tenant_id, complete))

    @staticmethod
    def _model_result(step: RunStep) -> ModelStepResult:
        calls = (step.output or {}).get("tool_calls", [])
        return ModelStepResult(
            seq=step.seq,
            tool_names=[call["name"] for call in calls],
            final=not calls,
            input_tokens=step.input_tokens,
            output_tokens=step.output_tokens,
            cost_usd=step.cost_usd,
        )

    @staticmethod
    def _record_failure(session: Session, step_id: str, error: ProviderError) -> None:
        row = session.get(RunStep, step_id)
        assert row is not None
        row.error = {"code": error.code, "message": error.message, "retryable": error.retryable}
        if not error.retryable:
            row.status = StepStatus.failed
            row.ended_at = utcnow()
        session.add(row)
        session.commit()

    @activity.defn(name="run_tool")
    async def run_tool(self, step_input: ToolStepInput) -> ToolStepResult:
        def begin(session: Session) -> tuple[RunContext, RunStep, dict[str, Any]]:
            context = self._load(session, step_input.run_id, step_input.seq)
            model_step = next(s for s in context.steps if s.seq == step_input.model_seq)
            call = (model_step.output or {})["tool_calls"][step_input.call_index]
            step = self._begin_step(
                session,
                context.run,
                step_input.seq,
                StepKind.tool,
                call["name"],
                {"call_id": call["id"], "arguments": call["arguments"]},
            )
            return context, step, call

        context, step, call = await self._db(step_input.tenant_id, begin)
        if step.status != StepStatus.running:
            return ToolStepResult(step.seq, step.status == StepStatus.succeeded)
        tool = next((t for t in context.config.tools if t.name == call["name"]), None)
        result: Any = None
        error: str | None = None
        try:
            if tool is None:
                raise ToolError(f"there is no tool named {call['name']!r}")
            tool_context = ToolContext(step_input.run_id, step_input.seq, tool)
            result = await self._with_heartbeat(execute(tool, call["arguments"], tool_context))
        except ToolError as failure:
            error = str(failure)

        def complete(session: Session) -> None:
            row = session.get(RunStep, step.id)
            assert row is not None
            row.status = StepStatus.failed if error else StepStatus.succeeded
            row.output = None if error else {"content": result}
            row.error = {"code": "tool_error", "message": error} if error else None
            row.ended_at = utcnow()
            session.add(row)
            session.commit()

        await self._db(step_input.tenant_id, complete)
        return ToolStepResult(step.seq, error is None)

    @activity.defn(name="finish_run")
    async def finish_run(self, finish: FinishRunInput) -> None:
        def write(session: Session) -> None:
            error = {"code": finish.error_code, "message": finish.error_message}
            self._end_run(session, finish.run_id, RunStatus(finish.status), error=error)
            # Steps cut short by the ending are closed too, so nothing looks in flight.
            for step in session.exec(
                select(RunStep).where(
                    RunStep.run_id == finish.run_id, RunStep.status == StepStatus.running
                )
            ):
                step.status = StepStatus.failed
                step.error = step.error or {
                    "code": finish.error_code,
                    "message": finish.error_message,
                }
                step.ended_at = utcnow()
                session.add(step)
            session.commit()

        await self._db(finish.tenant_id, write)

    @staticmethod
    def _end_run(
        session: Session,
        run_id: str,
        status: RunStatus,
        output: Any = None,
        error: dict[str, Any] | None = None,
    ) -> None:
        run = session.get(Run, run_id)
        assert run is not None
        try:
            check_transition(RunStatus(run.status), status)
        except InvalidTransitionError:
            activity.logger.warning(
                "run %s is already %s; not moving it to %s", run_id, run.status, status
            )
            return
        steps = list(session.exec(select(RunStep).where(RunStep.run_id == run_id)))
        run.input_tokens = sum(s.input_tokens for s in steps)
        run.output_tokens = sum(s.output_tokens for s in steps)
        run.cost_usd = sum(s.cost_usd for s in steps)
        run.status = status
        run.output = output if status == RunStatus.succeeded else run.output
        run.error = None if status == RunStatus.succeeded else error
        run.started_at = run.started_at or utcnow()
        run.ended_at = utcnow()
        session.add(run)

    def all(self) -> list[Callable[..., Any]]:
        return [self.call_model, self.run_tool, self.finish_run]
