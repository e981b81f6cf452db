"""Every change of a run's or an approval's status, in one place.

Each is one conditional UPDATE from the statuses that may take it, so two writers (the API and a
worker, two API processes) never overwrite each other: whoever comes second changes nothing and
is told so (False, or an empty list). Callers commit; nothing here commits or publishes.
"""

from collections.abc import Iterable
from typing import Any

from sqlalchemy import update
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col

from core.models import Approval, ApprovalStatus, Run, RunStatus, RunStep
from core.models.common import utcnow
from core.models.run import statuses_that_may_become

# Updates by primary key from short sessions: nothing loaded needs refreshing.
_NO_SYNC = {"synchronize_session": False}
# A cancel may be asked of a run until it ends or is already being cancelled.
CANCELLABLE = (RunStatus.queued, RunStatus.running, RunStatus.awaiting_approval)
CANCELLED_ERROR = {"code": "cancelled", "message": "the run was cancelled"}


def _move_run(session: Session, run_id: str, sources: Iterable[RunStatus], **values: Any) -> bool:
    result = session.execute(
        update(Run)
        .where(col(Run.id) == run_id, col(Run.status).in_([s.value for s in sources]))
        .values(**values),
        execution_options=_NO_SYNC,
    )
    return bool(getattr(result, "rowcount", 0))


def mark_running(session: Session, run_id: str) -> bool:
    """queued -> running, when its first step starts."""
    return _move_run(
        session, run_id, [RunStatus.queued], status=RunStatus.running.value, started_at=utcnow()
    )


def await_approval(session: Session, run_id: str) -> bool:
    """running -> awaiting_approval, while a tool call waits for a person."""
    return _move_run(session, run_id, [RunStatus.running], status=RunStatus.awaiting_approval.value)


def resume(session: Session, run_id: str) -> bool:
    """awaiting_approval -> running, once the approval it waited for is settled."""
    return _move_run(session, run_id, [RunStatus.awaiting_approval], status=RunStatus.running.value)


def request_cancel(session: Session, run_id: str) -> bool:
    """queued | running | awaiting_approval -> cancelling. False if the run has ended (or is
    cancelling already) by the time the update runs: an ending is never overwritten."""
    return _move_run(session, run_id, CANCELLABLE, status=RunStatus.cancelling.value)


def mark_cancelled(session: Session, run_id: str) -> bool:
    """cancelling -> cancelled, for a run whose workflow is gone (nothing else will end it).
    Only from `cancelling`: a run its worker ended meanwhile keeps that ending."""
    return _move_run(
        session,
        run_id,
        [RunStatus.cancelling],
        status=RunStatus.cancelled.value,
        error=CANCELLED_ERROR,
        ended_at=utcnow(),
    )


def end_run(session: Session, run_id: str, status: RunStatus, **values: Any) -> bool:
    """Any status that may end so -> the ending `status`, with `values` (output, error,
    totals). False if the run had ended already."""
    if not status.is_terminal:
        raise ValueError(f"{status.value} is not an ending")
    return _move_run(
        session,
        run_id,
        statuses_that_may_become(status),
        status=status.value,
        ended_at=utcnow(),
        **values,
    )


def run_totals(steps: Iterable[RunStep]) -> dict[str, Any]:
    """A run's usage is the sum of its steps' (every attempt's tokens were paid for)."""
    rows = list(steps)
    return {
        "input_tokens": sum(s.input_tokens for s in rows),
        "output_tokens": sum(s.output_tokens for s in rows),
        "cost_usd": sum(s.cost_usd for s in rows),
    }


def decide_approval(
    session: Session, approval_id: str, status: ApprovalStatus, **values: Any
) -> bool:
    """pending -> approved | rejected (with who, when, comment, edited arguments). False if
    it was settled first (decided by someone else, expired or cancelled)."""
    if status not in (ApprovalStatus.approved, ApprovalStatus.rejected):
        raise ValueError(f"{status.value} is not a decision")
    result = session.execute(
        update(Approval)
        .where(
            col(Approval.id) == approval_id,
            col(Approval.status) == ApprovalStatus.pending.value,
        )
        .values(status=status.value, decided_at=utcnow(), **values),
        execution_options=_NO_SYNC,
    )
    return bool(getattr(result, "rowcount", 0))


def close_pending_approvals(
    session: Session, which: ColumnElement[bool], status: ApprovalStatus
) -> list[str]:
    """pending -> expired | cancelled for the approvals `which` selects; the ids it settled."""
    if status not in (ApprovalStatus.expired, ApprovalStatus.cancelled):
        raise ValueError(f"{status.value} does not close an approval")
    result = session.execute(
        update(Approval)
        .where(which, col(Approval.status) == ApprovalStatus.pending.value)
        .values(status=status.value, decided_at=utcnow())
        .returning(col(Approval.id)),
        execution_options=_NO_SYNC,
    )
    return list(result.scalars())
