"""Webhooks: subscriptions of a tenant's events to a URL, their signing secrets (shown once,
kept encrypted), test pings, and the log of deliveries with redelivery.

A URL is refused if it points at a cloud metadata endpoint, or at a loopback or private address
where TOOL_ALLOW_PRIVATE_NETWORKS does not allow them; the worker checks the address again
when it sends, since a name can resolve elsewhere later.
"""

import ipaddress
import socket
from urllib.parse import urlsplit

from sqlalchemy import update
from sqlmodel import Session, col, select

from backend.errors import ApiError, conflict, invalid, not_found
from backend.pagination import Page, PageParams, paginate
from backend.services.lookup import get_or_404
from core.models import Agent, Webhook, WebhookDelivery
from core.models.common import utcnow
from core.models.webhook import (
    DeliveryPublic,
    DeliveryStatus,
    WebhookCreate,
    WebhookPublic,
    WebhookUpdate,
)
from core.netguard import METADATA_HOSTNAMES, is_allowed, is_metadata
from core.secret_box import SecretBox
from core.webhooks import new_secret, not_in_flight, ping_delivery


def _addresses(host: str, port: int) -> list[str]:
    """What the host is now: itself if an IP address, else what it resolves to (nothing, when
    it does not resolve yet: the check at send time covers it)."""
    try:
        return [str(ipaddress.ip_address(host))]
    except ValueError:
        pass
    try:
        answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError, ValueError):
        return []  # not a name that resolves (now): the check at send time covers it
    return list(dict.fromkeys(str(sockaddr[0]) for *_, sockaddr in answers))


def check_destination(url: str, allow_private_networks: bool, field: str = "url") -> None:
    """A 422 naming `field` if deliveries may not go to `url` (a webhook's, or a run's own)."""

    def refused(message: str) -> ApiError:
        return invalid(field, "body", message)

    parts = urlsplit(url)
    host = (parts.hostname or "").rstrip(".")
    if host in METADATA_HOSTNAMES:
        raise refused(f"{host} is a cloud metadata endpoint: always refused")
    port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
    for address in _addresses(host, port):
        if is_metadata(address):
            raise refused(f"{host} is a cloud metadata endpoint: always refused")
        if not is_allowed(address, allow_private_networks=allow_private_networks):
            raise refused(
                f"{host} is not a public address ({address}); loopback and private networks "
                "need TOOL_ALLOW_PRIVATE_NETWORKS=true"
            )


def _check_agent(session: Session, agent_id: str | None) -> None:
    if agent_id is not None and session.get(Agent, agent_id) is None:
        raise invalid("agent_id", "body", f"no agent {agent_id!r} in this tenant")


def create_webhook(
    session: Session,
    box: SecretBox,
    body: WebhookCreate,
    allow_private_networks: bool,
    created_by: str,
    created_by_name: str | None,
) -> tuple[Webhook, str]:
    """The new webhook and its secret in clear: the only time anyone gets it."""
    check_destination(body.url, allow_private_networks)
    _check_agent(session, body.agent_id)
    secret = new_secret()
    webhook = Webhook(
        url=body.url,
        events=body.events,
        agent_id=body.agent_id,
        description=body.description,
        enabled=body.enabled,
        secret_encrypted=box.seal(secret),
        created_by=created_by,
        created_by_name=created_by_name,
    )
    webhook.updated_at = webhook.created_at
    session.add(webhook)
    session.commit()
    return webhook, secret


def get_webhook(session: Session, webhook_id: str) -> Webhook:
    return get_or_404(session, Webhook, webhook_id, "webhook")


def list_webhooks(session: Session, params: PageParams) -> Page[WebhookPublic]:
    """The tenant's webhooks, newest first."""
    return paginate(
        session,
        select(Webhook),
        col(Webhook.id),
        params,
        WebhookPublic.model_validate,
        lambda webhook: webhook.id,
    )


def update_webhook(
    session: Session, webhook_id: str, body: WebhookUpdate, allow_private_networks: bool
) -> Webhook:
    webhook = get_webhook(session, webhook_id)
    changes = body.model_dump(exclude_unset=True)
    if "url" in changes:
        check_destination(changes["url"], allow_private_networks)
    if "agent_id" in changes:
        _check_agent(session, changes["agent_id"])
    for field, value in changes.items():
        setattr(webhook, field, value)
    webhook.updated_at = utcnow()
    session.add(webhook)
    session.commit()
    return webhook


def delete_webhook(session: Session, webhook_id: str) -> None:
    """The webhook and its delivery log (pending deliveries are not sent)."""
    session.delete(get_webhook(session, webhook_id))
    session.commit()


def rotate_secret(session: Session, box: SecretBox, webhook_id: str) -> str:
    """A new secret signs every attempt from now on, pending deliveries' retries included."""
    webhook = get_webhook(session, webhook_id)
    secret = new_secret()
    webhook.secret_encrypted = box.seal(secret)
    webhook.updated_at = utcnow()
    session.add(webhook)
    session.commit()
    return secret


def send_test(session: Session, webhook_id: str) -> WebhookDelivery:
    """A `webhook.test` ping, due at once."""
    delivery = ping_delivery(get_webhook(session, webhook_id))
    session.add(delivery)
    session.commit()
    return delivery


def list_deliveries(
    session: Session, webhook_id: str, status: DeliveryStatus | None, params: PageParams
) -> Page[DeliveryPublic]:
    """The webhook's deliveries, newest first."""
    webhook = get_webhook(session, webhook_id)
    statement = select(WebhookDelivery).where(WebhookDelivery.webhook_id == webhook.id)
    if status is not None:
        statement = statement.where(WebhookDelivery.status == status)
    return paginate(
        session,
        statement,
        col(WebhookDelivery.id),
        params,
        DeliveryPublic.model_validate,
        lambda delivery: delivery.id,
    )


def get_delivery(session: Session, webhook_id: str, delivery_id: str) -> WebhookDelivery:
    webhook = get_webhook(session, webhook_id)
    delivery = session.get(WebhookDelivery, delivery_id)
    if delivery is None or delivery.webhook_id != webhook.id:
        raise not_found("delivery", delivery_id)
    return delivery


def redeliver(session: Session, webhook_id: str, delivery_id: str) -> WebhookDelivery:
    """Pending again and due now, under the same id (receivers drop what they have seen). It
    gets the retries its schedule has left; past them, this one attempt. A 409 while a sender
    is attempting it: the attempt under way is its next one."""
    delivery = get_delivery(session, webhook_id, delivery_id)
    now = utcnow()
    # Checked and changed in one statement, so a claim cannot come in between.
    again = session.execute(
        update(WebhookDelivery)
        .where(col(WebhookDelivery.id) == delivery.id, not_in_flight(now))
        .values(status=DeliveryStatus.pending, next_attempt_at=now)
        .returning(col(WebhookDelivery.id)),
        execution_options={"synchronize_session": False},
    ).first()
    if again is None:
        session.rollback()
        raise conflict(
            "delivery_in_flight",
            f"delivery {delivery_id} is being sent right now; redeliver it once that attempt "
            "is recorded (its attempts count goes up)",
        )
    session.commit()
    session.refresh(delivery)
    return delivery
