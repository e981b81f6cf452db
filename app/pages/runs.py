"""All runs of the tenant, by agent, status, input text and day, in an order, a page at a time.

The search lives in the address (`/runs?q=…&from=…&to=…&sort=…`), so a link reproduces it.
"""

from typing import Any

import reflex as rx

from app.components import empty_state, error_callout, loading, page_header, run_rows, shell
from app.state import Failure, PageState, SessionState
from app.view import SORTS, RunRow, RunSearch, run_row, run_search
from app.view.run_search import ANY
from client import AgentRuntimeClient

PAGE_SIZE = 25


class RunsState(PageState, SessionState):
    runs: rx.Field[list[RunRow]] = rx.field(default_factory=list)
    agent_filter: rx.Field[str] = rx.field(ANY)
    status_filter: rx.Field[str] = rx.field(ANY)
    search_text: rx.Field[str] = rx.field("")
    date_from: rx.Field[str] = rx.field("")
    date_to: rx.Field[str] = rx.field("")
    sort: rx.Field[str] = rx.field("newest")
    agent_choices: rx.Field[list[list[str]]] = rx.field(default_factory=list)
    page: rx.Field[int] = rx.field(1)
    has_next: rx.Field[bool] = rx.field(False)
    _cursors: rx.Field[list[str | None]] = rx.field(default_factory=lambda: [None])
    _names: rx.Field[dict[str, str]] = rx.field(default_factory=dict)

    @rx.var
    def sort_choices(self) -> list[str]:
        return list(SORTS)

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
        search = run_search(dict(self.router.url.query_parameters))
        self.agent_filter, self.status_filter = search.agent, search.status
        self.search_text, self.date_from, self.date_to = search.text, search.start, search.end
        self.sort = search.sort
        self._cursors, self.page = [None], 1

        async def read(client: AgentRuntimeClient) -> list[dict[str, Any]]:
            agents = await self._api(client.list_agents)
            archived = await self._api(client.list_agents, archived=True)
            await self._refresh_pending(client)
            return [*agents, *archived]

        agents = await self._load(read)
        if isinstance(agents, Failure):
            return agents.redirect
        self._names = {a["id"]: a["name"] for a in agents}
        self.agent_choices = [[ANY, "All agents"]] + [
            [agent_id, name] for agent_id, name in sorted(self._names.items(), key=lambda i: i[1])
        ]
        return RunsState.fetch

    @rx.event
    async def fetch(self) -> Any:
        self._start_loading()
        yield
        parameters = self._search().api_parameters()
        cursor = self._cursors[self.page - 1]
        page = await self._load(
            lambda client: self._api(
                client.list_runs_page, limit=PAGE_SIZE, cursor=cursor, **parameters
            )
        )
        if isinstance(page, Failure):
            yield page.redirect
            return
        self.runs = [run_row(run, self._names) for run in page["items"]]
        self.has_next = bool(page["next_cursor"])
        if self.has_next:
            self._cursors = [*self._cursors[: self.page], page["next_cursor"]]
        self.loaded = True

    def _search(self) -> RunSearch:
        return RunSearch(
            agent=self.agent_filter,
            status=self.status_filter,
            text=self.search_text,
            start=self.date_from,
            end=self.date_to,
            sort=self.sort,
        )

    def _navigate(self) -> Any:
        # Read back as a link is read, so the address holds only what a link can mean.
        return rx.redirect(run_search(self._search().query()).link())

    @rx.event
    def set_search_text(self, value: str) -> None:
        self.search_text = value

    @rx.event
    def set_date_from(self, value: str) -> None:
        self.date_from = value

    @rx.event
    def set_date_to(self, value: str) -> None:
        self.date_to = value

    @rx.event
    def search(self, _form: dict[str, Any]) -> Any:
        return self._navigate()

    @rx.event
    def set_sort(self, value: str) -> Any:
        self.sort = value
        return self._navigate()

    @rx.event
    def clear_search(self) -> Any:
        self.search_text, self.date_from, self.date_to = "", "", ""
        return self._navigate()

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


def search_form() -> rx.Component:
    return rx.form(
        rx.hstack(
            rx.input(
                value=RunsState.search_text,
                on_change=RunsState.set_search_text,
                placeholder="Input contains…",
                max_length=200,
                type="search",
                id="runs-search",
                min_width="200px",
                flex="1",
            ),
            rx.hstack(
                rx.text("From", size="2", color_scheme="gray"),
                rx.input(
                    value=RunsState.date_from,
                    on_change=RunsState.set_date_from,
                    type="date",
                    id="runs-from",
                ),
                rx.text("to", size="2", color_scheme="gray"),
                rx.input(
                    value=RunsState.date_to,
                    on_change=RunsState.set_date_to,
                    type="date",
                    id="runs-to",
                ),
                align="center",
                spacing="2",
                # On a phone the two dates go below one another instead of past the edge.
                wrap="wrap",
            ),
            rx.button(rx.icon("search", size=14), "Search", type="submit", id="runs-search-submit"),
            rx.cond(
                (RunsState.search_text != "")
                | (RunsState.date_from != "")
                | (RunsState.date_to != ""),
                rx.button(
                    "Clear",
                    variant="ghost",
                    type="button",
                    on_click=RunsState.clear_search,
                    id="runs-search-clear",
                ),
            ),
            align="center",
            wrap="wrap",
            width="100%",
        ),
        on_submit=RunsState.search,
        width="100%",
    )


def runs_page() -> rx.Component:
    return shell(
        page_header("Runs", "Every run of this tenant: search the input, pick the days, sort."),
        search_form(),
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
            rx.select(
                RunsState.sort_choices,
                value=RunsState.sort,
                on_change=RunsState.set_sort,
                id="runs-sort",
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
            wrap="wrap",
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
