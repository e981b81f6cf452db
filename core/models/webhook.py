"""Webhooks: subscriptions of a tenant's events to a URL, and the durable outbox of their
deliveries (written in the transaction of the event they carry)."""

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any
from urllib.parse import urlsplit

from annotated_types import Len
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    StrictBool,
    StringConstraints,
    field_validator,
)
from sqlalchemy import ForeignKey, Index
from sqlmodel import Column, Field, String

from core.ids import new_id
from core.models.common import (
    CREATED_BY_HELP,
    CREATED_BY_NAME_HELP,
    CreatedByName,
    JSONType,
    TenantOwned,
    UTCDateTime,
    created_at_field,
    not_null,
)


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


# The events a webhook may subscribe to ("*": all of them), in the order a run meets them.
WEBHOOK_EVENTS = (
    "run.started",
    "run.completed",
    "run.failed",
    "run.timed_out",
    "run.cancelled",
    "approval.requested",
    "approval.decided",
)
ALL_EVENTS = "*"
# A ping sent by `POST /v1/webhooks/{id}/test`; no subscription names it.
TEST_EVENT = "webhook.test"
URL_SCHEMES = ("http", "https")
MAX_URL_CHARS = 2000
MAX_DESCRIPTION_CHARS = 2000
EVENTS_HELP = (
    "What it is told of: any of `"
    + "`, `".join(WEBHOOK_EVENTS)
    + f"`, or `{ALL_EVENTS}` for all (`GET /v1/meta` lists them as `webhook_events`)."
)
URL_HELP = (
    "Where deliveries are POSTed: an `http` or `https` URL without credentials in it; "
    "loopback and private addresses only where TOOL_ALLOW_PRIVATE_NETWORKS allows them, "
    "cloud metadata endpoints never."
)


class DeliveryStatus(StrEnum):
    """Where a delivery stands: `pending` (due, or waiting for its next attempt), `delivered`
    (the endpoint answered 2xx) or `failed` (every attempt of the retry schedule failed)."""

    pending = "pending"
    delivered = "delivered"
    failed = "failed"


def webhook_url(url: str) -> str:
    """An http(s) URL with a host and without user or password (checked for its address by
    the service, which knows whether private networks are allowed)."""
    if any(character.isspace() for character in url):
        raise ValueError("a URL has no spaces")
    parts = urlsplit(url)
    if parts.scheme.lower() not in URL_SCHEMES:
        raise ValueError("an http or https URL")
    if parts.username is not None or parts.password is not None:
        raise ValueError("credentials do not belong in the URL; the signature authenticates us")
    try:
        host, _port = parts.hostname, parts.port
    except ValueError:
        raise ValueError("the port is not a number from 1 to 65535") from None
    if not host:
        raise ValueError("the URL names no host")
    return url


def subscribed_events(events: list[str]) -> list[str]:
    """Known names only, each once, in the order given."""
    unknown = [name for name in events if name != ALL_EVENTS and name not in WEBHOOK_EVENTS]
    if unknown:
        raise ValueError(
            f"unknown event {unknown[0]!r}: one of {', '.join(WEBHOOK_EVENTS)}, or {ALL_EVENTS}"
        )
    return list(dict.fromkeys(events))


WebhookTarget = Annotated[
    str,
    StringConstraints(min_length=1, max_length=MAX_URL_CHARS),
    AfterValidator(webhook_url),
]
EventNames = Annotated[
    list[Annotated[str, StringConstraints(max_length=40)]],
    Len(min_length=1, max_length=len(WEBHOOK_EVENTS) + 1),
    AfterValidator(subscribed_events),
]


class WebhookCreate(BaseModel):
    """A subscription of the tenant's events to a URL."""

    model_config = ConfigDict(extra="forbid")

    url: WebhookTarget = Field(description=URL_HELP)
    events: EventNames = Field(description=EVENTS_HELP)
    agent_id: str | None = Field(
        default=None, max_length=40, description="Only this agent's runs; null for every agent."
    )
    description: str = Field(
        default="", max_length=MAX_DESCRIPTION_CHARS, description="What it is for, for people."
    )
    enabled: StrictBool = Field(
        default=True, description="Whether events are delivered (deliveries wait while off)."
    )


class WebhookUpdate(BaseModel):
    """What changes on a webhook; fields left out keep their value."""

    model_config = ConfigDict(extra="forbid")

    url: WebhookTarget | None = Field(default=None, description=URL_HELP)
    events: EventNames | None = Field(default=None, description=EVENTS_HELP)
    agent_id: str | None = Field(
        default=None, max_length=40, description="Only this agent's runs; null for every agent."
    )
    description: str | None = Field(
        default=None, max_length=MAX_DESCRIPTION_CHARS, description="What it is for."
    )
    enabled: StrictBool | None = Field(
        default=None, description="Whether events are delivered (deliveries wait while off)."
    )

    @field_validator("url", "events", "description", "enabled")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        return not_null(value)


class WebhookPublic(BaseModel):
    """A subscription of the tenant's events to a URL; deliveries are signed with its secret
    (Standard Webhooks), which is shown only when created or rotated."""

    model_config = ConfigDict(from_attributes=True)

    id: str = Field(description="The webhook's id (`whk_...`).")
    url: str = Field(description="Where deliveries are POSTed.")
    events: list[str] = Field(description=EVENTS_HELP)
    agent_id: str | None = Field(description="Only this agent's runs; null for every agent.")
    description: str = Field(description="What it is for, for people.")
    enabled: bool = Field(description="Whether events are delivered.")
    created_by: str = Field(description=CREATED_BY_HELP)
    created_by_name: CreatedByName = Field(description=CREATED_BY_NAME_HELP)
    created_at: datetime = Field(description="When it was created (UTC).")
    updated_at: datetime = Field(description="When it last changed (UTC).")


SIGNING_HELP = (
    "The signing secret (`whsec_` + base64): shown only now; verify deliveries with it "
    "(any Standard Webhooks library)."
)


class WebhookCreated(WebhookPublic):
    """A webhook just created, with its signing secret: the only time it is shown."""

    secret: str = Field(description=SIGNING_HELP)


class WebhookSecret(BaseModel):
    """A new signing secret: the old one no longer signs anything."""

    secret: str = Field(description=SIGNING_HELP)


class DeliveryPublic(BaseModel):
    """One event for one endpoint, and how its attempts went."""

    model_config = ConfigDict(from_attributes=True)

    id: str = Field(
        description="The delivery's id (`msg_...`): the `webhook-id` header of every attempt, "
        "so a receiver can drop repeats."
    )
    webhook_id: str | None = Field(
        description="The webhook it is for; null for a run's own `webhook` URL."
    )
    run_id: str | None = Field(description="The run it tells of; null for a test ping.")
    event_type: str = Field(description="The event, e.g. `run.completed` or `webhook.test`.")
    status: DeliveryStatus = Field(description="Where the delivery stands.")
    attempts: int = Field(description="Attempts made so far.")
    last_status_code: int | None = Field(
        description="The HTTP status of the last answer; null before one, or when none came."
    )
    last_error: str | None = Field(description="Why the last attempt failed; null otherwise.")
    next_attempt_at: datetime | None = Field(
        description="When it is tried next (UTC); null once delivered or failed."
    )
    created_at: datetime = Field(description="When the event happened (UTC).")
    delivered_at: datetime | None = Field(
        description="When the endpoint accepted it (UTC); null until then."
    )
    payload: dict[str, Any] = Field(
        description='The body POSTed: `{"type", "timestamp", "data"}` (Standard Webhooks).'
    )
