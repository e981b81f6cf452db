"""Agents: a named capability with immutable versions."""

from datetime import datetime

from pydantic import ConfigDict, StrictBool
from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from core.ids import new_id
from core.models.common import TenantOwned, UTCDateTime, created_at_field


class AgentBase(SQLModel):
    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=4000)


class AgentCreate(AgentBase):
    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]


class AgentUpdate(SQLModel):
    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=4000)
    archived: StrictBool | None = None


class Agent(AgentBase, TenantOwned, table=True):
    __table_args__ = (UniqueConstraint("tenant_id", "name", name="uq_agent_tenant_name"),)

    id: str = Field(default_factory=lambda: new_id("agt"), primary_key=True, max_length=40)
    archived: bool = Field(default=False)
    latest_version: int | None = Field(default=None)
    created_by: str = Field(max_length=200)
    created_at: datetime = created_at_field()
    updated_at: datetime = created_at_field()
    archived_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class AgentPublic(AgentBase):
    id: str
    archived: bool
    latest_version: int | None
    created_by: str
    created_at: datetime
    updated_at: datetime
