"""The webhook sender: claims due deliveries, POSTs each signed (Standard Webhooks), and records
the attempt; a failure is tried again on the retry schedule, then given up as `failed`."""

import asyncio
import base64
import contextlib
import hashlib
import hmac
import importlib.metadata
import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import col, or_, select

from core.db import AllTenants, scoped_session
from core.models import Webhook, WebhookDelivery
from core.models.common import utcnow
from core.models.webhook import DeliveryStatus
from core.netguard import DestinationRefusedError, guarded_client
from core.secret_box import SecretBox, SecretBoxError, secret_box
from core.settings import CommonSettings
from core.webhooks import signing_key

log = logging.getLogger("agent_runtime.worker.webhooks")
NO_SYNC = {"synchronize_session": False}
BATCH_SIZE = 20
MAX_ERROR_CHARS = 300
# Idle connections kept for the next round (receivers seldom share a host).
KEEPALIVE_CONNECTIONS = 10


def _user_agent() -> str:
    try:
        version = importlib.metadata.version("agent-runtime")
    except importlib.metadata.PackageNotFoundError:
        version = "0"
    return f"AgentRuntime-Webhooks/{version}"


USER_AGENT = _user_agent()


@dataclass(frozen=True)
class Claimed:
    """A delivery this sender holds (under a lease) for one attempt."""

    id: str
    url: str
    event_type: str
    payload: dict[str, Any]
    attempts: int
    # The webhook's sealed secret; None for a run's own URL (those go unsigned).
    sealed_secret: str | None
    # The `next_attempt_at` the claim set: the row still holds it only while the claim stands.
    lease_until: datetime


@dataclass(frozen=True)
class Outcome:
    """How one attempt went: the status the endpoint answered, or why none came."""

    status_code: int | None
    error: str | None

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """`v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`, keyed by the secret's bytes."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(signing_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def scrubbed(message: str, url: str) -> str:
    """An error short enough for the log and the delivery list, without the URL (its query may
    hold a token of the receiver's)."""
    text = " ".join(message.replace(url, "<url>").split())
    return text if len(text) <= MAX_ERROR_CHARS else text[: MAX_ERROR_CHARS - 1] + "…"


class WebhookSender:
    """Drains the delivery outbox: claims a batch of due rows, sends them concurrently and
    settles each one. Several senders (one per worker) share the work through the claim."""

    def __init__(
        self,
        engine: Engine,
        secrets: SecretBox | CommonSettings,
        *,
        retry_delays: Sequence[float],
        timeout_seconds: float = 10.0,
        interval_seconds: float = 1.0,
        allow_private_networks: bool = False,
        batch_size: int = BATCH_SIZE,
    ) -> None:
        self.engine = engine
        # Opened on first need: a worker whose tenants have no webhooks never makes a key.
        self._secrets = secrets
        self.retry_delays = tuple(retry_delays)
        self.timeout_seconds = timeout_seconds
        self.interval_seconds = interval_seconds
        self.batch_size = batch_size
        # A claimed delivery is invisible to other senders this long: if this process dies
        # mid-attempt, the delivery comes back by itself.
        self.lease = timedelta(seconds=max(60.0, 3 * timeout_seconds))
        # Redirects are not followed: a 3xx is a failed attempt, as Standard Webhooks says.
        # A connection for each attempt of a batch: the timeout counts the wait for one, so
        # endpoints that hang must not use up the time of the healthy ones beside them.
        limits = httpx.Limits(
            max_connections=batch_size,
            max_keepalive_connections=min(batch_size, KEEPALIVE_CONNECTIONS),
        )
        self.client = guarded_client(allow_private_networks, timeout_seconds, False, limits=limits)

    @classmethod
    def from_settings(cls, engine: Engine, settings: CommonSettings) -> "WebhookSender":
        return cls(
            engine,
            settings,
            retry_delays=settings.webhook_retry_delays,
            timeout_seconds=settings.webhook_timeout_seconds,
            interval_seconds=settings.webhook_poll_seconds,
            allow_private_networks=settings.tool_allow_private_networks,
        )

    async def run_forever(self, stop: asyncio.Event) -> None:
        """Send until `stop` is set; a full batch is followed at once by the next."""
        try:
            while not stop.is_set():
                try:
                    sent = await self.drain_once()
                except Exception:  # a database hiccup must not end deliveries for the process
                    log.exception("webhook delivery round failed; retrying")
                    sent = 0
                if sent >= self.batch_size:
                    continue
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.interval_seconds)
        finally:
            await self.client.aclose()

    async def drain_once(self) -> int:
        """One attempt at each due delivery of a batch; returns how many were attempted."""
        claimed = await asyncio.to_thread(self._claim)
        outcomes = await asyncio.gather(*(self._attempt(item) for item in claimed))
        for item, outcome in zip(claimed, outcomes, strict=True):
            await asyncio.to_thread(self._settle, item, outcome)
        return len(claimed)

    def _claim(self) -> list[Claimed]:
        now = utcnow()
        lease_until = now + self.lease
        with scoped_session(self.engine, AllTenants()) as session:
            due = (
                select(WebhookDelivery.id)
                .outerjoin(Webhook, col(Webhook.id) == col(WebhookDelivery.webhook_id))
                .where(
                    WebhookDelivery.status == DeliveryStatus.pending,
                    col(WebhookDelivery.next_attempt_at) <= now,
                    # A disabled webhook's deliveries wait for it to be enabled again.
                    or_(col(WebhookDelivery.webhook_id).is_(None), col(Webhook.enabled).is_(True)),
                )
                .order_by(col(WebhookDelivery.next_attempt_at), col(WebhookDelivery.id))
                .limit(self.batch_size)
                # Concurrent senders on Postgres split the work; SQLite ignores it.
                .with_for_update(skip_locked=True, of=WebhookDelivery)
            )
            ids = list(session.exec(due))
            if not ids:
                session.commit()
                return []
            # Still due when updated: a sender that got there first has moved them on.
            leased = session.execute(
                update(WebhookDelivery)
                .where(
                    col(WebhookDelivery.id).in_(ids),
                    col(WebhookDelivery.status) == DeliveryStatus.pending,
                    col(WebhookDelivery.next_attempt_at) <= now,
                )
                # No answer yet for the attempt under way: a pending row with a future
                # attempt and no error is one a sender holds (redelivery waits for it).
                .values(next_attempt_at=lease_until, last_status_code=None, last_error=None)
                .returning(col(WebhookDelivery.id)),
                execution_options=NO_SYNC,
            )
            mine = list(leased.scalars())
            rows = session.exec(
                select(WebhookDelivery, Webhook)
                .outerjoin(Webhook, col(Webhook.id) == col(WebhookDelivery.webhook_id))
                .where(col(WebhookDelivery.id).in_(mine))
            ).all()
            session.commit()
        return [
            Claimed(
                id=delivery.id,
                # A subscription's deliveries go where it points now (its URL may have changed).
                url=hook.url if hook is not None else delivery.url,
                event_type=delivery.event_type,
                payload=dict(delivery.payload),
                attempts=delivery.attempts,
                sealed_secret=hook.secret_encrypted if hook is not None else None,
                lease_until=lease_until,
            )
            for delivery, hook in rows
        ]

    def _box(self) -> SecretBox:
        if not isinstance(self._secrets, SecretBox):
            self._secrets = secret_box(self._secrets)
        return self._secrets

    def _headers(self, item: Claimed, body: bytes) -> dict[str, str]:
        timestamp = int(time.time())
        headers = {
            "content-type": "application/json",
            "user-agent": USER_AGENT,
            "webhook-id": item.id,
            "webhook-timestamp": str(timestamp),
        }
        if item.sealed_secret is not None:
            secret = self._box().open(item.sealed_secret)
            headers["webhook-signature"] = signature(secret, item.id, timestamp, body)
        return headers

    async def _attempt(self, item: Claimed) -> Outcome:
        body = json.dumps(item.payload, separators=(",", ":"), ensure_ascii=False).encode()
        try:
            headers = self._headers(item, body)
        except (SecretBoxError, OSError, ValueError) as error:
            return Outcome(None, f"cannot sign: {error}")
        try:
            async with (
                asyncio.timeout(self.timeout_seconds),
                self.client.stream("POST", item.url, content=body, headers=headers) as response,
            ):
                # The answer's body is not read: a receiver cannot make us download anything.
                status = response.status_code
        except TimeoutError:
            return Outcome(None, f"no answer within {self.timeout_seconds:g} s")
        except DestinationRefusedError as error:
            return Outcome(None, scrubbed(str(error), item.url))
        except (httpx.HTTPError, httpx.InvalidURL) as error:
            text = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
            return Outcome(None, scrubbed(text, item.url))
        return Outcome(status, None if 200 <= status < 300 else f"HTTP {status}")

    def _settle(self, item: Claimed, outcome: Outcome) -> None:
        now = utcnow()
        attempts = item.attempts + 1
        values: dict[str, Any] = {
            "attempts": attempts,
            "last_status_code": outcome.status_code,
            "last_error": outcome.error,
            "url": item.url,
        }
        if outcome.delivered:
            values |= {"status": DeliveryStatus.delivered, "delivered_at": now}
            values["next_attempt_at"] = None
            log.info("webhook %s %s delivered", item.event_type, item.id)
        elif attempts <= len(self.retry_delays):
            delay = self.retry_delays[attempts - 1]
            values["next_attempt_at"] = now + timedelta(seconds=delay)
            log.warning(
                "webhook %s %s: attempt %d failed (%s); next in %g s",
                *(item.event_type, item.id, attempts, outcome.error, delay),
            )
        else:
            values |= {"status": DeliveryStatus.failed, "next_attempt_at": None}
            log.warning(
                "webhook %s %s: attempt %d failed (%s); giving up",
                *(item.event_type, item.id, attempts, outcome.error),
            )
        with scoped_session(self.engine, AllTenants()) as session:
            # Only while the claim stands: once the lease ran out and another sender claimed
            # the row, this late result must not overwrite what that attempt records.
            settled = session.execute(
                update(WebhookDelivery)
                .where(
                    col(WebhookDelivery.id) == item.id,
                    col(WebhookDelivery.status) == DeliveryStatus.pending,
                    col(WebhookDelivery.next_attempt_at) == item.lease_until,
                )
                .values(**values)
                .returning(col(WebhookDelivery.id)),
                execution_options=NO_SYNC,
            ).first()
            session.commit()
        if settled is None:
            log.warning(
                "webhook %s %s: attempt %d outlived its lease; its result is not recorded",
                *(item.event_type, item.id, attempts),
            )
