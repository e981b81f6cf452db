"""The run's ending: its status and totals, pending approvals cancelled, a step cut short
recorded `cancelled` (the run was cancelled) or `failed` (a timeout or a failure ended it)."""

from datetime import UTC, datetime

from sqlmodel import Session, col, select
from temporalio import activity

from core import transitions
from core.contract import FINISH_RUN, FinishRunInput, InFlight
from core.events import RunEvent, approval_decided_event, run_completed_event, step_completed_event
from core.models import Approval, ApprovalStatus, RunStatus, RunStep, StepKind, StepStatus
from core.models.common import utcnow
from core.transitions import run_totals
from worker.activities.recorder import StepRecorder, bind_run

# How a run's ending leaves the step it cut short: a cancel is no failure of the step.
CUT_SHORT_BY = {RunStatus.cancelled.value: StepStatus.cancelled}


class FinishSteps(StepRecorder):
    @activity.defn(name=FINISH_RUN)
    async def finish_run(self, finish: FinishRunInput) -> None:
        bind_run(finish.run_id, finish.tenant_id)

        def write(session: Session) -> tuple[list[RunEvent], str | None]:
            error = {"code": finish.error_code, "message": finish.error_message}
            steps = list(session.exec(select(RunStep).where(RunStep.run_id == finish.run_id)))
            values = {"error": error, **run_totals(steps)}
            ended = None
            if transitions.end_run(session, finish.run_id, RunStatus(finish.status), **values):
                ended = run_completed_event(finish.status, **values)
            else:
                activity.logger.warning("run %s had already ended", finish.run_id)
            cancelled_ids = transitions.close_pending_approvals(
                session, col(Approval.run_id) == finish.run_id, ApprovalStatus.cancelled
            )
            # Read after the update: their rows say `cancelled` (and none decided meanwhile).
            cancelled = list(
                session.exec(select(Approval).where(col(Approval.id).in_(cancelled_ids)))
            )
            # The step the ending cut short ends too, so nothing looks in flight; it keeps its
            # start, and never ends before it (the workflow's clock and ours may differ).
            status = CUT_SHORT_BY.get(finish.status, StepStatus.failed)
            now = utcnow()
            closed = []
            for step in steps:
                if step.status == StepStatus.running:
                    step.status = status
                    step.error = step.error or error
                    step.ended_at = max(now, step.started_at)
                    session.add(step)
                    closed.append(step)
            if finish.in_flight and finish.in_flight[0] not in {s.seq for s in steps}:
                seq, kind, name, started_at = _in_flight(finish.in_flight, now)
                if not name:
                    facts = self._facts(session, finish.run_id)
                    model = self._version(session, facts.version_id).config.model
                    name = model.name or model.provider
                cut_short = RunStep(
                    run_id=finish.run_id,
                    seq=seq,
                    kind=StepKind(kind),
                    name=name,
                    status=status,
                    error=error,
                    started_at=min(started_at, now),
                    ended_at=now,
                    worker_build=self.build_id,
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
            return deferred, self._facts(session, finish.run_id).thread_id

        deferred, thread_id = await self._db(finish.tenant_id, write)
        await self._publish(finish.tenant_id, finish.run_id, deferred)
        await self._start_next_on_thread(finish.tenant_id, thread_id)


def _in_flight(in_flight: InFlight, now: datetime) -> tuple[int, str, str, datetime]:
    """(seq, kind, name, started_at); a start the workflow did not carry (histories recorded
    before it did) is taken as now."""
    seq, kind, name, *since = in_flight
    started_at = datetime.fromtimestamp(since[0] / 1000, UTC) if since else now
    return seq, kind, name, started_at
