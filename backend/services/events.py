"""Reads behind the event stream: is the run the caller's, and what to replay when its live log
is gone (a finished run whose Redis stream expired)."""

from sqlalchemy.engine import Engine
from sqlmodel import col, select

from backend.services.runs import get_run
from core.db import TenantScope, scoped_session
from core.events import (
    RunEvent,
    run_ended_event,
    step_completed_event,
    step_started_event,
)
from core.models import RunStatus, RunStep


def run_status(engine: Engine, tenant_id: str, run_id: str) -> RunStatus:
    """The run's status; a 404 if the caller's tenant has no such run."""
    with scoped_session(engine, TenantScope(tenant_id)) as session:
        return RunStatus(get_run(session, run_id).status)


def replayed(engine: Engine, tenant_id: str, run_id: str) -> list[RunEvent]:
    """A finished run's events rebuilt from its steps, for when its log holds none."""
    with scoped_session(engine, TenantScope(tenant_id)) as session:
        run = get_run(session, run_id)
        if not RunStatus(run.status).is_terminal:
            return []
        steps = session.exec(
            select(RunStep).where(RunStep.run_id == run.id).order_by(col(RunStep.seq))
        ).all()
        timeline = []
        for step in steps:
            timeline.append(
                (step.started_at, step_started_event(step.seq, step.kind, step.name, step.attempt))
            )
            timeline.append((step.ended_at or step.started_at, step_completed_event(step)))
        timeline.append((run.ended_at or run.created_at, run_ended_event(run)))
    return [
        RunEvent(number, run_id, event_type, at.isoformat().replace("+00:00", "Z"), data)
        for number, (at, (event_type, data)) in enumerate(timeline, start=1)
    ]
