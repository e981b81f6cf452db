"""Assistants: our agents, as LangGraph's SDK lists and reads them."""

from typing import Annotated, Any

from fastapi import APIRouter, Path, Response

from backend.deps import CanRead, TenantSessionDep
from backend.services.langgraph import assistants as service
from backend.services.langgraph.models import AssistantSearch, VersionSearch

router = APIRouter()
AssistantId = Annotated[str, Path(description="The agent's id (`agt_...`) or its name.")]


@router.post("/assistants/search")
def search_assistants(
    body: AssistantSearch, response: Response, session: TenantSessionDep, _principal: CanRead
) -> list[dict[str, Any]]:
    """The agents that can run (not archived, with a version); `X-Pagination-Next` holds the
    next page's offset when there is one."""
    found, more = service.search(session, body)
    if more:
        response.headers["X-Pagination-Next"] = str(body.offset + body.limit)
    return found


@router.post("/assistants/count")
def count_assistants(body: AssistantSearch, session: TenantSessionDep, _principal: CanRead) -> int:
    """How many agents the search finds."""
    everything = body.model_copy(update={"offset": 0, "limit": 1000})
    return len(service.search(session, everything)[0])


@router.get("/assistants/{assistant_id}")
def get_assistant(
    assistant_id: AssistantId, session: TenantSessionDep, _principal: CanRead
) -> dict[str, Any]:
    """The agent as an assistant at its newest version."""
    return service.assistant_shape(service.find(session, assistant_id))


@router.get("/assistants/{assistant_id}/schemas")
def get_assistant_schemas(
    assistant_id: AssistantId, session: TenantSessionDep, _principal: CanRead
) -> dict[str, Any]:
    """What every agent takes and gives: `{"messages": [...]}`; `configurable.version`."""
    return service.schemas(service.find(session, assistant_id))


@router.get("/assistants/{assistant_id}/graph")
def get_assistant_graph(
    assistant_id: AssistantId, session: TenantSessionDep, _principal: CanRead
) -> dict[str, Any]:
    """The agent loop as a graph: `model`, then `tools`, until the model answers."""
    return service.graph(service.find(session, assistant_id))


@router.post("/assistants/{assistant_id}/versions")
def list_assistant_versions(
    assistant_id: AssistantId, body: VersionSearch, session: TenantSessionDep, _principal: CanRead
) -> list[dict[str, Any]]:
    """The agent's immutable versions, newest first; each one's config pins it."""
    return service.versions(session, service.find(session, assistant_id), body)
