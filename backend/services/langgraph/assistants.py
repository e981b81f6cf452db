"""Agents as LangGraph assistants: the assistant id is the agent's id (its name works too), the
graph id its name, the version its newest (a run pins another with
`config.configurable.version`). Archived agents and agents without a version are not listed:
they cannot run.
"""

from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from backend.errors import not_found
from backend.services.langgraph.messages import MODEL_NODE, TOOLS_NODE
from backend.services.langgraph.models import AssistantSearch, VersionSearch
from backend.services.langgraph.vocabulary import iso
from core.models import Agent, AgentVersion

SORT_COLUMNS = {
    "assistant_id": col(Agent.id),
    "graph_id": col(Agent.name),
    "name": col(Agent.name),
    "created_at": col(Agent.created_at),
    "updated_at": col(Agent.updated_at),
}
MESSAGE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "A LangChain message: `type` (or `role`) and `content`.",
    "properties": {
        "type": {"type": "string", "enum": ["human", "ai", "tool", "system"]},
        "role": {"type": "string", "enum": ["user", "assistant", "tool", "system"]},
        "content": {"anyOf": [{"type": "string"}, {"type": "array"}]},
        "id": {"type": "string"},
        "tool_calls": {"type": "array"},
        "tool_call_id": {"type": "string"},
    },
    "required": ["content"],
}
STATE_SCHEMA: dict[str, Any] = {
    "title": "AgentState",
    "type": "object",
    "properties": {"messages": {"type": "array", "items": MESSAGE_SCHEMA}},
    "required": ["messages"],
}
CONFIG_SCHEMA: dict[str, Any] = {
    "title": "Configurable",
    "type": "object",
    "properties": {
        "version": {
            "description": "The agent version a run pins (default: the newest).",
            "anyOf": [{"type": "integer", "minimum": 1}, {"const": "latest"}],
        }
    },
}
CONTEXT_SCHEMA: dict[str, Any] = {
    "title": "Context",
    "type": "object",
    "description": "Free-form facts given to the model with the prompt.",
    "additionalProperties": True,
}


def _metadata(agent: Agent) -> dict[str, Any]:
    return {"created_by": agent.created_by, "description": agent.description}


def _shape(
    agent: Agent, number: int, created_at: Any, configurable: dict[str, Any]
) -> dict[str, Any]:
    return {
        "assistant_id": agent.id,
        "graph_id": agent.name,
        "name": agent.name,
        "description": agent.description or None,
        "config": {"configurable": configurable},
        "context": {},
        "metadata": _metadata(agent),
        "version": number,
        "created_at": iso(created_at),
    }


def assistant_shape(agent: Agent) -> dict[str, Any]:
    """The agent as LangGraph's `Assistant`: its newest version, unpinned."""
    shape = _shape(agent, agent.latest_version or 0, agent.created_at, {})
    shape["updated_at"] = iso(agent.updated_at)
    return shape


def version_shape(agent: Agent, version: AgentVersion) -> dict[str, Any]:
    """A version as LangGraph's `AssistantVersion`; its config pins it."""
    shape = _shape(agent, version.number, version.created_at, {"version": version.number})
    shape["metadata"] = {**shape["metadata"], "config_hash": version.config_hash}
    return shape


def _runnable() -> Any:
    return select(Agent).where(
        col(Agent.archived).is_(False), col(Agent.latest_version).is_not(None)
    )


def find(session: Session, assistant_id: str) -> Agent:
    """The agent by id, else by name; a 404 names the assistant."""
    agent = session.get(Agent, assistant_id)
    if agent is None:
        agent = session.exec(select(Agent).where(Agent.name == assistant_id)).first()
    if agent is None or agent.archived or agent.latest_version is None:
        raise not_found("assistant", assistant_id)
    return agent


def _matches(agent: Agent, wanted: dict[str, Any] | None) -> bool:
    shown = _metadata(agent)
    return all(shown.get(key) == value for key, value in (wanted or {}).items())


def search(session: Session, query: AssistantSearch) -> tuple[list[dict[str, Any]], bool]:
    """A page of assistants, and whether more follow."""
    statement = _runnable()
    if query.graph_id:
        statement = statement.where(Agent.name == query.graph_id)
    if query.name:
        statement = statement.where(func.lower(Agent.name).contains(query.name.lower()))
    column = SORT_COLUMNS[query.sort_by or "created_at"]
    order = column.asc() if query.sort_order == "asc" else column.desc()
    agents = [
        agent
        for agent in session.exec(statement.order_by(order, col(Agent.id)))
        if _matches(agent, query.metadata)
    ]
    page = agents[query.offset : query.offset + query.limit]
    return [assistant_shape(agent) for agent in page], len(agents) > query.offset + query.limit


def versions(session: Session, agent: Agent, query: VersionSearch) -> list[dict[str, Any]]:
    """The agent's versions, newest first."""
    rows = session.exec(
        select(AgentVersion)
        .where(AgentVersion.agent_id == agent.id)
        .order_by(col(AgentVersion.number).desc())
    ).all()
    shapes = [version_shape(agent, row) for row in rows]
    wanted = query.metadata or {}
    shapes = [s for s in shapes if all(s["metadata"].get(k) == v for k, v in wanted.items())]
    return shapes[query.offset : query.offset + query.limit]


def schemas(agent: Agent) -> dict[str, Any]:
    """What a chat agent takes and gives: messages in, the conversation's messages out."""
    return {
        "graph_id": agent.name,
        "input_schema": STATE_SCHEMA,
        "output_schema": STATE_SCHEMA,
        "state_schema": STATE_SCHEMA,
        "config_schema": CONFIG_SCHEMA,
        "context_schema": CONTEXT_SCHEMA,
    }


def graph(agent: Agent) -> dict[str, Any]:
    """Every agent's loop as a graph: the model, then tools, then the model, until it answers."""
    nodes = ["__start__", MODEL_NODE, TOOLS_NODE, "__end__"]
    edges = [
        ("__start__", MODEL_NODE, False),
        (MODEL_NODE, TOOLS_NODE, True),
        (MODEL_NODE, "__end__", True),
        (TOOLS_NODE, MODEL_NODE, False),
    ]
    return {
        "nodes": [{"id": node, "type": "runnable", "data": {"name": node}} for node in nodes],
        "edges": [
            {"source": source, "target": target, "conditional": conditional}
            for source, target, conditional in edges
        ],
    }
