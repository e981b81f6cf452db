"""Approvals: the tenant's inbox, and decisions by people allowed to make them.

The database holds the decision; the run's workflow is then told by a signal. A decision that was
recorded but could not be delivered is delivered again when the same person repeats it, and a run
whose approval expires reads any decision recorded meanwhile.
"""

from typing import Any

from sqlmodel import Session, col, select

from backend.errors import ApiError, conflict, invalid, not_found
from backend.pagination import Page, PageParams, paginate
from backend.services.runs import get_run
from core import transitions
from core.events import NewEvent, approval_decided_event, status_event
from core.models import (
    AgentVersion,
    Approval,
    ApprovalDecide,
    ApprovalPublic,
    ApprovalStatus,
    Run,
    RunStatus,
)
from core.models.agent_config import tool_parameters
from core.models.common import utcnow
from core.tool_arguments import argument_errors

DECISIONS = {"approve": ApprovalStatus.approved, "reject": ApprovalStatus.rejected}


def list_for_run(session: Session, run_id: str, params: PageParams) -> Page[ApprovalPublic]:
    run = get_run(session, run_id)
    statement = select(Approval).where(Approval.run_id == run.id)
    return paginate(
        session,
        statement,
        col(Approval.step_seq),
        params,
        ApprovalPublic.model_validate,
        lambda a: a.step_seq,
        descending=False,
    )


def inbox(
    session: Session,
    params: PageParams,
    status: ApprovalStatus | None,
    agent_id: str | None,
) -> Page[ApprovalPublic]:
    """The tenant's approvals, newest first."""
    statement = select(Approval)
    if status is not None:
        statement = statement.where(Approval.status == status)
    if agent_id:
        statement = statement.where(Approval.agent_id == agent_id)
    return paginate(
        session, statement, col(Approval.id), params, ApprovalPublic.model_validate, lambda a: a.id
    )


def get_approval(session: Session, approval_id: str, run_id: str | None = None) -> Approval:
    approval = session.get(Approval, approval_id)
    if approval is None or (run_id is not None and approval.run_id != run_id):
        raise not_found("approval", approval_id)
    return approval


def _check_arguments(session: Session, run: Run, tool_name: str, arguments: dict[str, Any]) -> None:
    version = session.get(AgentVersion, run.version_id)
    assert version is not None
    tool = version.agent_config().find_tool(tool_name)
    if tool is None:
        raise invalid("arguments", "body", f"the run's version has no tool {tool_name!r}")
    schema = tool_parameters(tool)
    errors = argument_errors(schema, arguments)
    if errors:
        details = [
            {
                "field": ".".join(["arguments", *error.path]),
                "location": "body",
                "message": error.message,
            }
            for error in errors
        ]
        first = details[0]
        raise ApiError(422, "validation_error", f"{first['field']}: {first['message']}", details)


def decide(
    session: Session,
    run_id: str,
    approval_id: str,
    body: ApprovalDecide,
    decided_by: str,
    decided_by_name: str | None = None,
) -> tuple[Approval, list[NewEvent]]:
    """Record a decision. Returns the approval, its workflow to be told next, and the events
    to publish (none for a repeat)."""
    run = get_run(session, run_id)
    approval = get_approval(session, approval_id, run.id)
    wanted = DECISIONS[body.decision]
    current = ApprovalStatus(approval.status)
    if current != ApprovalStatus.pending:
        if current == wanted and approval.decided_by == decided_by:
            return approval, []  # a repeat: deliver it again
        by = f" by {approval.decided_by}" if approval.decided_by else ""
        raise conflict("approval_decided", f"this approval is already {current.value}{by}")
    if body.arguments is not None:
        if wanted != ApprovalStatus.approved:
            raise invalid("arguments", "body", "only an approval may change the arguments")
        _check_arguments(session, run, approval.tool_name, body.arguments)
    now = utcnow()
    if approval.expires_at is not None and approval.expires_at <= now:
        raise conflict("approval_expired", "this approval expired; the run treats it as rejected")
    decided = transitions.decide_approval(
        session,
        approval.id,
        wanted,
        decided_by=decided_by,
        decided_by_name=decided_by_name,
        comment=body.comment,
        edited_arguments=body.arguments,
    )
    if not decided:
        session.rollback()
        session.refresh(approval)
        raise conflict("approval_decided", f"this approval is already {approval.status}")
    resumed = transitions.resume(session, run.id)
    session.commit()
    session.refresh(approval)
    events = [approval_decided_event(approval)]
    if resumed:
        events.append(status_event(RunStatus.running.value))
    return approval, events
