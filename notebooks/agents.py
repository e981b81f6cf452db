"""Finding agents and versions by what a notebook user types: an id or a name."""

from typing import Any

from client import AgentRuntimeClient

AGENT_ID_PREFIX = "agt_"
LATEST = "latest"


def resolve_agent(client: AgentRuntimeClient, agent: str) -> dict[str, Any]:
    """The agent with this id (`agt_...`) or this exact name."""
    if agent.startswith(AGENT_ID_PREFIX):
        return client.get_agent(agent)
    # The search matches substrings: keep the exact name only.
    for found in client.list_agents(search=agent):
        if found["name"] == agent:
            return found
    raise LookupError(f"no agent named {agent!r}")


def resolve_version(agent: dict[str, Any], version: int | str | None) -> int:
    """A version number; `None` and "latest" mean the agent's latest version."""
    if version is None or version == LATEST:
        if agent.get("latest_version") is None:
            raise LookupError(f"agent {agent['name']!r} has no version yet")
        return int(agent["latest_version"])
    return int(version)
