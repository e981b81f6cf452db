"""Webhook events: which run events they are, the Standard Webhooks body each is sent as, and
the outbox rows staged with the event in the writer's own transaction.

Every run event passes through the event log's `stage`; the few that mean something to a
webhook (a run starting or ending, an approval asked for or decided) become one delivery per
enabled subscription of the run's tenant that wants them, plus one for the run's own `webhook`
URL when the run ends. Committed with the event, so a delivery exists exactly when its event
does: never lost, never doubled. The worker's sender then POSTs them.
"""

import base64
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement
from sqlmodel import Session, col, or_, select

from core.events import RunEvent, iso
from core.models import Approval, Webhook, WebhookDelivery
from core.models.common import utcnow
from core.models.webhook import ALL_EVENTS, TEST_EVENT, DeliveryStatus

SECRET_PREFIX = "whsec_"  # noqa: S105 (the format's prefix, not a secret)
SECRET_BYTES = 24
# A run's ending, by its status; the per-run `webhook` URL hears only these (as LangGraph's).
ENDINGS = {
    "succeeded": "run.completed",
    "failed": "run.failed",
    "timed_out": "run.timed_out",
    "cancelled": "run.cancelled",
}


def new_secret() -> str:
    """A signing secret, as Standard Webhooks spells them: `whsec_` + base64 of random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def signing_key(secret: str) -> bytes:
    """The HMAC key a secret stands for: the bytes its base64 holds."""
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


@dataclass(frozen=True)
class RunFacts:
    """What a delivery says about its run: read by the event counter's update (RETURNING), so
    staging costs no extra round trip."""

    run_id: str
    tenant_id: str
    agent_id: str
    version: int
    alias: str | None
    thread_id: str | None
    schedule_id: str | None
    webhook_url: str | None

    def data(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "agent_id": self.agent_id,
            "version": self.version,
            "alias": self.alias,
            "thread_id": self.thread_id,
            "schedule_id": self.schedule_id,
        }


def webhook_event(event: RunEvent, batch: Sequence[RunEvent]) -> str | None:
    """The webhook event a run event is, if any. A run turns `running` first when its first
    step starts; again after each approval, always beside the `approval.decided` that resumed
    it: that one is no start."""
    if event.type == "run.status":
        if event.data.get("status") != "running":
            return None
        resumed = any(other.type == "approval.decided" for other in batch)
        return None if resumed else "run.started"
    if event.type == "run.completed":
        return ENDINGS.get(str(event.data.get("status")))
    if event.type in ("approval.requested", "approval.decided"):
        return event.type
    return None


def message(event_type: str, at: str, data: dict[str, Any]) -> dict[str, Any]:
    """The body of a delivery (Standard Webhooks): `{"type", "timestamp", "data"}`."""
    return {"type": event_type, "timestamp": at, "data": data}


def _approval_data(session: Session, run: RunFacts, event: RunEvent) -> dict[str, Any]:
    # The event carries what a timeline shows; a receiver also wants the tool's name (one
    # read of a row the writer usually holds already, and only when someone listens).
    approval = session.get(Approval, event.data.get("approval_id"))
    tool_name = approval.tool_name if approval else event.data.get("tool_name")
    arguments = approval.arguments if approval else event.data.get("arguments")
    status = approval.status if approval else event.data.get("status", "pending")
    return {
        **run.data(),
        "approval_id": event.data.get("approval_id"),
        "step_seq": event.data.get("seq"),
        "tool_name": tool_name,
        "arguments": arguments,
        "status": str(status),
        "expires_at": iso(approval.expires_at) if approval and approval.expires_at else None,
        "decided_by": approval.decided_by if approval else None,
        "decided_by_name": approval.decided_by_name if approval else None,
        "comment": approval.comment if approval else None,
        "edited_arguments": approval.edited_arguments if approval else None,
    }


def event_data(session: Session, run: RunFacts, event: RunEvent) -> dict[str, Any]:
    """The `data` of a webhook event: the run's identity, and what the event tells."""
    if event.type == "run.status":
        return {**run.data(), "status": "running"}
    if event.type == "run.completed":
        return {
            **run.data(),
            "status": event.data.get("status"),
            "output": event.data.get("output"),
            "error": event.data.get("error"),
            "usage": event.data.get("usage"),
            "cost_usd": event.data.get("cost_usd"),
        }
    return _approval_data(session, run, event)


def _subscriptions(session: Session, run: RunFacts) -> list[Webhook]:
    # The tenant filter is explicit: some writers (sweeps, expiries) hold an all-tenants scope.
    return list(
        session.exec(
            select(Webhook).where(
                Webhook.tenant_id == run.tenant_id,
                col(Webhook.enabled).is_(True),
                or_(col(Webhook.agent_id).is_(None), Webhook.agent_id == run.agent_id),
            )
        )
    )


def stage_deliveries(session: Session, run: RunFacts, staged: Sequence[RunEvent]) -> None:
    """Add a delivery for each webhook event among `staged` to the caller's transaction."""
    wanted = [(event, name) for event in staged if (name := webhook_event(event, staged))]
    if not wanted:
        return  # the hot path: deltas and steps mean nothing to a webhook
    hooks = _subscriptions(session, run)
    now = utcnow()
    for event, name in wanted:
        targets: list[tuple[str | None, str]] = [
            (hook.id, hook.url)
            for hook in hooks
            if name in hook.events or ALL_EVENTS in hook.events
        ]
        if run.webhook_url and event.type == "run.completed":
            targets.append((None, run.webhook_url))
        if not targets:
            continue
        body = message(name, event.at, event_data(session, run, event))
        for webhook_id, url in targets:
            session.add(
                WebhookDelivery(
                    tenant_id=run.tenant_id,
                    webhook_id=webhook_id,
                    run_id=run.run_id,
                    url=url,
                    event_type=name,
                    payload=body,
                    next_attempt_at=now,
                    created_at=now,
                )
            )


def ping_delivery(webhook: Webhook) -> WebhookDelivery:
    """A ping to check an endpoint and its verification of our signature."""
    now = utcnow()
    data = {"webhook_id": webhook.id, "message": "A test delivery: your endpoint is reachable."}
    return WebhookDelivery(
        tenant_id=webhook.tenant_id,
        webhook_id=webhook.id,
        url=webhook.url,
        event_type=TEST_EVENT,
        payload=message(TEST_EVENT, iso(now), data),
        next_attempt_at=now,
        created_at=now,
    )


def not_in_flight(now: datetime) -> ColumnElement[bool]:
    """For a query over deliveries: no sender holds it. A sender's claim (worker/webhooks)
    leaves a delivery pending with a future attempt and no error until the attempt is
    recorded, which a retry waiting its turn never is (a failed attempt records its error)."""
    return or_(
        col(WebhookDelivery.status) != DeliveryStatus.pending,
        col(WebhookDelivery.next_attempt_at).is_(None),
        col(WebhookDelivery.next_attempt_at) <= now,
        col(WebhookDelivery.last_error).is_not(None),
    )
