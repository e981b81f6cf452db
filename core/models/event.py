"""Run events (the embedded event log, when no Redis is configured) and the trace outbox."""

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, UniqueConstraint
from sqlmodel import Column, Field, String

from core.ids import new_id
from core.models.common import JSONType, TenantOwned, UTCDateTime, created_at_field


class RunEventRow(TenantOwned, table=True):
    """One event of a run's ordered log; `number` is the per-run monotonic event id."""

    __tablename__ = "run_event"
    __table_args__ = (UniqueConstraint("run_id", "number", name="uq_run_event_number"),)

    id: str = Field(default_factory=lambda: new_id("evt"), primary_key=True, max_length=40)
    run_id: str = Field(
        sa_column=Column(
            String(40), ForeignKey("run.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    number: int
    type: str = Field(max_length=40)
    data: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    created_at: datetime = created_at_field()


class TraceOutboxRow(TenantOwned, table=True):
    """An observation waiting to be exported to LangFuse; deleted once the export succeeded."""

    __tablename__ = "trace_outbox"

    id: str = Field(default_factory=lambda: new_id("obx"), primary_key=True, max_length=40)
    run_id: str = Field(max_length=40, index=True)
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    attempts: int = 0
    next_attempt_at: datetime = Field(sa_type=UTCDateTime, index=True)
    last_error: str | None = Field(default=None, max_length=2000)
    created_at: datetime = created_at_field()


class EventStreamLease(TenantOwned, table=True):
    """An open event stream (SSE), counted against the tenant's `max_event_streams`.

    The API process holding the stream renews it every heartbeat and deletes it at the end; a
    lease that is not renewed (its process died) stops counting once it expires.
    """

    __tablename__ = "event_stream_lease"

    id: str = Field(default_factory=lambda: new_id("esl"), primary_key=True, max_length=40)
    run_id: str = Field(max_length=40)
    expires_at: datetime = Field(sa_type=UTCDateTime, index=True)
    created_at: datetime = created_at_field()
