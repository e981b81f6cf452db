"""The webhooks page (`/webhooks`): its state, and the page with the list and the form that
creates one (its signing secret shown once)."""

from app.pages.webhooks.page import webhooks_page
from app.pages.webhooks.state import WebhooksState

__all__ = ["WebhooksState", "webhooks_page"]
