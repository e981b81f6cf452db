"""Release aliases: a name (`prod`) pointing at one version of an agent, or a weighted split of
several; every move recorded."""

import re
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, model_validator
from sqlalchemy import ForeignKey, UniqueConstraint
from sqlmodel import Column, Field, String

from core.ids import new_id
from core.models.common import (
    CREATED_BY_HELP,
    JSONType,
    TenantOwned,
    created_at_field,
)
from core.models.limits import DB_INT_MAX

ALIAS_PATTERN = r"^[a-z][a-z0-9_-]{0,39}$"
ALIAS_HELP = (
    "An alias of the agent: 1 to 40 lowercase letters, digits, `-` or `_`, starting with a "
    "letter (`latest` is taken)."
)
# What a run, thread turn or schedule may name instead of a number.
RESERVED_ALIASES = frozenset({"latest"})
MAX_SPLIT = 10


class AgentAlias(TenantOwned, table=True):
    """Where an alias points now: `targets` is `[{"version": n, "weight": w}, ...]`."""

    __tablename__ = "agent_alias"
    __table_args__ = (UniqueConstraint("agent_id", "name", name="uq_agent_alias_name"),)

    id: str = Field(default_factory=lambda: new_id("als"), primary_key=True, max_length=40)
    agent_id: str = Field(
        sa_column=Column(
            String(40), ForeignKey("agent.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    name: str = Field(max_length=40)
    targets: list[dict[str, int]] = Field(default_factory=list, sa_type=JSONType)
    updated_by: str = Field(max_length=200)
    updated_by_name: str | None = Field(default=None, max_length=200)
    created_at: datetime = created_at_field()
    updated_at: datetime = created_at_field()


class AliasMove(TenantOwned, table=True):
    """One change of an alias: set for the first time, moved, or deleted (`to` empty)."""

    __tablename__ = "agent_alias_move"

    id: str = Field(default_factory=lambda: new_id("alm"), primary_key=True, max_length=40)
    agent_id: str = Field(
        sa_column=Column(
            String(40), ForeignKey("agent.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    name: str = Field(max_length=40)
    from_targets: list[dict[str, int]] = Field(default_factory=list, sa_type=JSONType)
    to_targets: list[dict[str, int]] = Field(default_factory=list, sa_type=JSONType)
    moved_by: str = Field(max_length=200)
    moved_by_name: str | None = Field(default=None, max_length=200)
    moved_at: datetime = created_at_field()


class AliasTarget(BaseModel):
    """One version of a split and its share of the traffic."""

    model_config = ConfigDict(extra="forbid")

    version: Annotated[int, Field(ge=1, le=DB_INT_MAX)] = Field(description="A version number.")
    weight: Annotated[int, Field(ge=1, le=100)] = Field(
        description="Its share, as a part of the weights' sum (1 to 100)."
    )


class AliasSet(BaseModel):
    """Point an alias at one version, or split it by weight between several."""

    model_config = ConfigDict(extra="forbid")

    version: Annotated[int, Field(ge=1, le=DB_INT_MAX)] | None = Field(
        default=None, description="The version the alias names."
    )
    versions: list[AliasTarget] | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_SPLIT,
        description="A weighted split instead of `version`: each thread keeps its version.",
    )

    @model_validator(mode="after")
    def _one_of_version_or_versions(self) -> "AliasSet":
        if (self.version is None) == (self.versions is None):
            raise ValueError("give either `version` or `versions`")
        if self.versions is not None:
            numbers = [target.version for target in self.versions]
            if len(set(numbers)) != len(numbers):
                raise ValueError("`versions` names a version twice")
        return self

    def targets(self) -> list[dict[str, int]]:
        if self.version is not None:
            return [{"version": self.version, "weight": 100}]
        return [target.model_dump() for target in self.versions or []]


class AliasPublic(BaseModel):
    """An alias of an agent and the version (or split) it names."""

    name: str = Field(description="The alias.")
    agent_id: str = Field(description="The agent it belongs to.")
    version: int | None = Field(
        description="The version it names; null when it splits between several."
    )
    versions: list[AliasTarget] = Field(description="Every version it names, with its weight.")
    updated_by: str = Field(description=CREATED_BY_HELP)
    updated_by_name: str | None = Field(description="Who moved it last, for people to read.")
    updated_at: datetime = Field(description="When it last moved (UTC).")

    @classmethod
    def of(cls, alias: AgentAlias) -> "AliasPublic":
        targets = [AliasTarget.model_validate(target) for target in alias.targets]
        return cls(
            name=alias.name,
            agent_id=alias.agent_id,
            version=targets[0].version if len(targets) == 1 else None,
            versions=targets,
            updated_by=alias.updated_by,
            updated_by_name=alias.updated_by_name,
            updated_at=alias.updated_at,
        )


class AliasMovePublic(BaseModel):
    """One move of an alias, as audited."""

    name: str = Field(description="The alias.")
    from_versions: list[AliasTarget] = Field(description="What it named before; empty if new.")
    to_versions: list[AliasTarget] = Field(description="What it names after; empty if deleted.")
    moved_by: str = Field(description=CREATED_BY_HELP)
    moved_by_name: str | None = Field(description="Who moved it, for people to read.")
    moved_at: datetime = Field(description="When (UTC).")

    @classmethod
    def of(cls, move: AliasMove) -> "AliasMovePublic":
        return cls(
            name=move.name,
            from_versions=[AliasTarget.model_validate(t) for t in move.from_targets],
            to_versions=[AliasTarget.model_validate(t) for t in move.to_targets],
            moved_by=move.moved_by,
            moved_by_name=move.moved_by_name,
            moved_at=move.moved_at,
        )


def alias_name(value: object) -> str:
    """An alias name as runs, threads and schedules may give it; else a ValueError saying why."""
    if not isinstance(value, str) or not re.fullmatch(ALIAS_PATTERN, value):
        raise ValueError(ALIAS_HELP)
    if value in RESERVED_ALIASES:
        raise ValueError(f"`{value}` is reserved")
    return value


def version_reference(value: object) -> Any:
    """A version number, `latest`, or an alias name: the one `version` field of runs, thread
    turns and schedules."""
    if value == "latest":
        return value
    if isinstance(value, str):
        return alias_name(value)
    if type(value) is not int:
        raise ValueError('a version number, "latest" or an alias name')
    if not 1 <= value <= DB_INT_MAX:
        raise ValueError(f"version numbers run from 1 to {DB_INT_MAX}")
    return value
