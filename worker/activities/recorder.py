"""What every activity shares: each records its own step, idempotently by seq.

On the hot path a step costs two short transactions: one reads what the step needs and announces
it (`step.started`), one records the step when it ends, with its events and trace observations
(an ending cuts short is recorded by `finish_run`). The run turns `running` at its first step,
and what never changes (a run's input, a version's configuration) is cached per worker. Events
are written with the step's transaction and, with Redis, fanned out to followers after the commit.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy.engine import Engine
from sqlmodel import Session
from temporalio import activity
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError

from core.budget import DailyBudgetGuard
from core.contract import WORKFLOW_NAME, AgentRunInput
from core.db import TenantScope, scoped_session
from core.events import EventLog, NewEvent, RunEvent
from core.models import Agent, AgentVersion, Approval, Run, RunStep
from core.models.agent_config import AgentConfig
from core.objectstore import ObjectStore
from core.observability import RUNS_FINISHED, STEP_SECONDS, run_id_var, tenant_id_var
from core.thread_queue import next_in_line, workflow_input
from worker import payloads, tracing
from worker.activities.transcript import ThreadTranscripts
from worker.infra_retry import heartbeating, retry_infrastructure
from worker.payloads import DEFAULT_INLINE_LIMIT_BYTES
from worker.pricing import PriceTable
from worker.providers.base import Provider
from worker.tools import HTTP_TOOL_MAX_RESPONSE_BYTES, tool_spec
from worker.types import ToolSpec

log = logging.getLogger("agent_runtime.worker")
CACHE_SIZE = 4096
DEFAULT_STEPS_PER_EXECUTION = 200
# A thread's next run is started from the activity that ended the one before, within this long.
START_NEXT_TIMEOUT_SECONDS = 3.0
STEP_RESULT_FIELDS = (
    *("kind", "name", "status", "input", "output", "input_ref", "output_ref", "attempt", "error"),
    *("input_tokens", "output_tokens", "cost_usd", "started_at", "ended_at", "worker_build"),
)
T = TypeVar("T")


def save_step(session: Session, existing: RunStep | None, step: RunStep) -> None:
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
    thread_id: str | None = None
    created_at: datetime | None = None


class StepRecorder:
    """What every activity shares: short tenant-scoped transactions, the caches of what never
    changes, events staged with a step's write and published after it, payload offloading
    and trace observations."""

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
        mcp_allow_stdio: bool = False,
        max_response_bytes: int = HTTP_TOOL_MAX_RESPONSE_BYTES,
        tracing: bool = False,
        steps_per_execution: int = DEFAULT_STEPS_PER_EXECUTION,
        build_id: str | None = None,
    ) -> None:
        self.engine = engine
        # Recorded on every step this worker executes: which code ran it.
        self.build_id = build_id
        self.providers = providers
        self.prices = prices
        self.store = object_store
        self.events = events
        self.inline_limit = inline_limit
        self.allow_private_networks = allow_private_networks
        self.mcp_allow_stdio = mcp_allow_stdio
        self.max_response_bytes = max_response_bytes
        self.tracing = tracing
        self.steps_per_execution = steps_per_execution
        self._versions: dict[str, PinnedVersion] = {}
        self._runs: dict[str, RunFacts] = {}
        self.thread_transcripts = ThreadTranscripts()
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
                run.id,
                run.agent_id,
                run.version_id,
                run.input,
                dict(run.context or {}),
                run.thread_id,
                run.created_at,
            )
            _remember(self._runs, run_id, facts)
        return facts

    def _version(self, session: Session, version_id: str) -> "PinnedVersion":
        pinned = self._versions.get(version_id)
        if pinned is None:
            version = session.get(AgentVersion, version_id)
            assert version is not None
            config = version.agent_config()
            pinned = PinnedVersion(config, [tool_spec(tool) for tool in config.callable_tools()])
            _remember(self._versions, version_id, pinned)
        return pinned

    async def _start_next_on_thread(self, tenant_id: str, thread_id: str | None) -> None:
        """A thread's run has ended: start the thread's next queued run, now that it is its
        turn. Best effort: every API process's run starter starts it too if this fails."""
        if thread_id is None:
            return

        def next_input(session: Session) -> AgentRunInput | None:
            run = next_in_line(session, thread_id)
            if run is None:
                return None
            return workflow_input(session, run, self.steps_per_execution)

        try:
            run_input = await self._db(tenant_id, next_input)
            if run_input is None:
                return
            await asyncio.wait_for(
                activity.client().start_workflow(
                    WORKFLOW_NAME,
                    run_input,
                    id=run_input.run_id,
                    task_queue=activity.info().task_queue,
                ),
                START_NEXT_TIMEOUT_SECONDS,
            )
        except WorkflowAlreadyStartedError:
            pass
        except Exception as exc:  # the run starter is the backstop; the ended run stands
            activity.logger.warning("could not start the thread's next run: %s", exc)

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
            save_step(session, existing, step)
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
        model_input: Any = None,
    ) -> None:
        """Queue LangFuse observations in the caller's transaction, so none is lost."""
        if not self.tracing:
            return
        run = session.get(Run, run_id, populate_existing=True)
        assert run is not None
        parameters = self._version(session, run.version_id).config.model.parameters
        shown = parameters.model_dump(mode="json", exclude={"script"})
        payloads = [
            tracing.step_payload(run, step, model_parameters=shown, model_input=model_input)
            for step in steps
        ]
        for approval, what in approvals or []:
            payloads.append(tracing.approval_payload(run, approval, what))
        if ended:
            agent = session.get(Agent, run.agent_id)
            payloads.append(tracing.run_trace_payload(run, agent.name if agent else None))
        tracing.enqueue(session, run_id, payloads)


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


def bind_run(run_id: str, tenant_id: str) -> None:
    """This activity's log lines carry its run and tenant (each activity is its own task)."""
    run_id_var.set(run_id)
    tenant_id_var.set(tenant_id)


def _remember(cache: dict[str, Any], key: str, value: Any) -> None:
    if len(cache) >= CACHE_SIZE:
        cache.pop(next(iter(cache)))
    cache[key] = value
