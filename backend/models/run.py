"""Runs and their durable steps, and the run status machine."""

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, UniqueConstraint
from sqlmodel import Column, Field, String

from backend.ids import new_id
from backend.models.common import JSONType, TenantOwned, UTCDateTime, created_at_field


class RunStatus(StrEnum):
    queued = "queued"
    running = "running"
    awaiting_approval = "awaiting_approval"
    cancelling = "cancelling"
    succeeded = "succeeded"
    failed = "failed"
    cancelled = "cancelled"
    timed_out = "timed_out"

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL_STATUSES


TERMINAL_STATUSES = frozenset(
    {RunStatus.succeeded, RunStatus.failed, RunStatus.cancelled, RunStatus.timed_out}
)

_ENDINGS = {RunStatus.succeeded, RunStatus.failed, RunStatus.cancelled, RunStatus.timed_out}
ALLOWED_TRANSITIONS: dict[RunStatus, frozenset[RunStatus]] = {
    RunStatus.queued: frozenset({RunStatus.running, RunStatus.cancelling} | _ENDINGS),
    RunStatus.running: frozenset({RunStatus.awaiting_approval, RunStatus.cancelling} | _ENDINGS),
    RunStatus.awaiting_approval: frozenset({RunStatus.running, RunStatus.cancelling} | _ENDINGS),
    RunStatus.cancelling: frozenset(_ENDINGS),
    **{status: frozenset() for status in _ENDINGS},
}


class InvalidTransitionError(ValueError):
    pass


def check_transition(current: RunStatus, new: RunStatus) -> None:
    """The one place run status changes are validated."""
    if new != current and new not in ALLOWED_TRANSITIONS[current]:
        raise InvalidTransitionError(f"a run cannot go from {current} to {new}")


class StepKind(StrEnum):
    model = "model"
    tool = "tool"
    approval = "approval"


class StepStatus(StrEnum):
    running = "running"
    succeeded = "succeeded"
    failed = "failed"


class Run(TenantOwned, table=True):
    __table_args__ = (
        UniqueConstraint("tenant_id", "idempotency_key", name="uq_run_idempotency_key"),
    )

    id: str = Field(default_factory=lambda: new_id("run"), primary_key=True, max_length=40)
    agent_id: str = Field(
        sa_column=Column(
            String(40), ForeignKey("agent.id", ondelete="RESTRICT"), nullable=False, index=True
        )
    )
    version_id: str = Field(
        sa_column=Column(
            String(40), ForeignKey("agent_version.id", ondelete="RESTRICT"), nullable=False
        )
    )
    version_number: int
    status: RunStatus = Field(default=RunStatus.queued, sa_type=String(20), index=True)
    input: Any = Field(default=None, sa_type=JSONType, nullable=True)
    context: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    output: Any = Field(default=None, sa_type=JSONType, nullable=True)
    error: dict[str, Any] | None = Field(default=None, sa_type=JSONType)
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    idempotency_key: str | None = Field(default=None, max_length=255)
    request_hash: str | None = Field(default=None, max_length=64)
    trace_url: str | None = Field(default=None, max_length=2000)
    created_by: str = Field(max_length=200)
    created_at: datetime = created_at_field()
    started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class RunStep(TenantOwned, table=True):
    __tablename__ = "run_step"
    __table_args__ = (UniqueConstraint("run_id", "seq", name="uq_run_step_seq"),)

    id: str = Field(default_factory=lambda: new_id("stp"), primary_key=True, max_length=40)
    run_id: str = Field(
        sa_column=Column(
            String(40), ForeignKey("run.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    seq: int
    kind: StepKind = Field(sa_type=String(20))
    name: str = Field(max_length=200)
    status: StepStatus = Field(default=StepStatus.running, sa_type=String(20))
    input: Any = Field(default=None, sa_type=JSONType, nullable=True)
    output: Any = Field(default=None, sa_type=JSONType, nullable=True)
    # Object-store keys for payloads too large to keep inline.
    input_ref: str | None = Field(default=None, max_length=500)
    output_ref: str | None = Field(default=None, max_length=500)
    attempt: int = 1
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    error: dict[str, Any] | None = Field(default=None, sa_type=JSONType)
    started_at: datetime = created_at_field()
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
