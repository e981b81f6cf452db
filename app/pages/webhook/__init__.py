"""A webhook's page (`/webhooks/<id>`): its state, and the page with its deliveries."""

from app.pages.webhook.page import webhook_page
from app.pages.webhook.state import WebhookState

__all__ = ["WebhookState", "webhook_page"]
