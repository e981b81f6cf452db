"""The run's ending: its status and totals, pending approvals cancelled, a step cut short
recorded as failed."""

from sqlmodel import Session, col, select
from temporalio import activity

from core import transitions
from core.contract import FINISH_RUN, FinishRunInput
from core.events import RunEvent, approval_decided_event, run_completed_event, step_completed_event
from core.models import Approval, ApprovalStatus, RunStatus, RunStep, StepKind, StepStatus
from core.models.common import utcnow
from core.transitions import run_totals
from worker.activities.recorder import StepRecorder, bind_run


class FinishSteps(StepRecorder):
    @activity.defn(name=FINISH_RUN)
    async def finish_run(self, finish: FinishRunInput) -> None:
        bind_run(finish.run_id, finish.tenant_id)

        def write(session: Session) -> list[RunEvent]:
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
