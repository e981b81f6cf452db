"""Agents: a named capability with immutable versions."""

from datetime import datetime

from pydantic import ConfigDict, StrictBool
from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from core.ids import new_id
from core.models.common import (
    CREATED_BY_HELP,
    CREATED_BY_NAME_HELP,
    CreatedByName,
    TenantOwned,
    UTCDateTime,
    created_at_field,
)


class AgentBase(SQLModel):
    name: str = Field(
        min_length=1, max_length=200, description="The agent's name, unique in its tenant."
    )
    description: str = Field(
        default="", max_length=4000, description="What the agent is for, for people to read."
    )


class AgentCreate(AgentBase):
    """A new agent: a name and what it is for. Its configuration comes with its versions."""

    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]


class AgentUpdate(SQLModel):
    """Changes to an agent; fields left out stay as they are."""

    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    name: str | None = Field(
        default=None, min_length=1, max_length=200, description="A new name, unique in the tenant."
    )
    description: str | None = Field(default=None, max_length=4000, description="A new description.")
    archived: StrictBool | None = Field(
        default=None,
        description="`true` archives the agent (no new versions or runs), `false` restores it.",
    )


class Agent(AgentBase, TenantOwned, table=True):
    __table_args__ = (UniqueConstraint("tenant_id", "name", name="uq_agent_tenant_name"),)

    id: str = Field(default_factory=lambda: new_id("agt"), primary_key=True, max_length=40)
    archived: bool = Field(default=False)
    latest_version: int | None = Field(default=None)
    created_by: str = Field(max_length=200)
    created_by_name: str | None = Field(default=None, max_length=200)
    created_at: datetime = created_at_field()
    updated_at: datetime = created_at_field()
    archived_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class AgentPublic(AgentBase):
    """An agent: a named capability whose configurations are its numbered versions."""

    id: str = Field(description="The agent's id (`agt_...`).")
    archived: bool = Field(description="Archived agents take no new versions and no new runs.")
    latest_version: int | None = Field(
        description="The number of its newest version; null before the first is published."
    )
    created_by: str = Field(description=CREATED_BY_HELP)
    created_by_name: CreatedByName = Field(description=CREATED_BY_NAME_HELP)
    created_at: datetime = Field(description="When it was created (UTC).")
    updated_at: datetime = Field(
        description="When it last changed (UTC): renamed, archived or a version published."
    )
