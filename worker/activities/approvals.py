"""Approval bookkeeping: record that a call waits for a person; expire it when no one decides."""

from datetime import timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select
from temporalio import activity

from core import transitions
from core.contract import (
    EXPIRE_APPROVAL,
    REQUEST_APPROVAL,
    ApprovalOutcome,
    ApprovalRef,
    ApprovalRequested,
    ApprovalRequestInput,
)
from core.events import RunEvent, approval_decided_event, approval_requested_event, status_event
from core.models import Approval, ApprovalStatus, RunStep
from core.models.common import utcnow
from worker.activities.recorder import StepRecorder, bind_run
from worker.tools import validate_arguments
from worker.types import ToolError


class ApprovalSteps(StepRecorder):
    @activity.defn(name=REQUEST_APPROVAL)
    async def request_approval(self, request: ApprovalRequestInput) -> ApprovalRequested:
        """Record that a tool call waits for a person; the run shows `awaiting_approval`."""
        bind_run(request.run_id, request.tenant_id)

        def write(session: Session) -> tuple[ApprovalRequested, list[RunEvent]]:
            facts = self._facts(session, request.run_id)
            pinned = self._version(session, facts.version_id)
            recorded = _approval_for(session, facts.run_id, request.seq)
            if recorded is not None:
                return _requested(recorded), []  # an earlier attempt asked already
            model_step = session.exec(
                select(RunStep).where(
                    RunStep.run_id == facts.run_id, RunStep.seq == request.model_seq
                )
            ).one()
            self._read_payloads(session, [model_step])
            call = (model_step.output or {})["tool_calls"][request.call_index]
            spec = next((s for s in pinned.tool_specs if s.name == call["name"]), None)
            tool = pinned.config.find_tool(call["name"])
            if spec is None or tool is None or "__invalid_json__" in call["arguments"]:
                return ApprovalRequested(None, status="not_needed"), []
            try:
                validate_arguments(spec, call["arguments"])
            except ToolError:
                # No one approves a misfire: its tool step fails on the arguments.
                return ApprovalRequested(None, status="not_needed"), []
            timeout = tool.approval_timeout_seconds or pinned.config.limits.approval_timeout_seconds
            now = utcnow()
            approval = Approval(
                run_id=facts.run_id,
                agent_id=facts.agent_id,
                step_seq=request.seq,
                tool_name=tool.name,
                arguments=call["arguments"],
                requested_at=now,
                expires_at=now + timedelta(seconds=timeout),
            )
            session.add(approval)
            transitions.await_approval(session, facts.run_id)
            session.flush()  # the approval's id and times, for its observation and event
            self._trace(session, facts.run_id, [], approvals=[(approval, "requested")])
            events = [status_event("awaiting_approval"), approval_requested_event(approval)]
            deferred = self._stage(session, facts.run_id, events)
            try:
                session.commit()
            except IntegrityError:
                session.rollback()
                raced = _approval_for(session, facts.run_id, request.seq)
                assert raced is not None
                return _requested(raced), []
            return _requested(approval), deferred

        requested, deferred = await self._db(request.tenant_id, write)
        await self._publish(request.tenant_id, request.run_id, deferred)
        return requested

    @activity.defn(name=EXPIRE_APPROVAL)
    async def expire_approval(self, ref: ApprovalRef) -> ApprovalOutcome:
        """No decision came in time: expire it, unless one was recorded but never signalled."""
        bind_run(ref.run_id, ref.tenant_id)

        def write(session: Session) -> tuple[ApprovalOutcome, list[RunEvent]]:
            expired = bool(
                transitions.close_pending_approvals(
                    session, col(Approval.id) == ref.approval_id, ApprovalStatus.expired
                )
            )
            resumed = expired and transitions.resume(session, ref.run_id)
            approval = session.get(Approval, ref.approval_id, populate_existing=True)
            assert approval is not None
            events = [approval_decided_event(approval)] if expired else []
            events += [status_event("running")] if resumed else []
            deferred = self._stage(session, ref.run_id, events)
            session.commit()
            return ApprovalOutcome(ApprovalStatus(approval.status).value), deferred

        outcome, deferred = await self._db(ref.tenant_id, write)
        await self._publish(ref.tenant_id, ref.run_id, deferred)
        return outcome


def _approval_for(session: Session, run_id: str, seq: int) -> Approval | None:
    return session.exec(
        select(Approval).where(Approval.run_id == run_id, Approval.step_seq == seq)
    ).first()


def _requested(approval: Approval) -> ApprovalRequested:
    assert approval.expires_at is not None
    status = ApprovalStatus(approval.status)
    return ApprovalRequested(
        approval.id,
        int(approval.expires_at.timestamp() * 1000),
        None if status == ApprovalStatus.pending else status.value,
    )
