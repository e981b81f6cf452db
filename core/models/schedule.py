"""Schedules: runs fired by cron or interval, kept by the durable engine as its own Schedules.

The row is the tenant's record (listing, tenancy, what each fire runs); the engine's Schedule of
the same id decides when fires happen.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey
from sqlmodel import Column, Field, String

from core.ids import new_id
from core.models.common import JSONType, TenantOwned, UTCDateTime, created_at_field


class Schedule(TenantOwned, table=True):
    id: str = Field(default_factory=lambda: new_id("sch"), primary_key=True, max_length=40)
    agent_id: str = Field(
        sa_column=Column(
            String(40), ForeignKey("agent.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    # A version number as text, `latest`, or an alias: resolved at each fire.
    version: str = Field(default="latest", max_length=40)
    input: str = Field(default="")
    context: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    cron: str | None = Field(default=None, max_length=200)
    interval_seconds: int | None = Field(default=None)
    timezone: str = Field(default="UTC", max_length=64)
    overlap: str = Field(default="skip", max_length=20)
    catchup_window_seconds: int = Field(default=60)
    paused: bool = Field(default=False)
    start_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    end_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    note: str = Field(default="", max_length=2000)
    created_by: str = Field(max_length=200)
    created_by_name: str | None = Field(default=None, max_length=200)
    created_at: datetime = created_at_field()
    updated_at: datetime = created_at_field()
