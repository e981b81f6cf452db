"""Approvals: a tool call waiting for a human decision."""

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import ConfigDict
from sqlalchemy import ForeignKey, UniqueConstraint
from sqlmodel import Column, Field, SQLModel, String

from core.ids import new_id
from core.models.common import JSONType, TenantOwned, UTCDateTime, created_at_field
from core.models.limits import MAX_ARGUMENTS_BYTES, json_size_at_most


class ApprovalStatus(StrEnum):
    pending = "pending"
    approved = "approved"
    rejected = "rejected"
    expired = "expired"
    # The run ended (cancelled, timed out) while the call waited.
    cancelled = "cancelled"


class Approval(TenantOwned, table=True):
    __table_args__ = (UniqueConstraint("run_id", "step_seq", name="uq_approval_run_step"),)

    id: str = Field(default_factory=lambda: new_id("apr"), primary_key=True, max_length=40)
    run_id: str = Field(
        sa_column=Column(
            String(40), ForeignKey("run.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    agent_id: str | None = Field(default=None, max_length=40, index=True)
    # The seq the tool step will have: one approval per tool call.
    step_seq: int
    tool_name: str = Field(max_length=200)
    arguments: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    status: ApprovalStatus = Field(default=ApprovalStatus.pending, sa_type=String(20), index=True)
    requested_at: datetime = created_at_field()
    expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    decided_by: str | None = Field(default=None, max_length=200)
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    comment: str | None = None
    edited_arguments: dict[str, Any] | None = Field(default=None, sa_type=JSONType)


class ApprovalDecide(SQLModel):
    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    decision: Literal["approve", "reject"]
    comment: str | None = Field(
        default=None,
        max_length=10_000,
        description="Why; on a rejection the model reads it as the tool's result.",
    )
    arguments: Annotated[dict[str, Any], json_size_at_most(MAX_ARGUMENTS_BYTES)] | None = Field(
        default=None,
        description="Approve with these arguments instead (validated against the tool's schema).",
    )


class ApprovalPublic(SQLModel):
    id: str
    run_id: str
    agent_id: str | None
    step_seq: int
    tool_name: str
    arguments: dict[str, Any]
    status: ApprovalStatus
    requested_at: datetime
    expires_at: datetime | None
    decided_by: str | None
    decided_at: datetime | None
    comment: str | None
    edited_arguments: dict[str, Any] | None
