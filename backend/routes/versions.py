"""Agent versions: published, read and listed; never changed."""

from typing import Annotated, Any

from anyio import from_thread
from fastapi import APIRouter, Depends, status
from pydantic import BaseModel, ConfigDict, Field

from backend.deps import CanRead, CanWrite, PrincipalDep, SettingsDep, TenantSessionDep
from backend.errors import ApiError
from backend.pagination import Page, PageParams, page_params
from backend.routes.path_params import AgentId, VersionNumber
from backend.services import agents as service
from backend.services.mcp_pinning import Reach, pinned, refreshed
from backend.settings import Settings
from core.models import VersionCreate, VersionPublic

router = APIRouter(prefix="/v1/agents/{agent_id}/versions", tags=["versions"])


@router.post("", status_code=status.HTTP_201_CREATED)
def publish_version(
    agent_id: AgentId,
    body: VersionCreate,
    session: TenantSessionDep,
    principal: CanWrite,
    settings: SettingsDep,
) -> VersionPublic:
    """Publish the next version. The body is the configuration itself; an MCP server entry
    without `tools` gets the server's tools pinned now (a 422 names an unreachable one)."""
    service.get_agent(session, agent_id)  # a 404 before connecting anywhere
    body = from_thread.run(pinned, body, _reach(settings))
    version = service.publish_version(
        session, agent_id, body, principal.subject, principal.display_name or None
    )
    return VersionPublic.of(version)


def _reach(settings: Settings) -> Reach:
    return Reach(settings.tool_allow_private_networks, settings.mcp_allow_stdio)


class McpRefresh(BaseModel):
    """Compare a version's pinned MCP tools with what their servers list now."""

    model_config = ConfigDict(extra="forbid")

    publish: bool = Field(
        default=False,
        description="Publish a version with the servers' current definitions (if any changed).",
    )
    notes: str = Field(default="", max_length=10_000, description="The new version's notes.")


class McpChange(BaseModel):
    """One MCP tool whose definition differs from the pinned one."""

    entry: str = Field(description="The MCP server entry's name.")
    tool: str = Field(description="The server's name for the tool.")
    change: str = Field(description="`added`, `removed` or `changed`.")
    details: list[str] = Field(description="What changed.")


class McpRefreshed(BaseModel):
    """The differences, and the version published with them (if asked and any)."""

    changes: list[McpChange] = Field(description="Every difference; empty: all as pinned.")
    published: VersionPublic | None = Field(description="The new version, if one was published.")


@router.post("/{number}/mcp-refresh")
def refresh_mcp_tools(
    agent_id: AgentId,
    number: VersionNumber,
    body: McpRefresh,
    session: TenantSessionDep,
    principal: CanWrite,
    settings: SettingsDep,
) -> McpRefreshed:
    """What the version's MCP servers list now against what it pinned; with `publish`, a new
    version pinning the current definitions (the one way a changed tool gets called)."""
    version = service.get_version(session, agent_id, number)
    changes: list[dict[str, Any]]
    changes, config = from_thread.run(refreshed, version.agent_config(), _reach(settings))
    published = None
    if body.publish and changes:
        notes = body.notes or f"MCP tools refreshed from version {number}"
        config = config.model_copy(update={"notes": notes})
        new = service.publish_version(
            session, agent_id, config, principal.subject, principal.display_name or None
        )
        published = VersionPublic.of(new)
    return McpRefreshed(
        changes=[McpChange.model_validate(change) for change in changes], published=published
    )


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
