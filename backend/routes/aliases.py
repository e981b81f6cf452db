"""Aliases of an agent's versions (`prod`, `staging`): set, moved, read, deleted, audited."""

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Response, status

from backend.deps import CanRead, CanWrite, TenantSessionDep
from backend.errors import invalid
from backend.pagination import Page, PageParams, page_params
from backend.routes.path_params import AgentId
from backend.services import aliases as service
from core.models.alias import (
    ALIAS_HELP,
    ALIAS_PATTERN,
    RESERVED_ALIASES,
    AliasMovePublic,
    AliasPublic,
    AliasSet,
)

router = APIRouter(prefix="/v1/agents/{agent_id}/aliases", tags=["aliases"])
AliasName = Annotated[str, Path(pattern=ALIAS_PATTERN, max_length=40, description=ALIAS_HELP)]


@router.put("/{name}")
def set_alias(
    agent_id: AgentId,
    name: AliasName,
    body: AliasSet,
    session: TenantSessionDep,
    principal: CanWrite,
) -> AliasPublic:
    """Point the alias at a version (or split it by weight); creates it the first time. Runs
    already started keep the version they resolved."""
    if name in RESERVED_ALIASES:
        raise invalid("name", "path", "`latest` is reserved: it always names the newest version")
    alias = service.set_alias(
        session, agent_id, name, body, principal.subject, principal.display_name or None
    )
    return AliasPublic.of(alias)


@router.get("")
def list_aliases(
    agent_id: AgentId, session: TenantSessionDep, _principal: CanRead
) -> Page[AliasPublic]:
    """Every alias of the agent, by name (one page: an agent has few)."""
    return Page[AliasPublic](items=service.list_aliases(session, agent_id), next_cursor=None)


@router.get("/{name}")
def get_alias(
    agent_id: AgentId, name: AliasName, session: TenantSessionDep, _principal: CanRead
) -> AliasPublic:
    """Where the alias points now."""
    return AliasPublic.of(service.get_alias(session, agent_id, name))


@router.delete("/{name}", status_code=status.HTTP_204_NO_CONTENT)
def delete_alias(
    agent_id: AgentId, name: AliasName, session: TenantSessionDep, principal: CanWrite
) -> Response:
    """Remove the alias (its history stays); runs and schedules naming it then get a 422."""
    service.delete_alias(session, agent_id, name, principal.subject, principal.display_name or None)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{name}/history")
def alias_history(
    agent_id: AgentId,
    name: AliasName,
    session: TenantSessionDep,
    _principal: CanRead,
    params: Annotated[PageParams, Depends(page_params)],
) -> Page[AliasMovePublic]:
    """Every move of the alias, newest first: who, when, from which version(s), to which."""
    return service.alias_history(session, agent_id, name, params)
