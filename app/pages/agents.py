"""Agents: search, the archived ones, create, rename and archive."""

from typing import Any

import reflex as rx

from app.components import (
    empty_state,
    error_callout,
    field_error,
    labelled,
    loading,
    page_header,
    rename_agent_dialog,
    shell,
    table,
)
from app.state import SessionState
from app.view import AgentRow, agent_row


class AgentsState(SessionState):
    agents: rx.Field[list[AgentRow]] = rx.field(default_factory=list)
    search: rx.Field[str] = rx.field("")
    show_archived: rx.Field[bool] = rx.field(False)
    loaded: rx.Field[bool] = rx.field(False)
    error: rx.Field[str] = rx.field("")
    create_open: rx.Field[bool] = rx.field(False)
    create_name: rx.Field[str] = rx.field("")
    create_description: rx.Field[str] = rx.field("")
    create_error: rx.Field[str] = rx.field("")
    edit_open: rx.Field[bool] = rx.field(False)
    edit_id: rx.Field[str] = rx.field("")
    edit_name: rx.Field[str] = rx.field("")
    edit_description: rx.Field[str] = rx.field("")
    edit_error: rx.Field[str] = rx.field("")

    @rx.event
    async def load(self) -> Any:
        self.loaded, self.failed = False, False
        self.error = ""
        yield
        try:
            client = await self._client()
            agents = await self._api(
                client.list_agents, archived=self.show_archived, search=self.search or None
            )
            self.agents = [agent_row(agent, self._me()) for agent in agents]
            await self._refresh_pending(client)
        except Exception as exc:
            self.failed = True
            self.error, redirect = self._trouble(exc)
            if redirect is not None:
                yield redirect
        self.loaded = True

    @rx.event
    def set_search(self, value: str) -> Any:
        self.search = value
        return AgentsState.load

    @rx.event
    def set_view(self, value: str | list[str]) -> Any:
        self.show_archived = value == "archived"
        return AgentsState.load

    @rx.event
    def open_create(self) -> None:
        self.create_open, self.create_name, self.create_description = True, "", ""
        self.create_error = ""

    @rx.event
    def set_create_open(self, value: bool) -> None:
        self.create_open = value

    @rx.event
    def set_create_name(self, value: str) -> None:
        self.create_name = value

    @rx.event
    def set_create_description(self, value: str) -> None:
        self.create_description = value

    @rx.event
    async def create(self) -> Any:
        if not self.create_name.strip():
            self.create_error = "Give the agent a name."
            return None
        try:
            client = await self._client()
            agent = await self._api(
                client.create_agent, self.create_name.strip(), self.create_description.strip()
            )
        except Exception as exc:
            self.create_error, redirect = self._trouble(exc)
            return redirect
        self.create_open = False
        return rx.redirect(f"/agents/{agent['id']}?tab=versions")

    @rx.event
    def open_edit(self, agent_id: str, name: str, description: str) -> None:
        self.edit_id, self.edit_name, self.edit_description = agent_id, name, description
        self.edit_open, self.edit_error = True, ""

    @rx.event
    def set_edit_open(self, value: bool) -> None:
        self.edit_open = value

    @rx.event
    def set_edit_name(self, value: str) -> None:
        self.edit_name = value

    @rx.event
    def set_edit_description(self, value: str) -> None:
        self.edit_description = value

    @rx.event
    async def save_edit(self) -> Any:
        try:
            client = await self._client()
            await self._api(
                client.update_agent,
                self.edit_id,
                name=self.edit_name.strip(),
                description=self.edit_description.strip(),
            )
        except Exception as exc:
            self.edit_error, redirect = self._trouble(exc)
            return redirect
        self.edit_open = False
        return AgentsState.load

    @rx.event
    async def set_archived(self, agent_id: str, archived: bool) -> Any:
        try:
            client = await self._client()
            await self._api(client.update_agent, agent_id, archived=archived)
        except Exception as exc:
            self.error, redirect = self._trouble(exc)
            return redirect
        verb = "Archived" if archived else "Restored"
        return [AgentsState.load, rx.toast.success(f"{verb} the agent.")]


def create_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("New agent"),
            rx.dialog.description(
                "An agent is a name for a capability; its behaviour lives in versions.",
                size="2",
                color_scheme="gray",
            ),
            rx.vstack(
                labelled(
                    "Name",
                    rx.input(
                        value=AgentsState.create_name,
                        on_change=AgentsState.set_create_name,
                        placeholder="support-bot",
                        width="100%",
                        id="create-agent-name",
                    ),
                ),
                labelled(
                    "Description",
                    rx.text_area(
                        value=AgentsState.create_description,
                        on_change=AgentsState.set_create_description,
                        placeholder="What it does, for whom.",
                        width="100%",
                        id="create-agent-description",
                    ),
                ),
                field_error(AgentsState.create_error, id="create-agent-error"),
                rx.hstack(
                    rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray")),
                    rx.button(
                        "Create agent", on_click=AgentsState.create, id="create-agent-submit"
                    ),
                    justify="end",
                    width="100%",
                ),
                spacing="3",
                margin_top="12px",
            ),
            max_width="480px",
        ),
        open=AgentsState.create_open,
        on_open_change=AgentsState.set_create_open,
    )


def agent_row_view(agent: AgentRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.vstack(
                rx.hstack(
                    rx.link(
                        agent.name,
                        href=f"/agents/{agent.id}",
                        weight="bold",
                        class_name="agent-link",
                    ),
                    rx.cond(agent.archived, rx.badge("archived", color_scheme="gray")),
                    align="center",
                ),
                rx.text(agent.description, size="1", color_scheme="gray", trim="both"),
                spacing="1",
            )
        ),
        rx.table.cell(rx.badge(agent.latest_version, variant="outline")),
        rx.table.cell(rx.text(agent.updated, size="2", color_scheme="gray")),
        rx.table.cell(rx.text(agent.created_by, size="1", color_scheme="gray")),
        rx.table.cell(
            rx.dropdown_menu.root(
                rx.dropdown_menu.trigger(
                    rx.icon_button(
                        rx.icon("ellipsis", size=16),
                        variant="ghost",
                        color_scheme="gray",
                        class_name="agent-actions",
                    )
                ),
                rx.dropdown_menu.content(
                    rx.dropdown_menu.item(
                        "Rename…",
                        on_click=AgentsState.open_edit(agent.id, agent.name, agent.description),
                    ),
                    rx.cond(
                        agent.archived,
                        rx.dropdown_menu.item(
                            "Restore", on_click=AgentsState.set_archived(agent.id, False)
                        ),
                        rx.dropdown_menu.item(
                            "Archive",
                            color="red",
                            on_click=AgentsState.set_archived(agent.id, True),
                        ),
                    ),
                ),
            ),
            text_align="right",
        ),
        align="center",
    )


def agents_page() -> rx.Component:
    return shell(
        page_header(
            "Agents",
            "Each agent has immutable versions; every run pins one.",
            rx.button(
                rx.icon("plus", size=16),
                "New agent",
                on_click=AgentsState.open_create,
                id="new-agent",
            ),
        ),
        rx.hstack(
            rx.input(
                rx.input.slot(rx.icon("search", size=16)),
                placeholder="Search agents",
                value=AgentsState.search,
                on_change=AgentsState.set_search.debounce(300),  # type: ignore[attr-defined]
                width="320px",
                id="agent-search",
            ),
            rx.segmented_control.root(
                rx.segmented_control.item("Active", value="active"),
                rx.segmented_control.item("Archived", value="archived"),
                value=rx.cond(AgentsState.show_archived, "archived", "active"),
                on_change=AgentsState.set_view,
                id="agent-filter",
            ),
            align="center",
            spacing="5",
            width="100%",
        ),
        error_callout(AgentsState.error),
        rx.cond(
            ~AgentsState.loaded,
            loading("Loading agents…"),
            rx.cond(
                AgentsState.failed,
                rx.fragment(),
                rx.cond(
                    AgentsState.agents.length() > 0,
                    table(
                        ["Agent", "Latest", "Updated (UTC)", "Created by", ""],
                        rx.table.body(rx.foreach(AgentsState.agents, agent_row_view)),
                        id="agents-table",
                    ),
                    rx.cond(
                        (AgentsState.search != "") | AgentsState.show_archived,
                        empty_state(
                            "search-x",
                            "No agents match",
                            "Try another search, or turn the archived filter off.",
                        ),
                        empty_state(
                            "bot",
                            "No agents yet",
                            "Create an agent, publish a version with its model, prompt and tools, "
                            "then run it.",
                            rx.button("Create your first agent", on_click=AgentsState.open_create),
                        ),
                    ),
                ),
            ),
        ),
        create_dialog(),
        rename_agent_dialog(AgentsState),
    )
