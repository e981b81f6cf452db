"""Which version a run gets: a number, `latest`, or an alias (resolved once, when the run is made).

One rule for every place that makes runs: the API (runs, thread turns) and the worker (a
schedule's fire). A weighted alias picks by a hash of a sticky key (the thread), so a thread
keeps its version while the weights stay the same; a run on its own picks at random.
"""

import hashlib
import secrets
from dataclasses import dataclass

from sqlmodel import Session, col, select

from core.models import AgentAlias, AgentVersion


class VersionNotFoundError(LookupError):
    """The reference names nothing: no such version, no such alias, or no version at all."""

    def __init__(self, message: str, *, no_versions: bool = False) -> None:
        super().__init__(message)
        self.no_versions = no_versions


@dataclass(frozen=True)
class ResolvedVersion:
    version: AgentVersion
    alias: str | None


def pick_target(targets: list[dict[str, int]], sticky_key: str | None) -> int:
    """The version number a weighted split gives `sticky_key` (stable for one key)."""
    total = sum(target["weight"] for target in targets)
    if sticky_key is None:
        point = secrets.randbelow(total)
    else:
        digest = hashlib.sha256(sticky_key.encode()).digest()
        point = int.from_bytes(digest[:8], "big") % total
    for target in targets:
        point -= target["weight"]
        if point < 0:
            return target["version"]
    return targets[-1]["version"]


def resolve_version(
    session: Session, agent_id: str, reference: int | str, sticky_key: str | None = None
) -> ResolvedVersion:
    """The version `reference` names now, and the alias it came through (None otherwise)."""
    alias_name: str | None = None
    number: int | str = reference
    if isinstance(reference, str) and reference != "latest":
        alias = session.exec(
            select(AgentAlias).where(AgentAlias.agent_id == agent_id, AgentAlias.name == reference)
        ).first()
        if alias is None:
            raise VersionNotFoundError(f"the agent has no alias {reference!r}")
        alias_name = alias.name
        number = pick_target(alias.targets, f"{alias.id}:{sticky_key}" if sticky_key else None)
    statement = select(AgentVersion).where(AgentVersion.agent_id == agent_id)
    if number == "latest":
        statement = statement.order_by(col(AgentVersion.number).desc())
    else:
        statement = statement.where(AgentVersion.number == number)
    version = session.exec(statement.limit(1)).first()
    if version is None:
        if number == "latest":
            raise VersionNotFoundError("the agent has no versions yet", no_versions=True)
        raise VersionNotFoundError(f"the agent has no version {number}")
    return ResolvedVersion(version, alias_name)
