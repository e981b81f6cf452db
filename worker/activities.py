"""Activities: every piece of I/O of a run. Each records its own step, idempotently by seq.

On the hot path a step costs two short transactions: one reads what the step needs and announces
it (`step.started`), one records the step when it ends, with its events and trace observations
(an ending cuts short is recorded by `finish_run`). The run turns `running` at its first step,
and what never changes (a run's input, a version's configuration) is cached per worker. Events
are written with the step's transaction and, with Redis, fanned out to followers after the commit.
"""

import asyncio
import hashlib
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select
from temporalio import activity
from temporalio.exceptions import ApplicationError

from backend.db import TenantScope, scoped_session
from backend.events import (
    EventLog,
    NewEvent,
    RunEvent,
    approval_decided_event,
    approval_requested_event,
    run_completed_event,
    status_event,
    step_completed_event,
    step_started_event,
)
from backend.models import (
    Agent,
    AgentVersion,
    Approval,
    ApprovalStatus,
    Artifact,
    Run,
    RunStatus,
    RunStep,
    StepKind,
    StepStatus,
)
from backend.models.agent_config import AgentConfig
from backend.models.common import utcnow
from backend.models.run import statuses_that_may_become
from backend.objectstore import ObjectStore, artifact_key
from backend.observability import RUNS_FINISHED, STEP_SECONDS, run_id_var, tenant_id_var
from backend.services.quotas import DailyBudgetExceededError, DailyBudgetGuard
from worker import payloads, tracing
from worker.contract import (
    ApprovalOutcome,
    ApprovalRef,
    ApprovalRequested,
    ApprovalRequestInput,
    FinishRunInput,
    ModelStepInput,
    ModelStepResult,
    ToolStepInput,
    ToolStepResult,
)
from worker.infra_retry import heartbeating, retry_infrastructure
from worker.payloads import DEFAULT_INLINE_LIMIT_BYTES
from worker.pricing import PriceTable
from worker.providers.base import Provider
from worker.tools import (
    HTTP_TOOL_MAX_RESPONSE_BYTES,
    ToolContext,
    execute,
    tool_spec,
    validate_arguments,
)
from worker.types import Message, ModelReply, ProviderError, ToolCall, ToolError, ToolSpec

log = logging.getLogger("agent_runtime.worker")
DELTA_FLUSH_SECONDS = 0.05
CACHE_SIZE = 4096
STEP_RESULT_FIELDS = (
    *("kind", "name", "status", "input", "output", "input_ref", "output_ref", "attempt", "error"),
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
) -> NewEvent | None:
    """Move the run to an ending, only from a status that may take it (a conditional update).

    Returns the `run.completed` event to publish, or None if the run had ended already.
    """
    sources = [s.value for s in statuses_that_may_become(status)]
    result = session.execute(
        update(Run)
        .where(col(Run.id) == run_id, col(Run.status).in_(sources))
        .values(status=status.value, ended_at=utcnow(), **values),
        execution_options=NO_SYNC,
    )
    if not getattr(result, "rowcount", 0):
        return None
    return run_completed_event(status.value, **values)


def _mark_running(session: Session, run_id: str) -> bool:
    result = session.execute(
        update(Run)
        .where(col(Run.id) == run_id, col(Run.status) == RunStatus.queued.value)
        .values(status=RunStatus.running.value, started_at=utcnow()),
        execution_options=NO_SYNC,
    )
    return bool(getattr(result, "rowcount", 0))


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
    agent_id: str
    version_id: str
    input: Any
    context: dict[str, Any]


class RunActivities:
    def __init__(
        self,
        engine: Engine,
        providers: dict[str, Provider],
        prices: PriceTable,
        *,
        object_store: ObjectStore,
        events: EventLog,
        inline_limit: int = DEFAULT_INLINE_LIMIT_BYTES,
        allow_private_networks: bool = False,
        max_response_bytes: int = HTTP_TOOL_MAX_RESPONSE_BYTES,
        tracing: bool = False,
    ) -> None:
        self.engine = engine
        self.providers = providers
        self.prices = prices
        self.store = object_store
        self.events = events
        self.inline_limit = inline_limit
        self.allow_private_networks = allow_private_networks
        self.max_response_bytes = max_response_bytes
        self.tracing = tracing
        self._versions: dict[str, PinnedVersion] = {}
        self._runs: dict[str, RunFacts] = {}
        self.daily_budget = DailyBudgetGuard()

    async def _db(self, tenant_id: str, work: Callable[[Session], T]) -> T:
        def in_thread() -> T:
            with scoped_session(self.engine, TenantScope(tenant_id)) as session:
                return work(session)

        # A database outage delays the step; the whole transaction runs again once it is back.
        return await retry_infrastructure(lambda: asyncio.to_thread(in_thread), "the database")

    def _facts(self, session: Session, run_id: str) -> RunFacts:
        facts = self._runs.get(run_id)
        if facts is None:
            run = session.get(Run, run_id)
            if run is None:
                raise ApplicationError(f"run {run_id} not found", type="run_not_found")
            facts = RunFacts(
                run.id, run.agent_id, run.version_id, run.input, dict(run.context or {})
            )
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
        return await heartbeating(work)

    async def _emit(self, tenant_id: str, run_id: str, events: list[NewEvent]) -> None:
        """Record and publish events outside any write of ours (model deltas). The step's end
        records its full text, so a failure here is logged, never a reason to run it again."""
        _note(events)
        if not events:
            return
        try:
            await self.events.append(tenant_id, run_id, events)
        except Exception:  # an unreachable database must not fail the model call
            activity.logger.warning("could not record %d event(s) of run %s", len(events), run_id)

    def _stage(self, session: Session, run_id: str, events: list[NewEvent]) -> list[RunEvent]:
        """Write the events with the caller's transaction (no extra round trip); returns them,
        numbered, to publish once the caller has committed."""
        _note(events)
        return self.events.stage(session, run_id, events)

    async def _publish(self, tenant_id: str, run_id: str, staged: list[RunEvent]) -> None:
        """Tell live followers about committed events. They are recorded already and
        followers read them from the database if the fan-out fails, so that only logs."""
        if not staged:
            return
        try:
            await self.events.publish(run_id, staged)
        except Exception:  # a fan-out failure must not fail the run
            activity.logger.warning("could not publish %d event(s) of run %s", len(staged), run_id)

    def _read_payloads(self, session: Session, rows: list[RunStep]) -> None:
        """Fetch offloaded payloads into rows detached first, so nothing writes them back."""
        if payloads.needs_resolving(rows):
            for row in rows:
                session.expunge(row)
            payloads.resolve(self.store, rows)

    async def _offload(self, tenant_id: str, step: RunStep) -> None:
        blobs = payloads.oversized(step, self.inline_limit)
        if blobs:
            await retry_infrastructure(
                lambda: asyncio.to_thread(payloads.offload, self.store, tenant_id, step, blobs),
                "the object store",
            )

    async def _save(
        self,
        tenant_id: str,
        existing: RunStep | None,
        step: RunStep,
        events: list[NewEvent],
        approval: Approval | None = None,
    ) -> None:
        await self._offload(tenant_id, step)
        decided = [(approval, "decided")] if approval else []

        def write(session: Session) -> list[RunEvent]:
            _save_step(session, existing, step)
            self._trace(session, step.run_id, [step], approvals=decided)
            deferred = self._stage(session, step.run_id, events)
            session.commit()
            return deferred

        await self._publish(tenant_id, step.run_id, await self._db(tenant_id, write))

    def _trace(
        self,
        session: Session,
        run_id: str,
        steps: list[RunStep],
        approvals: list[tuple[Approval, str]] | None = None,
        ended: bool = False,
    ) -> None:
        """Queue LangFuse observations in the caller's transaction, so none is lost."""
        if not self.tracing:
            return
        run = session.get(Run, run_id, populate_existing=True)
        assert run is not None
        parameters = self._version(session, run.version_id).config.model.parameters
        shown = {k: v for k, v in parameters.items() if k != "script"}
        payloads = [tracing.step_payload(run, step, model_parameters=shown) for step in steps]
        for approval, what in approvals or []:
            payloads.append(tracing.approval_payload(run, approval, what))
        if ended:
            agent = session.get(Agent, run.agent_id)
            payloads.append(tracing.run_trace_payload(run, agent.name if agent else None))
        tracing.enqueue(session, run_id, payloads)

    @activity.defn(name="call_model")
    async def call_model(self, step_input: ModelStepInput) -> ModelStepResult:
        _bind(step_input.run_id, step_input.tenant_id)
        seq = step_input.seq
        attempt = activity.info().attempt
        started_at = utcnow()

        def begin(
            session: Session,
        ) -> tuple[RunFacts, PinnedVersion, list[RunStep], RunStep | None, list[RunEvent]]:
            facts = self._facts(session, step_input.run_id)
            pinned = self._version(session, facts.version_id)
            rows = list(
                session.exec(
                    select(RunStep)
                    .where(RunStep.run_id == facts.run_id, RunStep.seq <= seq)
                    .order_by(col(RunStep.seq))
                )
            )
            existing = rows[-1] if rows and rows[-1].seq == seq else None
            deferred: list[RunEvent] = []
            if existing is None or existing.status != StepStatus.succeeded:
                self.daily_budget.check(session, step_input.tenant_id)
                spec = pinned.config.model
                events = [step_started_event(seq, "model", spec.name or spec.provider, attempt)]
                marked = seq == 1 and _mark_running(session, facts.run_id)
                if marked:
                    events.insert(0, status_event("running"))
                deferred = self._stage(session, facts.run_id, events)
                session.commit()
            self._read_payloads(session, rows)
            return facts, pinned, [row for row in rows if row.seq < seq], existing, deferred

        tenant_id = step_input.tenant_id
        try:
            facts, pinned, earlier, existing, deferred = await self._db(tenant_id, begin)
        except DailyBudgetExceededError as spent:
            raise ApplicationError(
                str(spent), type="tenant_quota_exceeded", non_retryable=True
            ) from None
        config = pinned.config
        if existing is not None and existing.status == StepStatus.succeeded:
            return _model_result(existing, config)  # an earlier attempt finished; its reply stands
        await self._publish(tenant_id, facts.run_id, deferred)
        spec = config.model
        name = spec.name or spec.provider
        deltas = DeltaBuffer(self, tenant_id, facts.run_id, seq, attempt)
        step = RunStep(
            run_id=facts.run_id,
            seq=seq,
            kind=StepKind.model,
            name=name,
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
                    on_delta=deltas.add,
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
            # A retry starts again with step.started (attempt + 1); a final failure ends the step.
            ending = [] if error.retryable else [step_completed_event(step)]
            await self._save(tenant_id, existing, step, deltas.take() + ending)
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
        result = _model_result(step, config)  # before a large reply becomes a reference
        completed = step_completed_event(step)
        await self._offload(tenant_id, step)

        streamed = deltas.take()

        def complete(session: Session) -> list[RunEvent]:
            _save_step(session, existing, step)
            ended: NewEvent | None = None
            if not reply.tool_calls:
                counted = [*earlier, step]
                ended = _end_run(
                    session,
                    facts.run_id,
                    RunStatus.succeeded,
                    output=reply.text,
                    error=None,
                    input_tokens=sum(s.input_tokens for s in counted),
                    output_tokens=sum(s.output_tokens for s in counted),
                    cost_usd=sum(s.cost_usd for s in counted),
                )
            self._trace(session, facts.run_id, [step], ended=ended is not None)
            finished = [ended] if ended else []
            deferred = self._stage(session, facts.run_id, [*streamed, completed, *finished])
            session.commit()
            return deferred

        await self._publish(tenant_id, facts.run_id, await self._db(tenant_id, complete))
        return result

    @activity.defn(name="run_tool")
    async def run_tool(self, step_input: ToolStepInput) -> ToolStepResult:
        _bind(step_input.run_id, step_input.tenant_id)
        attempt = activity.info().attempt
        started_at = utcnow()
        seq = step_input.seq

        def begin(
            session: Session,
        ) -> tuple[AgentConfig, RunStep | None, dict[str, Any], Approval | None, list[RunEvent]]:
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
            self._read_payloads(session, [rows[step_input.model_seq]])
            call = (rows[step_input.model_seq].output or {})["tool_calls"][step_input.call_index]
            approval = (
                session.get(Approval, step_input.approval_id) if step_input.approval_id else None
            )
            existing = rows.get(seq)
            deferred: list[RunEvent] = []
            if existing is None or existing.status == StepStatus.running:
                started = step_started_event(seq, "tool", call["name"], attempt)
                deferred = self._stage(session, facts.run_id, [started])
                session.commit()
            return config, existing, call, approval, deferred

        tenant_id, run_id = step_input.tenant_id, step_input.run_id
        config, existing, call, approval, deferred = await self._db(tenant_id, begin)
        if existing is not None and existing.status != StepStatus.running:
            return ToolStepResult(seq, existing.status == StepStatus.succeeded)
        await self._publish(tenant_id, run_id, deferred)
        tool = next((t for t in config.tools if t.name == call["name"]), None)
        arguments: dict[str, Any] = call["arguments"]
        recorded_input: dict[str, Any] = {"call_id": call["id"], "arguments": arguments}
        result: Any = None
        error: dict[str, Any] | None = None
        try:
            if tool is None:
                raise ToolError(f"there is no tool named {call['name']!r}")
            if approval is not None:
                recorded_input["approval_id"] = approval.id
                if approval.status != ApprovalStatus.approved:
                    raise _NotApprovedError(_refusal(approval))
                if approval.edited_arguments is not None:
                    arguments = approval.edited_arguments
                    recorded_input["arguments"] = arguments
                    recorded_input["proposed_arguments"] = call["arguments"]
            elif tool.requires_approval:
                # Only a call that cannot run anyway gets here without a decision.
                validate_arguments(tool_spec(tool), arguments)
                raise ToolError(f"{tool.name} needs an approval and has none")
            tool_context = ToolContext(
                step_input.run_id,
                seq,
                tool,
                attempt=attempt,
                allow_private_networks=self.allow_private_networks,
                artifacts=RunArtifacts(self, step_input.tenant_id, step_input.run_id, seq),
            )
            result = await self._with_heartbeat(
                execute(tool, arguments, tool_context, max_response_bytes=self.max_response_bytes)
            )
        except _NotApprovedError as refusal:
            error = refusal.error
        except ToolError as failure:
            error = {"code": "tool_error", "message": str(failure)}
        step = RunStep(
            run_id=step_input.run_id,
            seq=seq,
            kind=StepKind.tool,
            name=call["name"],
            input=recorded_input,
            status=StepStatus.failed if error else StepStatus.succeeded,
            output=None if error else {"content": result},
            error=error,
            attempt=attempt,
            started_at=started_at,
            ended_at=utcnow(),
        )
        completed = step_completed_event(step)  # summarised before a large result is offloaded
        await self._save(tenant_id, existing, step, [completed], approval)
        return ToolStepResult(seq, error is None)

    @activity.defn(name="request_approval")
    async def request_approval(self, request: ApprovalRequestInput) -> ApprovalRequested:
        """Record that a tool call waits for a person; the run shows `awaiting_approval`."""
        _bind(request.run_id, request.tenant_id)

        def write(session: Session) -> tuple[ApprovalRequested, list[RunEvent]]:
            facts = self._facts(session, request.run_id)
            pinned = self._version(session, facts.version_id)
            recorded = _approval_for(session, facts.run_id, request.seq)
            if recorded is not None:
                return _requested(recorded), []  # an earlier attempt asked already
            model_step = session.exec(
                select(RunStep).where(
                    RunStep.run_id == facts.run_id, RunStep.seq == request.model_seq
                )
            ).one()
            self._read_payloads(session, [model_step])
            call = (model_step.output or {})["tool_calls"][request.call_index]
            spec = next((s for s in pinned.tool_specs if s.name == call["name"]), None)
            tool = next((t for t in pinned.config.tools if t.name == call["name"]), None)
            if spec is None or tool is None or "__invalid_json__" in call["arguments"]:
                return ApprovalRequested(None, status="not_needed"), []
            try:
                validate_arguments(spec, call["arguments"])
            except ToolError:
                # No one approves a misfire: its tool step fails on the arguments.
                return ApprovalRequested(None, status="not_needed"), []
            timeout = tool.approval_timeout_seconds or pinned.config.limits.approval_timeout_seconds
            now = utcnow()
            approval = Approval(
                run_id=facts.run_id,
                agent_id=facts.agent_id,
                step_seq=request.seq,
                tool_name=tool.name,
                arguments=call["arguments"],
                requested_at=now,
                expires_at=now + timedelta(seconds=timeout),
            )
            session.add(approval)
            session.execute(
                update(Run)
                .where(col(Run.id) == facts.run_id, col(Run.status) == RunStatus.running.value)
                .values(status=RunStatus.awaiting_approval.value),
                execution_options=NO_SYNC,
            )
            session.flush()  # the approval's id and times, for its observation and event
            self._trace(session, facts.run_id, [], approvals=[(approval, "requested")])
            events = [status_event("awaiting_approval"), approval_requested_event(approval)]
            deferred = self._stage(session, facts.run_id, events)
            try:
                session.commit()
            except IntegrityError:
                session.rollback()
                raced = _approval_for(session, facts.run_id, request.seq)
                assert raced is not None
                return _requested(raced), []
            return _requested(approval), deferred

        requested, deferred = await self._db(request.tenant_id, write)
        await self._publish(request.tenant_id, request.run_id, deferred)
        return requested

    @activity.defn(name="expire_approval")
    async def expire_approval(self, ref: ApprovalRef) -> ApprovalOutcome:
        """No decision came in time: expire it, unless one was recorded but never signalled."""
        _bind(ref.run_id, ref.tenant_id)

        def write(session: Session) -> tuple[ApprovalOutcome, list[RunEvent]]:
            expired = bool(
                _close_pending(session, col(Approval.id) == ref.approval_id, ApprovalStatus.expired)
            )
            resumed = expired and _resume(session, ref.run_id)
            approval = session.get(Approval, ref.approval_id, populate_existing=True)
            assert approval is not None
            events = [approval_decided_event(approval)] if expired else []
            events += [status_event("running")] if resumed else []
            deferred = self._stage(session, ref.run_id, events)
            session.commit()
            return ApprovalOutcome(ApprovalStatus(approval.status).value), deferred

        outcome, deferred = await self._db(ref.tenant_id, write)
        await self._publish(ref.tenant_id, ref.run_id, deferred)
        return outcome

    @activity.defn(name="finish_run")
    async def finish_run(self, finish: FinishRunInput) -> None:
        _bind(finish.run_id, finish.tenant_id)

        def write(session: Session) -> list[RunEvent]:
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
            cancelled_ids = _close_pending(
                session, col(Approval.run_id) == finish.run_id, ApprovalStatus.cancelled
            )
            # Read after the update: their rows say `cancelled` (and none decided meanwhile).
            cancelled = list(
                session.exec(select(Approval).where(col(Approval.id).in_(cancelled_ids)))
            )
            # The step the ending cut short is recorded as failed, so nothing looks in flight.
            closed = []
            for step in steps:
                if step.status == StepStatus.running:
                    step.status = StepStatus.failed
                    step.error = step.error or error
                    step.ended_at = utcnow()
                    session.add(step)
                    closed.append(step)
            if finish.in_flight and finish.in_flight[0] not in {s.seq for s in steps}:
                seq, kind, name = finish.in_flight
                if not name:
                    facts = self._facts(session, finish.run_id)
                    model = self._version(session, facts.version_id).config.model
                    name = model.name or model.provider
                cut_short = RunStep(
                    run_id=finish.run_id,
                    seq=seq,
                    kind=StepKind(kind),
                    name=name,
                    status=StepStatus.failed,
                    error=error,
                    ended_at=utcnow(),
                )
                session.add(cut_short)
                closed.append(cut_short)
            session.flush()
            decided = [(approval, "decided") for approval in cancelled]
            self._trace(session, finish.run_id, closed, approvals=decided, ended=True)
            events = [
                *(step_completed_event(step) for step in closed),
                *(approval_decided_event(approval) for approval in cancelled),
                *([ended] if ended else []),
            ]
            deferred = self._stage(session, finish.run_id, events)
            session.commit()
            return deferred

        deferred = await self._db(finish.tenant_id, write)
        await self._publish(finish.tenant_id, finish.run_id, deferred)

    def all(self) -> list[Callable[..., Any]]:
        return [
            self.call_model,
            self.run_tool,
            self.request_approval,
            self.expire_approval,
            self.finish_run,
        ]


class DeltaBuffer:
    """Model text as it streams in, published as `model.delta` events a few times a second.

    Batching keeps a fast stream from costing one write per token; each event carries the
    attempt, so a follower drops the partial text of an attempt that was retried.
    """

    def __init__(
        self, activities: "RunActivities", tenant_id: str, run_id: str, seq: int, attempt: int
    ) -> None:
        self.activities = activities
        self.tenant_id = tenant_id
        self.run_id = run_id
        self.seq = seq
        self.attempt = attempt
        self.pending: list[str] = []
        self.flushed_at = time.monotonic()

    async def add(self, text: str) -> None:
        self.pending.append(text)
        if time.monotonic() - self.flushed_at >= DELTA_FLUSH_SECONDS:
            await self.activities._emit(self.tenant_id, self.run_id, self.take())

    def take(self) -> list[NewEvent]:
        """The unpublished text as events (at most one), to publish now or with the step's end."""
        self.flushed_at = time.monotonic()
        if not self.pending:
            return []
        text, self.pending = "".join(self.pending), []
        return [("model.delta", {"seq": self.seq, "attempt": self.attempt, "text": text})]


@dataclass(frozen=True)
class RunArtifacts:
    """`artifact_write` saves here: the bytes in the object store, a row in the database."""

    activities: RunActivities
    tenant_id: str
    run_id: str
    seq: int

    async def save(self, name: str, data: bytes, content_type: str) -> dict[str, Any]:
        key = artifact_key(self.tenant_id, self.run_id, name)
        await retry_infrastructure(
            lambda: asyncio.to_thread(self.activities.store.put, key, data, content_type),
            "the object store",
        )
        digest = hashlib.sha256(data).hexdigest()

        def record(session: Session) -> None:
            values: dict[str, Any] = {
                "step_seq": self.seq,
                "size": len(data),
                "content_type": content_type,
                "sha256": digest,
                "object_key": key,
            }
            for _attempt in range(2):  # a concurrent first write of the name: update it then
                artifact = session.exec(
                    select(Artifact).where(Artifact.run_id == self.run_id, Artifact.name == name)
                ).first()
                if artifact is None:
                    artifact = Artifact(run_id=self.run_id, name=name, **values)
                else:
                    for field, value in values.items():
                        setattr(artifact, field, value)
                    artifact.created_at = utcnow()
                session.add(artifact)
                try:
                    session.commit()
                    return
                except IntegrityError:
                    session.rollback()
            raise ToolError(f"could not record the artifact {name!r}")

        await self.activities._db(self.tenant_id, record)
        return {
            "name": name,
            "size": len(data),
            "content_type": content_type,
            "sha256": digest,
            "download_url": f"/v1/runs/{self.run_id}/artifacts/{name}",
        }


def _note(events: list[NewEvent]) -> None:
    """Count and log what the events say happened."""
    for event_type, data in events:
        if event_type == "step.completed":
            STEP_SECONDS.labels(data["kind"], data["status"]).observe(data["duration_ms"] / 1000)
            log.info(
                "step %d (%s %s) %s in %.0f ms",
                *(data["seq"], data["kind"], data["name"], data["status"], data["duration_ms"]),
            )
        elif event_type == "run.completed":
            RUNS_FINISHED.labels(data["status"]).inc()
            log.info("run ended %s", data["status"])


def _bind(run_id: str, tenant_id: str) -> None:
    """This activity's log lines carry its run and tenant (each activity is its own task)."""
    run_id_var.set(run_id)
    tenant_id_var.set(tenant_id)


def _model_result(step: RunStep, config: AgentConfig) -> ModelStepResult:
    calls = (step.output or {}).get("tool_calls", [])
    gated = {tool.name for tool in config.tools if tool.requires_approval}
    return ModelStepResult(
        seq=step.seq,
        tool_names=[call["name"] for call in calls],
        final=not calls,
        input_tokens=step.input_tokens,
        output_tokens=step.output_tokens,
        cost_usd=step.cost_usd,
        needs_approval=[call["name"] in gated for call in calls],
    )


class _NotApprovedError(Exception):
    def __init__(self, error: dict[str, Any]) -> None:
        super().__init__(error["message"])
        self.error = error


def _refusal(approval: Approval) -> dict[str, Any]:
    """What the model reads instead of the tool's result when a person said no (or no one did)."""
    if approval.status == ApprovalStatus.rejected:
        reason = f": {approval.comment}" if approval.comment else "."
        return {"code": "approval_rejected", "message": f"A reviewer rejected this call{reason}"}
    if approval.status == ApprovalStatus.expired:
        return {
            "code": "approval_expired",
            "message": "No one decided on this call in time, so it was not run.",
        }
    return {"code": "not_approved", "message": f"This call was not approved ({approval.status})."}


def _approval_for(session: Session, run_id: str, seq: int) -> Approval | None:
    return session.exec(
        select(Approval).where(Approval.run_id == run_id, Approval.step_seq == seq)
    ).first()


def _requested(approval: Approval) -> ApprovalRequested:
    assert approval.expires_at is not None
    status = ApprovalStatus(approval.status)
    return ApprovalRequested(
        approval.id,
        int(approval.expires_at.timestamp() * 1000),
        None if status == ApprovalStatus.pending else status.value,
    )


def _close_pending(session: Session, which: Any, status: ApprovalStatus) -> list[str]:
    """Settle the approvals `which` selects that are still pending; the ids of those it did."""
    result = session.execute(
        update(Approval)
        .where(which, col(Approval.status) == ApprovalStatus.pending.value)
        .values(status=status.value, decided_at=utcnow())
        .returning(col(Approval.id)),
        execution_options=NO_SYNC,
    )
    return list(result.scalars())


def _resume(session: Session, run_id: str) -> bool:
    """A decided approval puts a waiting run back to `running`."""
    result = session.execute(
        update(Run)
        .where(col(Run.id) == run_id, col(Run.status) == RunStatus.awaiting_approval.value)
        .values(status=RunStatus.running.value),
        execution_options=NO_SYNC,
    )
    return bool(getattr(result, "rowcount", 0))


def _remember(cache: dict[str, Any], key: str, value: Any) -> None:
    if len(cache) >= CACHE_SIZE:
        cache.pop(next(iter(cache)))
    cache[key] = value
