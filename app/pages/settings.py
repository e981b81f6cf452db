"""Settings: who is signed in, and (admins) the tenant's API keys: create once-shown, revoke."""

from typing import Any

import reflex as rx

from app import api
from app.components import (
    by_width,
    card,
    confirm_dialog,
    empty_state,
    error_callout,
    field_error,
    labelled,
    loading,
    page_header,
    section_title,
    shell,
    table,
)
from app.state import Failure, PageState, SessionState, SignInNeededError
from app.view import person, when
from client import AgentRuntimeClient, ApiError

ROLES = ["admin", "developer", "viewer"]


class SettingsState(PageState, SessionState):
    keys: rx.Field[list[dict[str, Any]]] = rx.field(default_factory=list)
    tenant_id: rx.Field[str] = rx.field("")
    api_url: rx.Field[str] = rx.field("")
    can_manage: rx.Field[bool] = rx.field(True)
    new_name: rx.Field[str] = rx.field("")
    new_role: rx.Field[str] = rx.field("developer")
    new_error: rx.Field[str] = rx.field("")
    created_key: rx.Field[str] = rx.field("")
    created_name: rx.Field[str] = rx.field("")

    @rx.event
    async def load(self) -> Any:
        self._start_loading()
        self.created_key = ""
        self.api_url = api.api_url()
        yield
        redirect = await self._fetch_keys()
        if redirect is not None:
            yield redirect

    async def _read_keys(
        self, client: AgentRuntimeClient
    ) -> tuple[api.Session, list[dict[str, Any]] | None]:
        """The signed-in session, and its tenant's keys (None: only its admins see them)."""
        session = api.SESSIONS.get(self.session_cookie)
        if session is None:
            raise SignInNeededError
        await self._refresh_pending(client)
        try:
            tenants = await self._api(client.list_tenants)
            acting = session.acting_tenant or session.tenant_name
            tenant = next((t for t in tenants if acting in (t["id"], t["name"])), None)
            self.tenant_id = tenant["id"] if tenant else session.tenant_id
            keys = await self._api(client.list_api_keys, self.tenant_id)
        except ApiError as exc:
            if exc.status != 403:
                raise
            return session, None
        return session, keys

    async def _fetch_keys(self) -> Any:
        found = await self._load(self._read_keys)
        if isinstance(found, Failure):
            return found.redirect
        session, keys = found
        self.loaded = True
        if keys is None:
            self.can_manage = False
            return None
        self.can_manage = True
        self.keys = [
            {
                "id": k["id"],
                "name": k["name"],
                "role": k["role"],
                "prefix": k["prefix"],
                "created": when(k["created_at"]),
                "created_by": person(k["created_by"], session.me, k.get("created_by_name")),
                "mine": session.token.startswith(f"{k['prefix']}_"),
                "revoked": when(k["revoked_at"]) if k.get("revoked_at") else "",
                "platform_admin": bool(k.get("platform_admin")),
            }
            for k in keys
        ]
        self.loaded = True
        return None

    @rx.event
    def set_new_name(self, value: str) -> None:
        self.new_name = value

    @rx.event
    def set_new_role(self, value: str) -> None:
        self.new_role = value

    @rx.event
    async def create_key(self) -> Any:
        if not self.new_name.strip():
            self.new_error = "Name the key (who or what uses it)."
            return None
        tenant_id, name, role = self.tenant_id, self.new_name.strip(), self.new_role
        created = await self._attempt(
            lambda client: self._api(client.create_api_key, tenant_id, name, role)
        )
        if isinstance(created, Failure):
            self.new_error = created.message
            return created.redirect
        self.created_key, self.created_name = str(created["key"]), str(created["name"])
        self.new_name, self.new_error = "", ""
        return SettingsState.reload_keys

    @rx.event
    async def reload_keys(self) -> Any:
        return await self._fetch_keys()

    @rx.event
    def dismiss_key(self) -> None:
        self.created_key, self.created_name = "", ""

    @rx.event
    async def revoke(self, key_id: str) -> Any:
        tenant_id = self.tenant_id
        revoked = await self._attempt(
            lambda client: self._api(client.revoke_api_key, tenant_id, key_id)
        )
        if isinstance(revoked, Failure):
            self.error = revoked.message
            return revoked.redirect
        return [rx.toast.success("Key revoked."), SettingsState.reload_keys]


def key_row(key: Any) -> rx.Component:
    revoked = key["revoked"] != ""
    return rx.table.row(
        rx.table.cell(
            rx.hstack(
                rx.text(key["name"], weight="bold"),
                rx.cond(key["platform_admin"], rx.badge("platform admin", color_scheme="purple")),
                align="center",
            )
        ),
        rx.table.cell(rx.badge(key["role"], variant="outline")),
        rx.table.cell(rx.code(key["prefix"], size="1")),
        rx.table.cell(rx.text(key["created"], size="2", color_scheme="gray")),
        rx.table.cell(rx.text(key["created_by"], size="1", color_scheme="gray")),
        rx.table.cell(
            rx.cond(
                revoked,
                rx.badge("revoked ", key["revoked"], color_scheme="red", variant="soft"),
                rx.cond(
                    key["mine"],
                    rx.badge("signed in with it", color_scheme="gray", variant="soft"),
                    confirm_dialog(
                        rx.button("Revoke", size="1", color_scheme="red", variant="soft"),
                        "Revoke this key?",
                        "Whatever uses it stops working at once. This cannot be undone.",
                        SettingsState.revoke(key["id"]),
                        confirm_label="Revoke",
                    ),
                ),
            ),
            text_align="right",
        ),
        align="center",
        opacity=rx.cond(revoked, "0.6", "1"),
    )


def settings_page() -> rx.Component:
    return shell(
        page_header("Settings", "Your identity, and the API keys of this tenant."),
        error_callout(SettingsState.error),
        card(
            section_title("Signed in"),
            rx.data_list.root(
                rx.data_list.item(
                    rx.data_list.label("Who"), rx.data_list.value(SettingsState.user)
                ),
                rx.data_list.item(
                    rx.data_list.label("Tenant"), rx.data_list.value(SettingsState.tenant_name)
                ),
                rx.data_list.item(
                    rx.data_list.label("Role"),
                    rx.data_list.value(
                        rx.hstack(
                            rx.badge(rx.cond(SettingsState.role != "", SettingsState.role, "—")),
                            rx.cond(
                                SettingsState.platform_admin,
                                rx.badge("platform admin", color_scheme="purple"),
                            ),
                        )
                    ),
                ),
                rx.data_list.item(
                    rx.data_list.label("How"),
                    rx.data_list.value(
                        rx.match(
                            SettingsState.auth_method,
                            ("local", "the local admin key of this machine (embedded default)"),
                            ("api_key", "an API key"),
                            ("oidc", "your identity provider (OIDC)"),
                            "—",
                        )
                    ),
                ),
                rx.data_list.item(
                    rx.data_list.label("API"), rx.data_list.value(rx.code(SettingsState.api_url))
                ),
                margin_top="8px",
            ),
        ),
        rx.cond(
            ~SettingsState.loaded,
            loading(),
            rx.cond(
                SettingsState.failed,
                rx.fragment(),
                rx.cond(
                    SettingsState.can_manage,
                    rx.vstack(
                        section_title("API keys"),
                        rx.cond(
                            SettingsState.created_key != "",
                            rx.callout(
                                rx.vstack(
                                    rx.text(
                                        "The key “",
                                        SettingsState.created_name,
                                        "”. Copy it now: it is shown only once.",
                                        weight="bold",
                                    ),
                                    rx.hstack(
                                        rx.code(
                                            SettingsState.created_key, id="created-key", size="2"
                                        ),
                                        rx.icon_button(
                                            rx.icon("copy", size=14),
                                            size="1",
                                            variant="soft",
                                            on_click=rx.set_clipboard(SettingsState.created_key),
                                            title="Copy",
                                        ),
                                        rx.button(
                                            "Done",
                                            size="1",
                                            variant="soft",
                                            on_click=SettingsState.dismiss_key,
                                        ),
                                        align="center",
                                        wrap="wrap",
                                    ),
                                    spacing="2",
                                ),
                                color_scheme="green",
                                icon="key-round",
                                width="100%",
                            ),
                        ),
                        card(
                            rx.flex(
                                labelled(
                                    "New key name",
                                    rx.input(
                                        value=SettingsState.new_name,
                                        on_change=SettingsState.set_new_name,
                                        placeholder="ci, notebook, alice…",
                                        width="100%",
                                        id="new-key-name",
                                    ),
                                ),
                                labelled(
                                    "Role",
                                    rx.select(
                                        ROLES,
                                        value=SettingsState.new_role,
                                        on_change=SettingsState.set_new_role,
                                        id="new-key-role",
                                    ),
                                    width=by_width("100%", "160px"),
                                    flex_shrink="0",
                                ),
                                rx.button(
                                    rx.icon("plus", size=14),
                                    "Create key",
                                    on_click=SettingsState.create_key,
                                    id="create-key",
                                ),
                                direction=by_width("column", "row"),
                                align=by_width("stretch", "end"),
                                spacing="3",
                                width="100%",
                            ),
                            field_error(SettingsState.new_error),
                        ),
                        rx.cond(
                            SettingsState.keys.length() > 0,
                            table(
                                ["Name", "Role", "Prefix", "Created (UTC)", "By", ""],
                                rx.table.body(rx.foreach(SettingsState.keys, key_row)),
                                id="keys-table",
                            ),
                            empty_state("key-round", "No API keys", "Create one above."),
                        ),
                        spacing="3",
                        width="100%",
                    ),
                    rx.callout(
                        "Only admins of this tenant manage its API keys.",
                        icon="lock",
                        color_scheme="gray",
                        width="100%",
                    ),
                ),
            ),
        ),
    )
