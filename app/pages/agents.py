"""Agents: search, the archived ones, create, rename and archive; a guide on a first visit."""

from typing import Any

import reflex as rx

from app.components import (
    AgentRenameDrafts,
    by_width,
    empty_state,
    error_callout,
    field_error,
    labelled,
    loading,
    page_header,
    refusable,
    rename_agent_dialog,
    save_rename,
    shell,
    table,
)
from app.components.forms import FirstVisitGuide, getting_started
from app.state import Failure, PageState, SessionState
from app.view import WRITER, AgentRow, agent_row, may, who_may
from client import AgentRuntimeClient

# The agent the embedded default seeds in its `default` tenant: it needs no provider API key.
DEMO_AGENT = "demo-calculator"


class AgentsState(FirstVisitGuide, AgentRenameDrafts, PageState, SessionState):
    agents: rx.Field[list[AgentRow]] = rx.field(default_factory=list)
    search: rx.Field[str] = rx.field("")
    show_archived: rx.Field[bool] = rx.field(False)
    create_open: rx.Field[bool] = rx.field(False)
    create_name: rx.Field[str] = rx.field("")
    create_description: rx.Field[str] = rx.field("")
    create_error: rx.Field[str] = rx.field("")
    demo_href: rx.Field[str] = rx.field("")

    @rx.var
    def may_write(self) -> bool:
        return may(self.role, WRITER, self.platform_admin)

    @rx.event
    async def load(self) -> Any:
        self._start_loading()
        yield

        async def read(client: AgentRuntimeClient) -> tuple[list[dict[str, Any]], bool]:
            agents = await self._api(
                client.list_agents, archived=self.show_archived, search=self.search or None
            )
            runs = await self._api(client.list_runs_page, limit=1)
            await self._refresh_pending(client)
            return agents, bool(runs["items"])

        found = await self._load(read)
        if isinstance(found, Failure):
            yield found.redirect
            return
        agents, self.tenant_has_runs = found
        self.agents = [agent_row(agent, self._me()) for agent in agents]
        demo = next((agent for agent in agents if agent["name"] == DEMO_AGENT), None)
        self.demo_href = f"/agents/{demo['id']}?tab=run" if demo else ""
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
        name, description = self.create_name.strip(), self.create_description.strip()
        agent = await self._attempt(
            lambda client: self._api(client.create_agent, name, description)
        )
        if isinstance(agent, Failure):
            self.create_error = agent.message
            return agent.redirect
        self.create_open = False
        return rx.redirect(f"/agents/{agent['id']}?tab=versions")

    @rx.event
    def open_edit(self, agent_id: str, name: str, description: str) -> None:
        self.edit_id, self.edit_name, self.edit_description = agent_id, name, description
        self.edit_open, self.edit_error = True, ""

    @rx.event
    async def save_edit(self) -> Any:
        saved = await save_rename(self)
        return saved.redirect if isinstance(saved, Failure) else AgentsState.load

    @rx.event
    async def set_archived(self, agent_id: str, archived: bool) -> Any:
        done = await self._attempt(
            lambda client: self._api(client.update_agent, agent_id, archived=archived)
        )
        if isinstance(done, Failure):
            self.error = done.message
            return done.redirect
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
            rx.cond(AgentsState.may_write, agent_actions(agent)),
            text_align="right",
        ),
        align="center",
    )


def agent_actions(agent: AgentRow) -> rx.Component:
    """Rename, archive or restore: for whoever's role may change agents."""
    return rx.dropdown_menu.root(
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
    )


def agents_page() -> rx.Component:
    return shell(
        page_header(
            "Agents",
            "Each agent has immutable versions; every run pins one.",
            refusable(
                AgentsState.may_write,
                who_may(WRITER, "create an agent"),
                lambda refused: rx.button(
                    rx.icon("plus", size=16),
                    "New agent",
                    on_click=AgentsState.open_create,
                    disabled=refused,
                    id="new-agent",
                ),
            ),
        ),
        rx.cond(
            AgentsState.loaded & AgentsState.show_guide,
            getting_started(AgentsState.dismiss_guide, AgentsState.docs_url, AgentsState.demo_href),
        ),
        rx.hstack(
            rx.input(
                rx.input.slot(rx.icon("search", size=16)),
                placeholder="Search agents",
                value=AgentsState.search,
                on_change=AgentsState.set_search.debounce(300),  # type: ignore[attr-defined]
                width=by_width("100%", "320px"),
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
            spacing=by_width("3", "5"),
            width="100%",
            wrap="wrap",
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
                            rx.cond(
                                AgentsState.may_write,
                                rx.button(
                                    "Create your first agent", on_click=AgentsState.open_create
                                ),
                            ),
                        ),
                    ),
                ),
            ),
        ),
        create_dialog(),
        rename_agent_dialog(AgentsState),
    )
