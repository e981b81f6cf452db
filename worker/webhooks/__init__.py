"""Webhook deliveries, sent from the outbox the event log fills (`core.webhooks`).

Each worker runs a `WebhookSender` beside its trace exporter. It claims due deliveries under a
lease (so concurrent senders split the work and a dead one's claims come back), POSTs each as
Standard Webhooks describe (`webhook-id`, `webhook-timestamp`, `webhook-signature`), and
records the attempt. A non-2xx answer or no answer is tried again on WEBHOOK_RETRY_SCHEDULE;
after its last entry the delivery is `failed`. Every connection passes the network guard again
at send time, since a name may resolve elsewhere than when the webhook was made.
"""

from worker.webhooks.sender import USER_AGENT, WebhookSender, signature

__all__ = ["USER_AGENT", "WebhookSender", "signature"]
