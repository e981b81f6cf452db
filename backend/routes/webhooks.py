"""Webhooks: see the README's section on releases, schedules and webhooks."""

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response, status

from backend.deps import CanRead, CanWrite, SettingsDep, TenantSessionDep
from backend.pagination import Page, PageParams, page_params
from backend.services import webhooks as service
from core.models.webhook import (
    DeliveryPublic,
    DeliveryStatus,
    WebhookCreate,
    WebhookCreated,
    WebhookPublic,
    WebhookSecret,
    WebhookUpdate,
)
from core.secret_box import SecretBox, secret_box
from core.settings import CommonSettings

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])
Paging = Annotated[PageParams, Depends(page_params)]
WebhookId = Annotated[str, Path(description="The webhook's id (`whk_...`).")]
DeliveryId = Annotated[str, Path(description="The delivery's id (`msg_...`).")]


def get_secret_box(settings: SettingsDep) -> SecretBox:
    return secret_box(settings)


SecretBoxDep = Annotated[SecretBox, Depends(get_secret_box)]


def _allow_private(settings: CommonSettings) -> bool:
    return settings.tool_allow_private_networks


@router.post("", status_code=status.HTTP_201_CREATED)
def create_webhook(
    body: WebhookCreate,
    session: TenantSessionDep,
    principal: CanWrite,
    settings: SettingsDep,
    box: SecretBoxDep,
) -> WebhookCreated:
    """Subscribe a URL to the tenant's events (or one agent's). The answer holds the signing
    secret: it is shown only here (and by `rotate-secret`)."""
    webhook, secret = service.create_webhook(
        session,
        box,
        body,
        _allow_private(settings),
        principal.subject,
        principal.display_name or None,
    )
    public = WebhookPublic.model_validate(webhook)
    return WebhookCreated(**public.model_dump(), secret=secret)


@router.get("")
def list_webhooks(
    session: TenantSessionDep, _principal: CanRead, params: Paging
) -> Page[WebhookPublic]:
    """The tenant's webhooks, newest first (never their secrets)."""
    return service.list_webhooks(session, params)


@router.get("/{webhook_id}")
def get_webhook(
    webhook_id: WebhookId, session: TenantSessionDep, _principal: CanRead
) -> WebhookPublic:
    """One webhook: where it points, what it hears, whether it is on."""
    return WebhookPublic.model_validate(service.get_webhook(session, webhook_id))


@router.patch("/{webhook_id}")
def update_webhook(
    webhook_id: WebhookId,
    body: WebhookUpdate,
    session: TenantSessionDep,
    _principal: CanWrite,
    settings: SettingsDep,
) -> WebhookPublic:
    """Change its URL, events, agent, description or whether it is on; a new URL applies to
    pending deliveries too."""
    webhook = service.update_webhook(session, webhook_id, body, _allow_private(settings))
    return WebhookPublic.model_validate(webhook)


@router.delete("/{webhook_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_webhook(
    webhook_id: WebhookId, session: TenantSessionDep, _principal: CanWrite
) -> Response:
    """Remove the webhook and its delivery log; what was pending is not sent."""
    service.delete_webhook(session, webhook_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{webhook_id}/rotate-secret")
def rotate_secret(
    webhook_id: WebhookId, session: TenantSessionDep, _principal: CanWrite, box: SecretBoxDep
) -> WebhookSecret:
    """A new signing secret, shown only here; the old one signs nothing from now on."""
    return WebhookSecret(secret=service.rotate_secret(session, box, webhook_id))


@router.post("/{webhook_id}/test", status_code=status.HTTP_202_ACCEPTED)
def send_test(
    webhook_id: WebhookId, session: TenantSessionDep, _principal: CanWrite
) -> DeliveryPublic:
    """Send a `webhook.test` ping now (signed like every delivery); follow it in the log."""
    return DeliveryPublic.model_validate(service.send_test(session, webhook_id))


@router.get("/{webhook_id}/deliveries")
def list_deliveries(
    webhook_id: WebhookId,
    session: TenantSessionDep,
    _principal: CanRead,
    params: Paging,
    status_filter: Annotated[
        DeliveryStatus | None,
        Query(alias="status", description="Only deliveries in this status."),
    ] = None,
) -> Page[DeliveryPublic]:
    """The webhook's deliveries, newest first: each with its attempts and last answer."""
    return service.list_deliveries(session, webhook_id, status_filter, params)


@router.get("/{webhook_id}/deliveries/{delivery_id}")
def get_delivery(
    webhook_id: WebhookId, delivery_id: DeliveryId, session: TenantSessionDep, _principal: CanRead
) -> DeliveryPublic:
    """One delivery: its body, attempts, last answer and when it is tried next."""
    return DeliveryPublic.model_validate(service.get_delivery(session, webhook_id, delivery_id))


@router.post(
    "/{webhook_id}/deliveries/{delivery_id}/redeliver", status_code=status.HTTP_202_ACCEPTED
)
def redeliver(
    webhook_id: WebhookId, delivery_id: DeliveryId, session: TenantSessionDep, _principal: CanWrite
) -> DeliveryPublic:
    """Send the delivery again now, under the same `webhook-id` (receivers drop repeats); 409
    `delivery_in_flight` while an attempt of it is under way."""
    return DeliveryPublic.model_validate(service.redeliver(session, webhook_id, delivery_id))
