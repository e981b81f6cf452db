"""The webhooks page's state: the tenant's webhooks, the form that creates one (the events to
hear are the API's, from `/v1/meta`), the secret shown once, and each row's on/off and delete."""

from typing import Any

import reflex as rx

from app import api
from app.state import Failure, PageState, SessionState
from app.view import ALL_EVENTS, WRITER, WebhookRow, agent_pairs, may, webhook_row
from client import AgentRuntimeClient, ApiError

EVERY_AGENT = "Every agent"


class WebhooksState(PageState, SessionState):
    webhooks: rx.Field[list[WebhookRow]] = rx.field(default_factory=list)
    # [agent id, name] pairs, by name.
    agents: rx.Field[list[list[str]]] = rx.field(default_factory=list)
    busy: rx.Field[str] = rx.field("")
    # The form
    form_open: rx.Field[bool] = rx.field(False)
    new_url: rx.Field[str] = rx.field("")
    new_events: rx.Field[list[str]] = rx.field(default_factory=list)
    new_all: rx.Field[bool] = rx.field(True)
    new_agent: rx.Field[str] = rx.field("")
    new_description: rx.Field[str] = rx.field("")
    new_errors: rx.Field[dict[str, str]] = rx.field(default_factory=dict)
    new_error: rx.Field[str] = rx.field("")
    creating: rx.Field[bool] = rx.field(False)
    # The new webhook's signing secret: in this page's memory until "Done" or leaving.
    created_secret: rx.Field[str] = rx.field("")
    created_url: rx.Field[str] = rx.field("")

    @rx.var
    def may_write(self) -> bool:
        return may(self.role, WRITER, self.platform_admin)

    @rx.var
    def agent_choices(self) -> list[str]:
        return [EVERY_AGENT, *[name for _, name in self.agents]]

    @rx.var
    def new_agent_label(self) -> str:
        return next((name for value, name in self.agents if value == self.new_agent), EVERY_AGENT)

    @rx.event
    async def load(self) -> Any:
        self._start_loading()
        self.created_secret, self.created_url = "", ""
        yield

        async def read(
            client: AgentRuntimeClient,
        ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
            agents = await self._api(client.list_agents)
            webhooks = await self._api(client.list_webhooks)
            await self._refresh_pending(client)
            return agents, webhooks

        found = await self._load(read)
        if isinstance(found, Failure):
            yield found.redirect
            return
        agents, webhooks = found
        self.agents = agent_pairs(agents)
        self._show_webhooks(webhooks)
        self.loaded = True

    def _show_webhooks(self, webhooks: list[dict[str, Any]]) -> None:
        names = {value: name for value, name in self.agents}
        self.webhooks = [webhook_row(w, names, self._me()) for w in webhooks]

    # The form
    @rx.event
    def set_form_open(self, value: bool) -> None:
        self.form_open, self.new_errors, self.new_error = value, {}, ""

    @rx.event
    def set_new_url(self, value: str) -> None:
        self.new_url = value

    @rx.event
    def set_new_all(self, value: bool) -> None:
        self.new_all = value

    @rx.event
    def toggle_event(self, name: str, checked: bool) -> None:
        chosen = [event for event in self.new_events if event != name]
        # In the order the API names them.
        wanted = set(chosen) | ({name} if checked else set())
        self.new_events = [event for event in self.webhook_events if event in wanted]

    @rx.event
    def set_new_agent_label(self, label: str) -> None:
        self.new_agent = next((value for value, name in self.agents if name == label), "")

    @rx.event
    def set_new_description(self, value: str) -> None:
        self.new_description = value

    @rx.event
    async def create(self) -> Any:
        self.new_error, self.new_errors = "", {}
        events = [ALL_EVENTS] if self.new_all else list(self.new_events)
        if not self.new_url.strip():
            self.new_errors = {"url": "Where should deliveries go? An http or https URL."}
            return
        if not events:
            self.new_errors = {"events": "Choose at least one event, or every event."}
            return
        url, agent_id = self.new_url.strip(), self.new_agent or None
        description = self.new_description.strip()
        self.creating = True
        yield

        async def created(
            client: AgentRuntimeClient,
        ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
            webhook = await self._api(
                client.create_webhook, url, events, agent_id=agent_id, description=description
            )
            return webhook, await self._api(client.list_webhooks)

        found = await self._attempt(created)
        self.creating = False
        if isinstance(found, Failure):
            refused = found.cause
            if isinstance(refused, ApiError) and refused.status == 422:
                self.new_errors = api.field_errors(refused)
            self.new_error = found.message
            yield found.redirect
            return
        webhook, webhooks = found
        self.created_secret, self.created_url = str(webhook["secret"]), str(webhook["url"])
        self._show_webhooks(webhooks)
        self.form_open, self.new_url, self.new_description = False, "", ""
        yield rx.toast.success("Webhook created.")

    @rx.event
    def forget_secret(self) -> None:
        self.created_secret, self.created_url = "", ""

    # Each row's actions
    @rx.event
    async def set_enabled(self, webhook_id: str, enabled: bool) -> Any:
        self.busy = webhook_id
        yield

        async def changed(client: AgentRuntimeClient) -> list[dict[str, Any]]:
            await self._api(client.update_webhook, webhook_id, enabled=enabled)
            return await self._api(client.list_webhooks)

        webhooks = await self._attempt(changed)
        self.busy = ""
        if isinstance(webhooks, Failure):
            self.error = webhooks.message
            yield webhooks.redirect
            return
        self._show_webhooks(webhooks)
        yield rx.toast.success("Enabled." if enabled else "Disabled: deliveries wait.")

    @rx.event
    async def delete(self, webhook_id: str) -> Any:
        async def deleted(client: AgentRuntimeClient) -> list[dict[str, Any]]:
            await self._api(client.delete_webhook, webhook_id)
            return await self._api(client.list_webhooks)

        webhooks = await self._attempt(deleted)
        if isinstance(webhooks, Failure):
            self.error = webhooks.message
            return webhooks.redirect
        self._show_webhooks(webhooks)
        return rx.toast.success("Webhook deleted.")
