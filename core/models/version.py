"""Agent versions: immutable, numbered per agent, identified by a content hash."""

from datetime import datetime
from typing import Any

from pydantic import ConfigDict
from sqlalchemy import ForeignKey, UniqueConstraint, event
from sqlmodel import Column, Field, String

from core.ids import new_id
from core.models.agent_config import AgentConfig
from core.models.common import JSONType, TenantOwned, created_at_field


class VersionCreate(AgentConfig):
    """The body of a publish: the configuration itself, plus free-text notes."""

    model_config = ConfigDict(extra="forbid")

    notes: str = ""


class AgentVersion(TenantOwned, table=True):
    __tablename__ = "agent_version"
    __table_args__ = (UniqueConstraint("agent_id", "number", name="uq_agent_version_number"),)

    id: str = Field(default_factory=lambda: new_id("ver"), primary_key=True, max_length=40)
    agent_id: str = Field(
        sa_column=Column(
            String(40), ForeignKey("agent.id", ondelete="RESTRICT"), nullable=False, index=True
        )
    )
    number: int
    config: dict[str, Any] = Field(sa_type=JSONType)
    config_hash: str = Field(max_length=64, index=True)
    notes: str = Field(default="")
    created_by: str = Field(max_length=200)
    created_at: datetime = created_at_field()

    def agent_config(self) -> AgentConfig:
        return AgentConfig.model_validate(self.config)


class ImmutableVersionError(RuntimeError):
    """Versions are append-only: a change is a new version."""


@event.listens_for(AgentVersion, "before_update")
def _refuse_update(_mapper: Any, _connection: Any, target: AgentVersion) -> None:
    raise ImmutableVersionError(f"agent version {target.id} is immutable")


class VersionPublic(AgentConfig):
    model_config = ConfigDict(extra="ignore")

    id: str
    agent_id: str
    number: int
    config_hash: str
    notes: str
    created_by: str
    created_at: datetime

    @classmethod
    def of(cls, version: AgentVersion) -> "VersionPublic":
        return cls.model_validate(
            {
                **version.config,
                "id": version.id,
                "agent_id": version.agent_id,
                "number": version.number,
                "config_hash": version.config_hash,
                "notes": version.notes,
                "created_by": version.created_by,
                "created_at": version.created_at,
            }
        )
