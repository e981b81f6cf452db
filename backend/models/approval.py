"""Approvals: a tool call waiting for a human decision."""

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, UniqueConstraint
from sqlmodel import Column, Field, String

from backend.ids import new_id
from backend.models.common import JSONType, TenantOwned, UTCDateTime, created_at_field


class ApprovalStatus(StrEnum):
    pending = "pending"
    approved = "approved"
    rejected = "rejected"
    expired = "expired"


class Approval(TenantOwned, table=True):
    __table_args__ = (UniqueConstraint("run_id", "step_seq", name="uq_approval_run_step"),)

    id: str = Field(default_factory=lambda: new_id("apr"), primary_key=True, max_length=40)
    run_id: str = Field(
        sa_column=Column(
            String(40), ForeignKey("run.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
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
