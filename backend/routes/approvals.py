"""Approvals: tool calls waiting for a person. Listed per run and as the tenant's inbox."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from backend.deps import CanRead, CanWrite, TenantSessionDep
from backend.errors import ErrorResponse
from backend.pagination import Page, PageParams, page_params
from backend.routes.path_params import ApprovalId, RunId
from backend.routes.run_actions import deliver_decision
from backend.services import approvals as service
from core.models import ApprovalDecide, ApprovalPublic, ApprovalStatus

router = APIRouter(tags=["approvals"])
Paging = Annotated[PageParams, Depends(page_params)]


@router.get("/v1/runs/{run_id}/approvals")
def list_run_approvals(
    run_id: RunId, session: TenantSessionDep, _principal: CanRead, params: Paging
) -> Page[ApprovalPublic]:
    """In the order the run asked for them."""
    return service.list_for_run(session, run_id, params)


@router.get("/v1/approvals")
def list_approvals(
    session: TenantSessionDep,
    _principal: CanRead,
    params: Paging,
    status_filter: Annotated[
        ApprovalStatus | None, Query(alias="status", description="e.g. `pending`: the inbox.")
    ] = None,
    agent_id: Annotated[str | None, Query(description="Only this agent's runs.")] = None,
) -> Page[ApprovalPublic]:
    """The tenant's approvals, newest first."""
    return service.inbox(session, params, status_filter, agent_id)


@router.get("/v1/approvals/{approval_id}")
def get_approval(
    approval_id: ApprovalId, session: TenantSessionDep, _principal: CanRead
) -> ApprovalPublic:
    """One approval: the call, its arguments, where it stands and who decided."""
    return ApprovalPublic.model_validate(service.get_approval(session, approval_id))


@router.post(
    "/v1/runs/{run_id}/approvals/{approval_id}",
    responses={
        503: {
            "model": ErrorResponse,
            "description": "Recorded, but the durable engine is unreachable: repeat to deliver",
        }
    },
)
def decide_approval(
    run_id: RunId,
    approval_id: ApprovalId,
    body: ApprovalDecide,
    request: Request,
    session: TenantSessionDep,
    principal: CanWrite,
) -> ApprovalPublic:
    """Approve (optionally with edited arguments) or reject a waiting tool call, once.

    A second, different decision is a 409; the same person repeating theirs is harmless.
    """
    approval, events = service.decide(
        session, run_id, approval_id, body, principal.subject, principal.display_name or None
    )
    deliver_decision(request, principal.tenant_id, approval, events)
    return ApprovalPublic.model_validate(approval)
