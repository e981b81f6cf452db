"""Whose turn it is on a thread, and the workflow input that starts a run.

A thread runs one run at a time, in the order they were created: a run added while another is
active waits `queued` until every earlier run of its thread has ended. Both planes apply this
one rule: the worker starts the next run when a thread's run ends, and every API process's run
starter finds any run it should have started (a lost start, an API that died).
"""

from sqlalchemy import ColumnElement, and_, exists, or_
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from core.contract import AgentRunInput, RunLimits
from core.models import AgentVersion, Run, RunStatus

# A run that holds its thread: nothing later on the thread starts until it ends.
HOLDS_THREAD = (
    RunStatus.queued,
    RunStatus.running,
    RunStatus.awaiting_approval,
    RunStatus.cancelling,
)


def workflow_input(session: Session, run: Run, steps_per_execution: int) -> AgentRunInput:
    """What starts the run's workflow: its ids and its version's limits."""
    version = session.get(AgentVersion, run.version_id)
    assert version is not None
    assert run.tenant_id is not None
    limits = version.agent_config().limits
    return AgentRunInput(
        run_id=run.id,
        tenant_id=run.tenant_id,
        limits=RunLimits(
            max_steps=limits.max_steps,
            max_tokens=limits.max_tokens,
            max_cost_usd=limits.max_cost_usd,
            timeout_seconds=limits.timeout_seconds,
        ),
        steps_per_execution=steps_per_execution,
    )


def waits_for_its_turn() -> ColumnElement[bool]:
    """For a query over `Run`: the run is on a thread where an earlier run still holds it."""
    earlier = aliased(Run)
    return exists().where(
        col(earlier.thread_id) == col(Run.thread_id),
        col(earlier.status).in_([status.value for status in HOLDS_THREAD]),
        or_(
            col(earlier.created_at) < col(Run.created_at),
            and_(col(earlier.created_at) == col(Run.created_at), col(earlier.id) < col(Run.id)),
        ),
    )


def next_in_line(session: Session, thread_id: str) -> Run | None:
    """The thread's oldest queued run, if it is its turn (no earlier run holds the thread)."""
    return session.exec(
        select(Run)
        .where(
            col(Run.thread_id) == thread_id,
            col(Run.status) == RunStatus.queued.value,
            ~waits_for_its_turn(),
        )
        .order_by(col(Run.created_at), col(Run.id))
        .limit(1)
    ).first()


def may_start_now(session: Session, run: Run) -> bool:
    """A run on its own may always start; a thread's run only on its turn."""
    if run.thread_id is None:
        return True
    first = next_in_line(session, run.thread_id)
    return first is not None and first.id == run.id
