"""Agent versions: immutable, numbered per agent, identified by a content hash."""

from datetime import datetime
from typing import Any

from pydantic import ConfigDict
from pydantic import Field as PydanticField
from sqlalchemy import ForeignKey, UniqueConstraint, event
from sqlmodel import Column, Field, String

from core.ids import new_id
from core.models.agent_config import AgentConfig
from core.models.common import (
    CREATED_BY_HELP,
    CREATED_BY_NAME_HELP,
    CreatedByName,
    JSONType,
    TenantOwned,
    created_at_field,
)
from core.models.parameters import STORED


class VersionCreate(AgentConfig):
    """The body of a publish: the configuration itself, plus free-text notes."""

    model_config = ConfigDict(extra="forbid")

    notes: str = PydanticField(
        default="", description="Free text about this version; not part of the `config_hash`."
    )


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
    created_by_name: str | None = Field(default=None, max_length=200)
    created_at: datetime = created_at_field()

    def agent_config(self) -> AgentConfig:
        return AgentConfig.model_validate(self.config, context=STORED)


class ImmutableVersionError(RuntimeError):
    """Versions are append-only: a change is a new version."""


@event.listens_for(AgentVersion, "before_update")
def _refuse_update(_mapper: Any, _connection: Any, target: AgentVersion) -> None:
    raise ImmutableVersionError(f"agent version {target.id} is immutable")


class VersionPublic(AgentConfig):
    """A published version: the configuration it pins, and its record."""

    model_config = ConfigDict(extra="ignore")

    id: str = PydanticField(description="The version's id (`ver_...`).")
    agent_id: str = PydanticField(description="The agent it belongs to.")
    number: int = PydanticField(description="Its number within the agent: 1, 2, 3...")
    config_hash: str = PydanticField(
        description="SHA-256 of the configuration (without `notes`): equal configurations, "
        "equal hashes."
    )
    notes: str = PydanticField(description="Free text about this version.")
    created_by: str = PydanticField(description=CREATED_BY_HELP)
    created_by_name: CreatedByName = PydanticField(description=CREATED_BY_NAME_HELP)
    created_at: datetime = PydanticField(description="When it was published (UTC).")

    @classmethod
    def of(cls, version: AgentVersion) -> "VersionPublic":
        record = {
            "id": version.id,
            "agent_id": version.agent_id,
            "number": version.number,
            "config_hash": version.config_hash,
            "notes": version.notes,
            "created_by": version.created_by,
            "created_by_name": version.created_by_name,
            "created_at": version.created_at,
        }
        # Stored: read as written, whatever an earlier release accepted.
        return cls.model_validate({**version.config, **record}, context=STORED)
