"""The model step: call the version's provider on the transcript, stream its text as events,
record the reply (and end the run when it calls no tool)."""

import time
from typing import Any

from sqlmodel import Session, col, select
from temporalio import activity
from temporalio.exceptions import ApplicationError

from core import transitions
from core.budget import DailyBudgetExceededError
from core.contract import CALL_MODEL, ModelStepInput, ModelStepResult
from core.events import (
    NewEvent,
    RunEvent,
    run_completed_event,
    status_event,
    step_completed_event,
    step_started_event,
)
from core.models import RunStatus, RunStep, StepKind, StepStatus
from core.models.agent_config import AgentConfig
from core.models.common import utcnow
from core.transcript import (
    Entry,
    input_entries,
    instructions,
    oldest_to_drop,
    step_entries,
    without_oldest,
)
from core.transitions import run_totals
from worker.activities.recorder import PinnedVersion, RunFacts, StepRecorder, bind_run, save_step
from worker.activities.transcript import Position, conversation_messages
from worker.types import Message, ModelReply, ProviderError

DELTA_FLUSH_SECONDS = 0.05


class ModelSteps(StepRecorder):
    def _earlier_runs(self, session: Session, facts: RunFacts) -> list[Entry]:
        """The messages of the thread's runs before this one; none for a run on its own."""
        if facts.thread_id is None or facts.created_at is None:
            return []
        position = Position(facts.created_at, facts.run_id)
        return self.thread_transcripts.before(
            session, facts.thread_id, position, self._read_payloads
        )

    @activity.defn(name=CALL_MODEL)
    async def call_model(self, step_input: ModelStepInput) -> ModelStepResult:
        bind_run(step_input.run_id, step_input.tenant_id)
        seq = step_input.seq
        attempt = activity.info().attempt
        started_at = utcnow()

        def begin(
            session: Session,
        ) -> tuple[
            RunFacts, PinnedVersion, list[RunStep], list[Entry], RunStep | None, list[RunEvent]
        ]:
            facts = self._facts(session, step_input.run_id)
            pinned = self._version(session, facts.version_id)
            earlier_runs = self._earlier_runs(session, facts)
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
                marked = seq == 1 and transitions.mark_running(session, facts.run_id)
                if marked:
                    events.insert(0, status_event("running"))
                deferred = self._stage(session, facts.run_id, events)
                session.commit()
            self._read_payloads(session, rows)
            earlier = [row for row in rows if row.seq < seq]
            conversation = [
                *earlier_runs,
                *input_entries(facts.run_id, facts.input),
                *step_entries(facts.run_id, earlier, ended=False),
            ]
            return facts, pinned, earlier, conversation, existing, deferred

        tenant_id = step_input.tenant_id
        try:
            found = await self._db(tenant_id, begin)
        except DailyBudgetExceededError as spent:
            raise ApplicationError(
                str(spent), type="tenant_quota_exceeded", non_retryable=True
            ) from None
        facts, pinned, earlier, conversation, existing, deferred = found
        config = pinned.config
        if existing is not None and existing.status == StepStatus.succeeded:
            return _model_result(existing, config)  # an earlier attempt finished; its reply stands
        await self._publish(tenant_id, facts.run_id, deferred)
        spec = config.model
        name = spec.name or spec.provider
        deltas = DeltaBuffer(self, tenant_id, facts.run_id, seq, attempt)
        system_prompt = instructions(config.system_prompt, facts.context, conversation)
        dropped = 0
        if config.context_window is not None:
            limit = config.context_window.max_input_tokens
            dropped = oldest_to_drop(system_prompt, conversation, limit)
            conversation = without_oldest(conversation, dropped)
        messages = conversation_messages(conversation)
        step = RunStep(
            run_id=facts.run_id,
            seq=seq,
            kind=StepKind.model,
            name=name,
            input=request_record(spec.provider, spec.name, messages, pinned, facts, seq, dropped),
            attempt=attempt,
            started_at=started_at,
            worker_build=self.build_id,
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
                    spec, system_prompt, messages, pinned.tool_specs, on_delta=deltas.add
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
            save_step(session, existing, step)
            ended: NewEvent | None = None
            if not reply.tool_calls:
                values = {"output": reply.text, "error": None, **run_totals([*earlier, step])}
                if transitions.end_run(session, facts.run_id, RunStatus.succeeded, **values):
                    ended = run_completed_event(RunStatus.succeeded.value, **values)
            self._trace(
                session,
                facts.run_id,
                [step],
                ended=ended is not None,
                model_input=sent_to_model(system_prompt, messages) if self.tracing else None,
            )
            finished = [ended] if ended else []
            deferred = self._stage(session, facts.run_id, [*streamed, completed, *finished])
            session.commit()
            return deferred

        await self._publish(tenant_id, facts.run_id, await self._db(tenant_id, complete))
        if result.final:
            await self._start_next_on_thread(tenant_id, facts.thread_id)
        return result


class DeltaBuffer:
    """Model text as it streams in, published as `model.delta` events a few times a second.

    Batching keeps a fast stream from costing one write per token; each event carries the
    attempt, so a follower drops the partial text of an attempt that was retried.
    """

    def __init__(
        self, activities: StepRecorder, tenant_id: str, run_id: str, seq: int, attempt: int
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


def _model_result(step: RunStep, config: AgentConfig) -> ModelStepResult:
    calls = (step.output or {}).get("tool_calls", [])
    gated = {tool.name for tool in config.callable_tools() if tool.requires_approval}
    return ModelStepResult(
        seq=step.seq,
        tool_names=[call["name"] for call in calls],
        final=not calls,
        input_tokens=step.input_tokens,
        output_tokens=step.output_tokens,
        cost_usd=step.cost_usd,
        needs_approval=[call["name"] in gated for call in calls],
    )


def request_record(
    provider: str,
    model: str | None,
    messages: list[Any],
    pinned: PinnedVersion,
    facts: RunFacts,
    seq: int,
    dropped: int,
) -> dict[str, Any]:
    """What a model step records of its request: references, not copies. The messages are the
    thread's earlier runs (`thread_id`) and this run's input and first `steps_before` steps;
    the instructions, tools and parameters are the pinned version's; `dropped`, how many of the
    oldest messages the context window left out. Reading the step alone
    (`GET /v1/runs/{id}/steps/{seq}`) resolves them to the full request."""
    return {
        "provider": provider,
        "model": model,
        "messages": len(messages),
        "tools": [spec.name for spec in pinned.tool_specs],
        "prompt": {"thread_id": facts.thread_id, "steps_before": seq - 1, "dropped": dropped},
    }


def sent_to_model(system_prompt: str, messages: list[Message]) -> list[dict[str, Any]]:
    """The request's messages as a trace shows a generation's input: instructions first."""
    shown: list[dict[str, Any]] = [{"role": "system", "content": system_prompt}]
    for message in messages:
        entry: dict[str, Any] = {"role": message.role, "content": message.content}
        if message.tool_calls:
            entry["tool_calls"] = [
                {"id": c.id, "name": c.name, "arguments": c.arguments} for c in message.tool_calls
            ]
        if message.tool_call_id:
            entry["tool_call_id"] = message.tool_call_id
        shown.append(entry)
    return shown
