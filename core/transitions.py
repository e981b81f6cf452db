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

_ENDINGS = frozenset(status for status in RunStatus if status.is_terminal)
# The run's status machine; every function below moves along one of these arrows.
ALLOWED_TRANSITIONS: dict[RunStatus, frozenset[RunStatus]] = {
    RunStatus.queued: frozenset({RunStatus.running, RunStatus.cancelling} | _ENDINGS),
    RunStatus.running: frozenset({RunStatus.awaiting_approval, RunStatus.cancelling} | _ENDINGS),
    RunStatus.awaiting_approval: frozenset({RunStatus.running, RunStatus.cancelling} | _ENDINGS),
    RunStatus.cancelling: frozenset(_ENDINGS),
    **{status: frozenset() for status in _ENDINGS},
}

# Updates by primary key from short sessions: nothing loaded needs refreshing.
_NO_SYNC = {"synchronize_session": False}
# A cancel may be asked of a run until it ends or is already being cancelled.
CANCELLABLE = (RunStatus.queued, RunStatus.running, RunStatus.awaiting_approval)
CANCELLED_ERROR = {"code": "cancelled", "message": "the run was cancelled"}


def statuses_that_may_become(new: RunStatus) -> frozenset[RunStatus]:
    return frozenset(s for s, targets in ALLOWED_TRANSITIONS.items() if new in targets)


def _move_run(
    session: Session, run_id: str, sources: Iterable[RunStatus], to: RunStatus, **values: Any
) -> bool:
    sources = list(sources)
    refused = [source.value for source in sources if to not in ALLOWED_TRANSITIONS[source]]
    if refused:
        raise ValueError(f"a run cannot go from {', '.join(refused)} to {to.value}")
    result = session.execute(
        update(Run)
        .where(col(Run.id) == run_id, col(Run.status).in_([s.value for s in sources]))
        .values(status=to.value, **values),
        execution_options=_NO_SYNC,
    )
    return bool(getattr(result, "rowcount", 0))


def mark_running(session: Session, run_id: str) -> bool:
    """queued -> running, when its first step starts."""
    return _move_run(session, run_id, [RunStatus.queued], RunStatus.running, started_at=utcnow())


def await_approval(session: Session, run_id: str) -> bool:
    """running -> awaiting_approval, while a tool call waits for a person."""
    return _move_run(session, run_id, [RunStatus.running], RunStatus.awaiting_approval)


def resume(session: Session, run_id: str) -> bool:
    """awaiting_approval -> running, once the approval it waited for is settled."""
    return _move_run(session, run_id, [RunStatus.awaiting_approval], RunStatus.running)


def request_cancel(session: Session, run_id: str) -> bool:
    """queued | running | awaiting_approval -> cancelling. False if the run has ended (or is
    cancelling already) by the time the update runs: an ending is never overwritten."""
    return _move_run(session, run_id, CANCELLABLE, RunStatus.cancelling)


def mark_cancelled(session: Session, run_id: str) -> bool:
    """cancelling -> cancelled, for a run whose workflow is gone (nothing else will end it).
    Only from `cancelling`: a run its worker ended meanwhile keeps that ending."""
    return _move_run(
        session,
        run_id,
        [RunStatus.cancelling],
        RunStatus.cancelled,
        error=CANCELLED_ERROR,
        ended_at=utcnow(),
    )


def end_run(session: Session, run_id: str, status: RunStatus, **values: Any) -> bool:
    """Any status that may end so -> the ending `status`, with `values` (output, error,
    totals). False if the run had ended already."""
    if not status.is_terminal:
        raise ValueError(f"{status.value} is not an ending")
    sources = statuses_that_may_become(status)
    return _move_run(session, run_id, sources, status, ended_at=utcnow(), **values)


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
