"""Approvals: a tool call waiting for a human decision."""

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import ConfigDict
from sqlalchemy import ForeignKey, UniqueConstraint
from sqlmodel import Column, Field, SQLModel, String

from core.ids import new_id
from core.models.common import (
    DecidedByName,
    JSONType,
    TenantOwned,
    UTCDateTime,
    created_at_field,
)
from core.models.limits import MAX_ARGUMENTS_BYTES, json_size_at_most


class ApprovalStatus(StrEnum):
    """Where an approval stands: `pending` until someone decides or it ends otherwise."""

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
    decided_by_name: str | None = Field(default=None, max_length=200)
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    comment: str | None = None
    edited_arguments: dict[str, Any] | None = Field(default=None, sa_type=JSONType)


class ApprovalDecide(SQLModel):
    """A decision on a waiting tool call; it is final."""

    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    decision: Literal["approve", "reject"] = Field(
        description="`approve` runs the call; `reject` tells the model it was not run."
    )
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
    """A tool call that waits (or waited) for a person's decision before it runs."""

    id: str = Field(description="The approval's id (`apr_...`).")
    run_id: str = Field(description="The run that asks.")
    agent_id: str | None = Field(description="That run's agent.")
    step_seq: int = Field(description="The `seq` the tool step has (or will have) in the run.")
    tool_name: str = Field(description="The tool the model called.")
    arguments: dict[str, Any] = Field(description="The arguments the model proposed.")
    status: ApprovalStatus = Field(description="Where the approval stands.")
    requested_at: datetime = Field(description="When the run asked (UTC).")
    expires_at: datetime | None = Field(
        description="When it expires undecided (UTC): the model is told the call was not run."
    )
    decided_by: str | None = Field(
        description="Who decided, as audit fields record callers (`key:<key name>`, "
        "`oidc:<token subject>`); null until decided, and when it expired or was cancelled."
    )
    decided_by_name: DecidedByName = Field(
        description="Who decided, for people to read: the key's name or the token's name at "
        "the time (before names were recorded: `decided_by` after its colon)."
    )
    decided_at: datetime | None = Field(
        description="When it was decided, expired or cancelled (UTC); null while pending."
    )
    comment: str | None = Field(description="The decider's comment, if any.")
    edited_arguments: dict[str, Any] | None = Field(
        description="The arguments it was approved with instead of the proposed ones, if any."
    )
