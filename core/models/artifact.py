"""Artifacts: named files an agent saved during a run, kept in the object store."""

from datetime import datetime

from sqlalchemy import ForeignKey, UniqueConstraint
from sqlmodel import Column, Field, SQLModel, String

from core.ids import new_id
from core.models.common import TenantOwned, created_at_field

ARTIFACT_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$"


class Artifact(TenantOwned, table=True):
    __table_args__ = (UniqueConstraint("run_id", "name", name="uq_artifact_run_name"),)

    id: str = Field(default_factory=lambda: new_id("art"), primary_key=True, max_length=40)
    run_id: str = Field(
        sa_column=Column(
            String(40), ForeignKey("run.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    name: str = Field(max_length=200)
    # The step that wrote it last (a later write of the same name replaces it).
    step_seq: int
    size: int
    content_type: str = Field(max_length=200)
    sha256: str = Field(max_length=64)
    object_key: str = Field(max_length=500)
    created_at: datetime = created_at_field()


class ArtifactPublic(SQLModel):
    """A file an agent saved during a run (the `artifact_write` tool)."""

    name: str = Field(description="The file's name, unique in the run.")
    run_id: str = Field(description="The run that saved it.")
    step_seq: int = Field(description="The step that wrote it last.")
    size: int = Field(description="Its size in bytes.")
    content_type: str = Field(description="Its media type, as the agent saved it.")
    sha256: str = Field(description="The SHA-256 of its content, hex (also its `ETag`).")
    created_at: datetime = Field(description="When it was written last (UTC).")
    download_url: str = Field(description="Where to download it (this API, same credentials).")

    @classmethod
    def of(cls, artifact: Artifact) -> "ArtifactPublic":
        return cls.model_validate(
            artifact,
            update={"download_url": f"/v1/runs/{artifact.run_id}/artifacts/{artifact.name}"},
        )
