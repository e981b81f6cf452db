"""Agents: create, list, read, rename, archive, delete (only without runs)."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status

from backend.deps import CanRead, CanWrite, ScheduleEngineDep, TenantSessionDep
from backend.pagination import Page, PageParams, page_params
from backend.routes.path_params import AgentId
from backend.services import agents as service
from core.models import AgentCreate, AgentPublic, AgentUpdate

router = APIRouter(prefix="/v1/agents", tags=["agents"])


@router.post("", status_code=status.HTTP_201_CREATED)
def create_agent(body: AgentCreate, session: TenantSessionDep, principal: CanWrite) -> AgentPublic:
    """Create an agent (a name, a description); publish versions to configure it."""
    agent = service.create_agent(session, body, principal.subject, principal.display_name or None)
    return AgentPublic.model_validate(agent)


@router.get("")
def list_agents(
    session: TenantSessionDep,
    _principal: CanRead,
    params: Annotated[PageParams, Depends(page_params)],
    archived: Annotated[
        bool, Query(description="List archived agents instead of active ones.")
    ] = False,
    q: Annotated[str | None, Query(max_length=200, description="Name contains (any case).")] = None,
) -> Page[AgentPublic]:
    """The tenant's agents, newest first: the active ones, or with `archived=true` the archived."""
    return service.list_agents(session, params, archived=archived, search=q)


@router.get("/{agent_id}")
def get_agent(agent_id: AgentId, session: TenantSessionDep, _principal: CanRead) -> AgentPublic:
    """One agent, with the number of its latest version."""
    return AgentPublic.model_validate(service.get_agent(session, agent_id))


@router.patch("/{agent_id}")
def update_agent(
    agent_id: AgentId, body: AgentUpdate, session: TenantSessionDep, _principal: CanWrite
) -> AgentPublic:
    """Rename, describe, archive or unarchive."""
    return AgentPublic.model_validate(service.update_agent(session, agent_id, body))


@router.delete("/{agent_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_agent(
    agent_id: AgentId, session: TenantSessionDep, _principal: CanWrite, engine: ScheduleEngineDep
) -> Response:
    """Delete an agent that has never run (409 otherwise: archive it instead), and its
    schedules."""
    service.delete_agent(session, agent_id, engine)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
