"""Webhooks: subscriptions of a tenant's events to a URL, and the durable outbox of their
deliveries (written in the transaction of the event they carry)."""

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index
from sqlmodel import Column, Field, String

from core.ids import new_id
from core.models.common import JSONType, TenantOwned, UTCDateTime, created_at_field


class Webhook(TenantOwned, table=True):
    id: str = Field(default_factory=lambda: new_id("whk"), primary_key=True, max_length=40)
    url: str = Field(max_length=2000)
    events: list[str] = Field(default_factory=list, sa_type=JSONType)
    # Only this agent's runs; null for every agent of the tenant.
    agent_id: str | None = Field(
        default=None,
        sa_column=Column(
            String(40), ForeignKey("agent.id", ondelete="CASCADE"), nullable=True, index=True
        ),
    )
    # The signing secret, encrypted (core.secret_box); shown in clear once, when created.
    secret_encrypted: str = Field(max_length=500)
    description: str = Field(default="", max_length=2000)
    enabled: bool = Field(default=True)
    created_by: str = Field(max_length=200)
    created_by_name: str | None = Field(default=None, max_length=200)
    created_at: datetime = created_at_field()
    updated_at: datetime = created_at_field()


class WebhookDelivery(TenantOwned, table=True):
    """One event for one endpoint: its id is the `webhook-id` every attempt sends."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (Index("ix_webhook_delivery_due", "status", "next_attempt_at"),)

    id: str = Field(default_factory=lambda: new_id("msg"), primary_key=True, max_length=40)
    # Null for a run's own `webhook` URL (given when the run was created).
    webhook_id: str | None = Field(
        default=None,
        sa_column=Column(
            String(40), ForeignKey("webhook.id", ondelete="CASCADE"), nullable=True, index=True
        ),
    )
    run_id: str | None = Field(default=None, max_length=40, index=True)
    url: str = Field(max_length=2000)
    event_type: str = Field(max_length=40)
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    # pending -> delivered | failed (gave up); a redelivery makes it pending again.
    status: str = Field(default="pending", max_length=20)
    attempts: int = Field(default=0)
    last_status_code: int | None = Field(default=None)
    last_error: str | None = Field(default=None, max_length=2000)
    next_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = created_at_field()
    delivered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
