"""Agent versions: published, read and listed; never changed."""

from typing import Annotated

from fastapi import APIRouter, Depends, status

from backend.deps import CanRead, CanWrite, PrincipalDep, TenantSessionDep
from backend.errors import ApiError
from backend.pagination import Page, PageParams, page_params
from backend.routes.path_params import AgentId, VersionNumber
from backend.services import agents as service
from core.models import VersionCreate, VersionPublic

router = APIRouter(prefix="/v1/agents/{agent_id}/versions", tags=["versions"])


@router.post("", status_code=status.HTTP_201_CREATED)
def publish_version(
    agent_id: AgentId, body: VersionCreate, session: TenantSessionDep, principal: CanWrite
) -> VersionPublic:
    """Publish the next version. The body is the configuration itself."""
    version = service.publish_version(
        session, agent_id, body, principal.subject, principal.display_name or None
    )
    return VersionPublic.of(version)


@router.get("")
def list_versions(
    agent_id: AgentId,
    session: TenantSessionDep,
    _principal: CanRead,
    params: Annotated[PageParams, Depends(page_params)],
) -> Page[VersionPublic]:
    """Versions in publishing order."""
    return service.list_versions(session, agent_id, params)


@router.get("/{number}")
def get_version(
    agent_id: AgentId, number: VersionNumber, session: TenantSessionDep, _principal: CanRead
) -> VersionPublic:
    """One version: the configuration it pins, its hash and who published it."""
    return VersionPublic.of(service.get_version(session, agent_id, number))


@router.api_route("/{number}", methods=["PUT", "PATCH", "DELETE"], include_in_schema=False)
def refuse_change(agent_id: AgentId, number: int, _principal: PrincipalDep) -> None:
    raise ApiError(
        405,
        "version_immutable",
        "agent versions are immutable; publish a new version instead",
        headers={"Allow": "GET"},
    )
