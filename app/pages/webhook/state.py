"""The webhook page's state: the webhook, its deliveries (by status, from the address), its
actions, and a watch that reads the deliveries again while some are pending."""

import asyncio
import time
from typing import Any
from urllib.parse import urlencode

import reflex as rx

from app import api
from app.state import Failure, PageState, SessionState, path_part
from app.view import (
    DELIVERY_STATUSES,
    WRITER,
    DeliveryRow,
    WebhookRow,
    delivery_row,
    may,
    pretty,
    webhook_row,
)
from client import AgentRuntimeClient

ANY = "any status"
# How often the page reads the deliveries again while some are pending, and for how long.
WATCH_SECONDS, WATCH_LIMIT_SECONDS = 1.0, 300.0
Details = tuple[dict[str, Any], list[dict[str, Any]], dict[str, str]]


class WebhookState(PageState, SessionState):
    webhook_id: rx.Field[str] = rx.field("")
    webhook: rx.Field[WebhookRow] = rx.field(default_factory=WebhookRow)
    deliveries: rx.Field[list[DeliveryRow]] = rx.field(default_factory=list)
    status_filter: rx.Field[str] = rx.field(ANY)
    busy: rx.Field[str] = rx.field("")
    secret: rx.Field[str] = rx.field("")
    # The delivery whose body is shown, and that body.
    shown_id: rx.Field[str] = rx.field("")
    shown_payload: rx.Field[str] = rx.field("")
    watching: rx.Field[bool] = rx.field(False)
    _generation: rx.Field[int] = rx.field(0)

    @rx.var
    def may_write(self) -> bool:
        return may(self.role, WRITER, self.platform_admin)

    @rx.var
    def status_choices(self) -> list[str]:
        return [ANY, *DELIVERY_STATUSES]

    @rx.var
    def pending(self) -> bool:
        return any(row.status == "pending" for row in self.deliveries)

    @rx.event
    async def load(self) -> Any:
        self.webhook_id = path_part(self.router.url.path, 1)
        status = str(self.router.url.query_parameters.get("status") or "")
        self.status_filter = status if status in DELIVERY_STATUSES else ANY
        self._generation += 1
        self.secret, self.shown_id, self.shown_payload, self.busy = "", "", "", ""
        self._start_loading()
        yield
        webhook_id, wanted = self.webhook_id, self._wanted()

        async def read(client: AgentRuntimeClient) -> Details:
            details = await self._read(client, webhook_id, wanted)
            await self._refresh_pending(client)
            return details

        found = await self._load(read)
        if isinstance(found, Failure):
            yield found.redirect
            return
        self._show_webhook(*found)
        self.loaded = True
        if self.pending:
            yield WebhookState.watch

    def _wanted(self) -> str | None:
        return None if self.status_filter == ANY else self.status_filter

    async def _read(
        self, client: AgentRuntimeClient, webhook_id: str, status: str | None
    ) -> Details:
        webhook = await api.call(client.get_webhook, webhook_id)
        page = await api.call(client.deliveries_page, webhook_id, status=status, limit=50)
        names: dict[str, str] = {}
        if webhook.get("agent_id"):
            agent = await api.call(client.get_agent, webhook["agent_id"])
            names[agent["id"]] = agent["name"]
        return webhook, list(page["items"]), names

    def _show_webhook(
        self, webhook: dict[str, Any], deliveries: list[dict[str, Any]], names: dict[str, str]
    ) -> None:
        self.webhook = webhook_row(webhook, names, self._me())
        self.deliveries = [delivery_row(d) for d in deliveries]

    async def _act(self, action: str, call: Any, done: str) -> Any:
        """`call(client)`, then the webhook and its deliveries as they are now."""
        self.busy = action
        yield
        webhook_id, wanted = self.webhook_id, self._wanted()

        async def acted(client: AgentRuntimeClient) -> tuple[Any, Details]:
            answer = await call(client)
            return answer, await self._read(client, webhook_id, wanted)

        def show(found: tuple[Any, Details]) -> None:
            answer, details = found
            self._show_webhook(*details)
            if action == "rotate":
                self.secret = str(answer["secret"])

        found = await self._attempt(acted)
        self.busy = ""
        yield self._outcome(found, done, show)
        if not isinstance(found, Failure) and self.pending:
            yield WebhookState.watch

    @rx.event
    async def send_test(self) -> Any:
        webhook_id = self.webhook_id

        async def call(client: AgentRuntimeClient) -> Any:
            return await self._api(client.test_webhook, webhook_id)

        async for update in self._act("test", call, "Test ping queued."):
            yield update

    @rx.event
    async def rotate(self) -> Any:
        webhook_id = self.webhook_id

        async def call(client: AgentRuntimeClient) -> Any:
            return await self._api(client.rotate_webhook_secret, webhook_id)

        async for update in self._act("rotate", call, "A new secret signs from now on."):
            yield update

    @rx.event
    async def set_enabled(self, enabled: bool) -> Any:
        webhook_id = self.webhook_id

        async def call(client: AgentRuntimeClient) -> Any:
            return await self._api(client.update_webhook, webhook_id, enabled=enabled)

        done = "Enabled." if enabled else "Disabled: deliveries wait."
        async for update in self._act("enabled", call, done):
            yield update

    @rx.event
    async def redeliver(self, delivery_id: str) -> Any:
        webhook_id = self.webhook_id

        async def call(client: AgentRuntimeClient) -> Any:
            return await self._api(client.redeliver, webhook_id, delivery_id)

        async for update in self._act(delivery_id, call, "Sent again."):
            yield update

    @rx.event
    async def delete(self) -> Any:
        webhook_id = self.webhook_id
        deleted = await self._attempt(lambda client: self._api(client.delete_webhook, webhook_id))
        return self._outcome(deleted, "Webhook deleted.", None, rx.redirect("/webhooks"))

    @rx.event
    def forget_secret(self) -> None:
        self.secret = ""

    @rx.event
    def set_status_filter(self, value: str) -> Any:
        query = f"?{urlencode({'status': value})}" if value in DELIVERY_STATUSES else ""
        return rx.redirect(f"/webhooks/{self.webhook_id}{query}")

    @rx.event
    async def show_payload(self, delivery_id: str) -> Any:
        if self.shown_id == delivery_id:
            self.shown_id, self.shown_payload = "", ""
            return None
        webhook_id = self.webhook_id
        delivery = await self._attempt(
            lambda client: self._api(client.get_delivery, webhook_id, delivery_id)
        )
        if isinstance(delivery, Failure):
            self.error = delivery.message
            return delivery.redirect
        self.shown_id, self.shown_payload = delivery_id, pretty(delivery.get("payload"))
        return None

    @rx.event(background=True)
    async def watch(self) -> None:
        """Read the deliveries again while some are pending (each attempt lands in the log)."""
        async with self:
            if self.watching:
                return
            webhook_id, wanted, generation = self.webhook_id, self._wanted(), self._generation
            session = api.SESSIONS.get(self.session_cookie)
            if session is None:
                return
            self.watching = True
        client, deadline = session.client(), time.monotonic() + WATCH_LIMIT_SECONDS
        try:
            while time.monotonic() < deadline:
                await asyncio.sleep(WATCH_SECONDS)
                try:
                    found = await self._read(client, webhook_id, wanted)
                except Exception as exc:
                    async with self:
                        self.error = api.describe(exc)
                    return
                async with self:
                    if self._generation != generation:
                        return
                    self._show_webhook(*found)
                    if not self.pending:
                        return
        finally:
            async with self:
                self.watching = False
