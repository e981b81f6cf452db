"""Activities: every piece of I/O of a run. Each records its own step, idempotently by seq.

On the hot path an activity reads once and writes once: the step row is written when the step
ends (an ending cuts short is recorded by `finish_run`), the run turns `running` at its first step,
and what never changes (a run's input, a version's configuration) is cached per worker.
"""

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from temporalio import activity
from temporalio.exceptions import ApplicationError

from backend.db import TenantScope, scoped_session
from backend.models import AgentVersion, Run, RunStatus, RunStep, StepKind, StepStatus
from backend.models.agent_config import AgentConfig
from backend.models.common import utcnow
from backend.models.run import statuses_that_may_become
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
from worker.types import Message, ModelReply, ProviderError, ToolCall, ToolError, ToolSpec

HEARTBEAT_EVERY_SECONDS = 2.0
CACHE_SIZE = 4096
STEP_RESULT_FIELDS = (
    *("kind", "name", "status", "input", "output", "attempt", "error"),
    *("input_tokens", "output_tokens", "cost_usd", "started_at", "ended_at"),
)
# Updates by primary key from short sessions: nothing loaded needs refreshing.
NO_SYNC = {"synchronize_session": False}
T = TypeVar("T")


def _transcript(run_input: Any, steps: list[RunStep]) -> list[Message]:
    """Rebuild the conversation from the recorded steps: the database is the transcript."""
    messages = [Message(role="user", content=str(run_input or ""))]
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


def _system_prompt(config: AgentConfig, context: dict[str, Any]) -> str:
    if not context:
        return config.system_prompt
    return f"{config.system_prompt}\n\nContext: {json.dumps(context, sort_keys=True)}".strip()


def _end_run(
    session: Session,
    run_id: str,
    status: RunStatus,
    **values: Any,
) -> bool:
    """Move the run to an ending, only from a status that may take it (a conditional update)."""
    sources = [s.value for s in statuses_that_may_become(status)]
    result = session.execute(
        update(Run)
        .where(col(Run.id) == run_id, col(Run.status).in_(sources))
        .values(status=status.value, ended_at=utcnow(), **values),
        execution_options=NO_SYNC,
    )
    return bool(getattr(result, "rowcount", 0))


def _mark_running(session: Session, run_id: str) -> None:
    session.execute(
        update(Run)
        .where(col(Run.id) == run_id, col(Run.status) == RunStatus.queued.value)
        .values(status=RunStatus.running.value, started_at=utcnow()),
        execution_options=NO_SYNC,
    )


def _save_step(session: Session, existing: RunStep | None, step: RunStep) -> None:
    """Insert the step, or update the row an earlier attempt left (unique run_id + seq)."""
    if existing is None:
        session.add(step)
        return
    for field in STEP_RESULT_FIELDS:
        setattr(existing, field, getattr(step, field))
    session.add(existing)


@dataclass(frozen=True)
class PinnedVersion:
    """A version's configuration, parsed once per worker: versions never change."""

    config: AgentConfig
    tool_specs: list[ToolSpec]


@dataclass(frozen=True)
class RunFacts:
    """What never changes about a run, so a worker reads it once."""

    run_id: str
    version_id: str
    input: Any
    context: dict[str, Any]


class RunActivities:
    def __init__(self, engine: Engine, providers: dict[str, Provider], prices: PriceTable) -> None:
        self.engine = engine
        self.providers = providers
        self.prices = prices
        self._versions: dict[str, PinnedVersion] = {}
        self._runs: dict[str, RunFacts] = {}

    async def _db(self, tenant_id: str, work: Callable[[Session], T]) -> T:
        def in_thread() -> T:
            with scoped_session(self.engine, TenantScope(tenant_id)) as session:
                return work(session)

        return await asyncio.to_thread(in_thread)

    def _facts(self, session: Session, run_id: str) -> RunFacts:
        facts = self._runs.get(run_id)
        if facts is None:
            run = session.get(Run, run_id)
            if run is None:
                raise ApplicationError(f"run {run_id} not found", type="run_not_found")
            facts = RunFacts(run.id, run.version_id, run.input, dict(run.context or {}))
            _remember(self._runs, run_id, facts)
        return facts

    def _version(self, session: Session, version_id: str) -> "PinnedVersion":
        pinned = self._versions.get(version_id)
        if pinned is None:
            version = session.get(AgentVersion, version_id)
            assert version is not None
            config = version.agent_config()
            pinned = PinnedVersion(config, [tool_spec(tool) for tool in config.tools])
            _remember(self._versions, version_id, pinned)
        return pinned

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
        attempt = activity.info().attempt
        started_at = utcnow()

        def begin(
            session: Session,
        ) -> tuple[RunFacts, PinnedVersion, list[RunStep], RunStep | None]:
            facts = self._facts(session, step_input.run_id)
            pinned = self._version(session, facts.version_id)
            rows = list(
                session.exec(
                    select(RunStep)
                    .where(RunStep.run_id == facts.run_id, RunStep.seq <= seq)
                    .order_by(col(RunStep.seq))
                )
            )
            if seq == 1:
                _mark_running(session, facts.run_id)
                session.commit()
            existing = rows[-1] if rows and rows[-1].seq == seq else None
            return facts, pinned, [row for row in rows if row.seq < seq], existing

        facts, pinned, earlier, existing = await self._db(step_input.tenant_id, begin)
        config = pinned.config
        if existing is not None and existing.status == StepStatus.succeeded:
            return self._model_result(existing)  # an earlier attempt finished; its reply stands
        spec = config.model
        step = RunStep(
            run_id=facts.run_id,
            seq=seq,
            kind=StepKind.model,
            name=spec.name or spec.provider,
            input={"provider": spec.provider, "model": spec.name, "messages": len(earlier) + 1},
            attempt=attempt,
            started_at=started_at,
        )
        provider = self.providers.get(spec.provider)
        try:
            if provider is None:
                raise ProviderError(
                    f"this worker has no provider {spec.provider!r} configured",
                    retryable=False,
                    code="bad_config",
                )
            reply: ModelReply = await self._with_heartbeat(
                provider.complete(
                    spec,
                    _system_prompt(config, facts.context),
                    _transcript(facts.input, earlier),
                    pinned.tool_specs,
                )
            )
        except ProviderError as error:
            step.status = StepStatus.running if error.retryable else StepStatus.failed
            step.error = {
                "code": error.code,
                "message": error.message,
                "retryable": error.retryable,
            }
            step.ended_at = None if error.retryable else utcnow()
            await self._db(step_input.tenant_id, partial(_save_alone, existing=existing, step=step))
            raise ApplicationError(
                error.message, type=error.code, non_retryable=not error.retryable
            ) from None
        step.status = StepStatus.succeeded
        step.output = {
            "text": reply.text,
            "tool_calls": [
                {"id": c.id, "name": c.name, "arguments": c.arguments} for c in reply.tool_calls
            ],
        }
        step.input_tokens, step.output_tokens = reply.input_tokens, reply.output_tokens
        step.cost_usd = self.prices.cost(spec, reply.input_tokens, reply.output_tokens)
        step.ended_at = utcnow()

        def complete(session: Session) -> None:
            _save_step(session, existing, step)
            if not reply.tool_calls:
                counted = [*earlier, step]
                _end_run(
                    session,
                    facts.run_id,
                    RunStatus.succeeded,
                    output=reply.text,
                    error=None,
                    input_tokens=sum(s.input_tokens for s in counted),
                    output_tokens=sum(s.output_tokens for s in counted),
                    cost_usd=sum(s.cost_usd for s in counted),
                )
            session.commit()

        await self._db(step_input.tenant_id, complete)
        return self._model_result(step)

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

    @activity.defn(name="run_tool")
    async def run_tool(self, step_input: ToolStepInput) -> ToolStepResult:
        attempt = activity.info().attempt
        started_at = utcnow()
        seq = step_input.seq

        def begin(session: Session) -> tuple[AgentConfig, RunStep | None, dict[str, Any]]:
            facts = self._facts(session, step_input.run_id)
            config = self._version(session, facts.version_id).config
            rows = {
                row.seq: row
                for row in session.exec(
                    select(RunStep).where(
                        RunStep.run_id == facts.run_id,
                        col(RunStep.seq).in_([step_input.model_seq, seq]),
                    )
                )
            }
            call = (rows[step_input.model_seq].output or {})["tool_calls"][step_input.call_index]
            return config, rows.get(seq), call

        config, existing, call = await self._db(step_input.tenant_id, begin)
        if existing is not None and existing.status != StepStatus.running:
            return ToolStepResult(seq, existing.status == StepStatus.succeeded)
        tool = next((t for t in config.tools if t.name == call["name"]), None)
        result: Any = None
        error: str | None = None
        try:
            if tool is None:
                raise ToolError(f"there is no tool named {call['name']!r}")
            tool_context = ToolContext(step_input.run_id, seq, tool)
            result = await self._with_heartbeat(execute(tool, call["arguments"], tool_context))
        except ToolError as failure:
            error = str(failure)
        step = RunStep(
            run_id=step_input.run_id,
            seq=seq,
            kind=StepKind.tool,
            name=call["name"],
            input={"call_id": call["id"], "arguments": call["arguments"]},
            status=StepStatus.failed if error else StepStatus.succeeded,
            output=None if error else {"content": result},
            error={"code": "tool_error", "message": error} if error else None,
            attempt=attempt,
            started_at=started_at,
            ended_at=utcnow(),
        )
        await self._db(step_input.tenant_id, partial(_save_alone, existing=existing, step=step))
        return ToolStepResult(seq, error is None)

    @activity.defn(name="finish_run")
    async def finish_run(self, finish: FinishRunInput) -> None:
        def write(session: Session) -> None:
            error = {"code": finish.error_code, "message": finish.error_message}
            steps = list(session.exec(select(RunStep).where(RunStep.run_id == finish.run_id)))
            ended = _end_run(
                session,
                finish.run_id,
                RunStatus(finish.status),
                error=error,
                input_tokens=sum(s.input_tokens for s in steps),
                output_tokens=sum(s.output_tokens for s in steps),
                cost_usd=sum(s.cost_usd for s in steps),
            )
            if not ended:
                activity.logger.warning("run %s had already ended", finish.run_id)
            # The step the ending cut short is recorded as failed, so nothing looks in flight.
            for step in steps:
                if step.status == StepStatus.running:
                    step.status = StepStatus.failed
                    step.error = step.error or error
                    step.ended_at = utcnow()
                    session.add(step)
            if finish.in_flight and finish.in_flight[0] not in {s.seq for s in steps}:
                seq, kind, name = finish.in_flight
                if not name:
                    facts = self._facts(session, finish.run_id)
                    model = self._version(session, facts.version_id).config.model
                    name = model.name or model.provider
                session.add(
                    RunStep(
                        run_id=finish.run_id,
                        seq=seq,
                        kind=StepKind(kind),
                        name=name,
                        status=StepStatus.failed,
                        error=error,
                        ended_at=utcnow(),
                    )
                )
            session.commit()

        await self._db(finish.tenant_id, write)

    def all(self) -> list[Callable[..., Any]]:
        return [self.call_model, self.run_tool, self.finish_run]


def _save_alone(session: Session, existing: RunStep | None, step: RunStep) -> None:
    _save_step(session, existing, step)
    session.commit()


def _remember(cache: dict[str, Any], key: str, value: Any) -> None:
    if len(cache) >= CACHE_SIZE:
        cache.pop(next(iter(cache)))
    cache[key] = value
