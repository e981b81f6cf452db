"""All runs of the tenant, by agent and status, a page at a time."""

from typing import Any
from urllib.parse import urlencode

import reflex as rx

from app.components import empty_state, error_callout, loading, page_header, shell
from app.pages.agent import run_rows
from app.state import SessionState
from app.view import RunRow, run_row

PAGE_SIZE = 25
ANY = "any"


class RunsState(SessionState):
    runs: rx.Field[list[RunRow]] = rx.field(default_factory=list)
    agent_filter: rx.Field[str] = rx.field(ANY)
    status_filter: rx.Field[str] = rx.field(ANY)
    agent_choices: rx.Field[list[list[str]]] = rx.field(default_factory=list)
    page: rx.Field[int] = rx.field(1)
    has_next: rx.Field[bool] = rx.field(False)
    loaded: rx.Field[bool] = rx.field(False)
    error: rx.Field[str] = rx.field("")
    _cursors: rx.Field[list[str | None]] = rx.field(default_factory=lambda: [None])
    _names: rx.Field[dict[str, str]] = rx.field(default_factory=dict)

    @rx.var
    def status_choices(self) -> list[str]:
        return [ANY, *self.run_statuses]

    @rx.var
    def agent_labels(self) -> list[str]:
        return [label for _, label in self.agent_choices]

    @rx.var
    def agent_label(self) -> str:
        return next(
            (label for value, label in self.agent_choices if value == self.agent_filter),
            "All agents",
        )

    @rx.event
    async def load(self) -> Any:
        query = self.router.url.query_parameters
        self.agent_filter = query.get("agent", ANY) or ANY
        self.status_filter = query.get("status", ANY) or ANY
        self._cursors, self.page = [None], 1
        try:
            client = await self._client()
            agents = await self._api(client.list_agents)
            archived = await self._api(client.list_agents, archived=True)
            await self._refresh_pending(client)
        except Exception as exc:
            self.failed = True
            self.error, redirect = self._trouble(exc)
            self.loaded = True
            return redirect
        self._names = {a["id"]: a["name"] for a in [*agents, *archived]}
        self.agent_choices = [[ANY, "All agents"]] + [
            [agent_id, name] for agent_id, name in sorted(self._names.items(), key=lambda i: i[1])
        ]
        return RunsState.fetch

    @rx.event
    async def fetch(self) -> Any:
        self.loaded, self.error = False, ""
        self.failed = False
        yield
        try:
            client = await self._client()
            page = await self._api(
                client.list_runs_page,
                agent_id=None if self.agent_filter == ANY else self.agent_filter,
                status=None if self.status_filter == ANY else self.status_filter,
                limit=PAGE_SIZE,
                cursor=self._cursors[self.page - 1],
            )
        except Exception as exc:
            self.failed = True
            self.error, redirect = self._trouble(exc)
            self.loaded = True
            if redirect is not None:
                yield redirect
            return
        self.runs = [run_row(run, self._names) for run in page["items"]]
        self.has_next = bool(page["next_cursor"])
        if self.has_next:
            self._cursors = [*self._cursors[: self.page], page["next_cursor"]]
        self.loaded = True

    def _navigate(self) -> Any:
        query = {
            key: value
            for key, value in (("agent", self.agent_filter), ("status", self.status_filter))
            if value != ANY
        }
        return rx.redirect(f"/runs?{urlencode(query)}" if query else "/runs")

    @rx.event
    def set_agent_label(self, label: str) -> Any:
        self.agent_filter = next((v for v, name in self.agent_choices if name == label), ANY)
        return self._navigate()

    @rx.event
    def set_status_filter(self, value: str) -> Any:
        self.status_filter = value
        return self._navigate()

    @rx.event
    def next_page(self) -> Any:
        if self.has_next:
            self.page += 1
            return RunsState.fetch
        return None

    @rx.event
    def previous_page(self) -> Any:
        if self.page > 1:
            self.page -= 1
            return RunsState.fetch
        return None


def runs_page() -> rx.Component:
    return shell(
        page_header("Runs", "Every run of this tenant, newest first."),
        rx.hstack(
            rx.select(
                RunsState.agent_labels,
                value=RunsState.agent_label,
                on_change=RunsState.set_agent_label,
                id="runs-agent-filter",
            ),
            rx.select(
                RunsState.status_choices,
                value=RunsState.status_filter,
                on_change=RunsState.set_status_filter,
                id="runs-status-filter",
            ),
            rx.spacer(),
            rx.hstack(
                rx.button(
                    rx.icon("chevron-left", size=14),
                    "Newer",
                    variant="soft",
                    disabled=RunsState.page <= 1,
                    on_click=RunsState.previous_page,
                    id="runs-newer",
                ),
                rx.text("Page ", RunsState.page, size="2", color_scheme="gray"),
                rx.button(
                    "Older",
                    rx.icon("chevron-right", size=14),
                    variant="soft",
                    disabled=~RunsState.has_next,
                    on_click=RunsState.next_page,
                    id="runs-older",
                ),
                align="center",
            ),
            width="100%",
            align="center",
        ),
        error_callout(RunsState.error),
        rx.cond(
            ~RunsState.loaded,
            loading("Loading runs…"),
            rx.cond(
                RunsState.failed,
                rx.fragment(),
                rx.cond(
                    RunsState.runs.length() > 0,
                    rx.box(
                        run_rows(RunsState.runs, show_agent=True), width="100%", id="runs-table"
                    ),
                    empty_state(
                        "activity",
                        "No runs match",
                        "Runs appear here once started from an agent's page (or the API).",
                    ),
                ),
            ),
        ),
    )
