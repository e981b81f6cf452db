"""Starting and cancelling a run's workflow from a request: shared by the runs and threads
routes. The committed row is the record; the engine is told after the commit."""

import logging

from anyio import from_thread
from fastapi import Request
from sqlmodel import Session

from backend.auth import Principal
from backend.errors import ApiError
from backend.services import runs as service
from backend.services import threads
from backend.services.engine import EngineUnavailableError, RunEngine
from backend.services.live import publish
from backend.services.webhooks import check_destination
from core.contract import ApprovalDecided
from core.db import TenantScope, scoped_session
from core.events import NewEvent, run_ended_event, status_event
from core.models import Approval, ApprovalStatus, Run, RunStatus, ThreadRunCreate
from core.observability import RUNS_FINISHED, RUNS_STARTED
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


def add_thread_run(
    request: Request,
    session: Session,
    principal: Principal,
    thread_id: str,
    body: ThreadRunCreate,
    steps_per_execution: int,
) -> Run:
    """Add a run to the thread by its multitask strategy, stop the runs that strategy cancels,
    and start the new one if it is its turn."""
    if body.webhook:
        allow_private = request.app.state.settings.tool_allow_private_networks
        check_destination(body.webhook, allow_private, field="webhook")
    added = threads.add_run(
        session, thread_id, body, principal.subject, principal.display_name or None
    )
    for cancelled in added.cancelled:
        stop(request, session, principal.tenant_id, cancelled, moved=True)
    start_if_its_turn(request, session, added.run, steps_per_execution)
    RUNS_STARTED.inc()
    return added.run


def deliver_decision(
    request: Request, tenant_id: str, approval: Approval, events: list[NewEvent]
) -> None:
    """Publish a recorded decision's events and tell the run's workflow. An unreachable engine
    is a 503: the decision stands, and repeating it delivers it."""
    publish(request, tenant_id, approval.run_id, events)
    decided = ApprovalDecided(approval.id, ApprovalStatus(approval.status).value)
    try:
        from_thread.run(run_engine(request).signal_approval, approval.run_id, decided)
    except EngineUnavailableError as exc:
        raise ApiError(
            503,
            "engine_unavailable",
            f"the decision is recorded but the run could not be told ({exc}); "
            "repeat this request to deliver it",
        ) from None


def cancel_abandoned(request: Request, tenant_id: str, run_id: str) -> None:
    """Cancel a run whose caller went away (a LangGraph stream with `on_disconnect: cancel`,
    an MCP call cancelled by its client). One that has ended keeps its ending; with the engine
    away, it stays `cancelling` and the engine finishes the cancel when it is back."""
    with scoped_session(request.app.state.engine, TenantScope(tenant_id)) as session:
        try:
            run, changed = service.request_cancel(session, run_id)
            stop(request, session, tenant_id, run, changed)
        except ApiError as exc:
            log.info("run %s, whose caller went away, was not cancelled: %s", run_id, exc.message)
