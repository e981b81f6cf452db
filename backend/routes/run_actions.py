"""Starting and cancelling a run's workflow from a request: shared by the runs and threads
routes. The committed row is the record; the engine is told after the commit."""

import logging

from anyio import from_thread
from fastapi import Request
from sqlmodel import Session

from backend.errors import ApiError
from backend.services import runs as service
from backend.services.engine import EngineUnavailableError, RunEngine
from backend.services.live import publish
from core.events import run_ended_event, status_event
from core.models import Run, RunStatus
from core.observability import RUNS_FINISHED
from core.thread_queue import may_start_now, workflow_input

log = logging.getLogger("agent_runtime.api")


def run_engine(request: Request) -> RunEngine:
    engine: RunEngine = request.app.state.run_engine
    return engine


def start_if_its_turn(
    request: Request, session: Session, run: Run, steps_per_execution: int
) -> None:
    """Start a queued run's workflow now, unless it waits for its thread's earlier runs (the
    run that ends before it starts it). An unreachable engine leaves it queued: the run
    starter tries again."""
    if run.status != RunStatus.queued or not may_start_now(session, run):
        return
    run_input = workflow_input(session, run, steps_per_execution)
    try:
        from_thread.run(run_engine(request).start, run_input)
    except EngineUnavailableError as exc:
        log.warning("run %s stays queued until the engine is back: %s", run.id, exc)


def stop(request: Request, session: Session, tenant_id: str, run: Run, moved: bool) -> None:
    """Tell the engine to cancel a run moved to `cancelling`; a run without a workflow (still
    queued, or gone) is cancelled here, since nothing else will end it."""
    if moved:
        publish(request, tenant_id, run.id, [status_event(RunStatus.cancelling.value)])
    try:
        running = from_thread.run(run_engine(request).cancel, run.id)
    except EngineUnavailableError as exc:
        raise ApiError(503, "engine_unavailable", str(exc)) from None
    if not running and service.mark_cancelled(session, run):
        RUNS_FINISHED.labels(RunStatus.cancelled.value).inc()
        publish(request, tenant_id, run.id, [run_ended_event(run)])
