"""An agent: run it (launcher, recent runs), its versions, and charts of its runs."""

import json
from typing import Any

import reflex as rx

from app.components import (
    card,
    code_text,
    crumbs,
    empty_state,
    error_callout,
    field_error,
    labelled,
    loading,
    page_header,
    rename_agent_dialog,
    section_title,
    shell,
    status_badge,
    table,
)
from app.state import SessionState
from app.view import (
    RunPoint,
    RunRow,
    StatusCount,
    VersionRow,
    run_points,
    run_row,
    status_counts,
    version_row,
)

CHART_RUNS = 500


def path_part(path: str, index: int) -> str:
    """`/agents/agt_1/versions/2`, 1 -> `agt_1`."""
    parts = [part for part in path.split("/") if part]
    return parts[index] if len(parts) > index else ""


class AgentState(SessionState):
    agent_id: rx.Field[str] = rx.field("")
    name: rx.Field[str] = rx.field("")
    description: rx.Field[str] = rx.field("")
    archived: rx.Field[bool] = rx.field(False)
    latest: rx.Field[int] = rx.field(0)
    created: rx.Field[str] = rx.field("")
    tab: rx.Field[str] = rx.field("run")
    versions: rx.Field[list[VersionRow]] = rx.field(default_factory=list)
    runs: rx.Field[list[RunRow]] = rx.field(default_factory=list)
    loaded: rx.Field[bool] = rx.field(False)
    error: rx.Field[str] = rx.field("")
    # The launcher
    launch_version: rx.Field[str] = rx.field("latest")
    launch_input: rx.Field[str] = rx.field("")
    launch_context: rx.Field[str] = rx.field("")
    launch_error: rx.Field[str] = rx.field("")
    launching: rx.Field[bool] = rx.field(False)
    # Rename
    edit_open: rx.Field[bool] = rx.field(False)
    edit_name: rx.Field[str] = rx.field("")
    edit_description: rx.Field[str] = rx.field("")
    edit_error: rx.Field[str] = rx.field("")
    # Charts
    chart_version: rx.Field[str] = rx.field("all")
    counts: rx.Field[list[StatusCount]] = rx.field(default_factory=list)
    points: rx.Field[list[RunPoint]] = rx.field(default_factory=list)
    _all_runs: rx.Field[list[dict[str, Any]]] = rx.field(default_factory=list)

    @rx.var
    def version_choices(self) -> list[str]:
        return ["latest", *[row.label for row in self.versions]]

    @rx.var
    def chart_choices(self) -> list[str]:
        return ["all", *[row.label for row in self.versions]]

    @rx.event
    async def load(self) -> Any:
        self.agent_id = path_part(self.router.url.path, 1)
        self.tab = self.router.url.query_parameters.get("tab", self.tab or "run")
        self.loaded, self.error, self.launch_error = False, "", ""
        self.failed = False
        yield
        try:
            client = await self._client()
            agent = await self._api(client.get_agent, self.agent_id)
            versions = await self._api(client.list_versions, self.agent_id)
            page = await self._api(client.list_runs_page, agent_id=self.agent_id, limit=20)
            await self._refresh_pending(client)
        except Exception as exc:
            self.failed = True
            self.error, redirect = self._trouble(exc)
            self.loaded = True
            if redirect is not None:
                yield redirect
            return
        self.name, self.description = agent["name"], agent.get("description") or ""
        self.archived, self.latest = bool(agent["archived"]), int(agent["latest_version"] or 0)
        self.created = str(agent.get("created_at", ""))[:10]
        me = self._me()
        self.versions = [version_row(v, me) for v in sorted(versions, key=lambda v: -v["number"])]
        names = {self.agent_id: self.name}
        self.runs = [run_row(run, names) for run in page["items"]]
        if not versions and self.tab == "run":
            self.tab = "versions"
        self.loaded = True
        if self.tab == "charts":
            yield AgentState.load_charts

    @rx.event
    def set_tab(self, tab: str) -> Any:
        self.tab = tab
        if tab == "charts":
            return AgentState.load_charts
        return None

    @rx.event
    async def load_charts(self) -> Any:
        try:
            client = await self._client()
            runs: list[dict[str, Any]] = []
            cursor = None
            while len(runs) < CHART_RUNS:
                page = await self._api(
                    client.list_runs_page, agent_id=self.agent_id, limit=200, cursor=cursor
                )
                runs.extend(page["items"])
                cursor = page["next_cursor"]
                if not cursor:
                    break
        except Exception as exc:
            self.error, redirect = self._trouble(exc)
            return redirect
        self._all_runs = runs
        self._chart()
        return None

    def _chart(self) -> None:
        runs = self._all_runs
        if self.chart_version != "all":
            runs = [r for r in runs if f"v{r['version']}" == self.chart_version]
        self.counts = status_counts(runs, self.run_statuses)
        self.points = run_points(runs)

    @rx.event
    def set_chart_version(self, value: str) -> None:
        self.chart_version = value
        self._chart()

    # The launcher
    @rx.event
    def set_launch_version(self, value: str) -> None:
        self.launch_version = value

    @rx.event
    def set_launch_input(self, value: str) -> None:
        self.launch_input = value

    @rx.event
    def set_launch_context(self, value: str) -> None:
        self.launch_context = value

    @rx.event
    async def launch(self) -> Any:
        self.launch_error = ""
        context: dict[str, Any] = {}
        if self.launch_context.strip():
            try:
                parsed = json.loads(self.launch_context)
            except json.JSONDecodeError as exc:
                self.launch_error = f"Context is not valid JSON: {exc.msg}"
                return
            if not isinstance(parsed, dict):
                self.launch_error = "Context must be a JSON object."
                return
            context = parsed
        version: int | str = (
            "latest" if self.launch_version == "latest" else int(self.launch_version[1:])
        )
        self.launching = True
        yield
        try:
            client = await self._client()
            run = await self._api(
                client.start_run, self.agent_id, self.launch_input, version=version, context=context
            )
        except Exception as exc:
            self.launch_error, redirect = self._trouble(exc)
            self.launching = False
            if redirect is not None:
                yield redirect
            return
        self.launching = False
        self.launch_input = ""
        yield rx.redirect(f"/runs/{run['id']}")

    # Rename and archive
    @rx.event
    def open_edit(self) -> None:
        self.edit_name, self.edit_description = self.name, self.description
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
            agent = await self._api(
                client.update_agent,
                self.agent_id,
                name=self.edit_name.strip(),
                description=self.edit_description.strip(),
            )
        except Exception as exc:
            self.edit_error, redirect = self._trouble(exc)
            return redirect
        self.name, self.description = agent["name"], agent.get("description") or ""
        self.edit_open = False
        return None

    @rx.event
    async def toggle_archived(self) -> Any:
        try:
            client = await self._client()
            agent = await self._api(client.update_agent, self.agent_id, archived=not self.archived)
        except Exception as exc:
            self.error, redirect = self._trouble(exc)
            return redirect
        self.archived = bool(agent["archived"])
        return rx.toast.success("Archived." if self.archived else "Restored.")


def run_rows(runs: Any, show_agent: bool = False) -> rx.Component:
    def row(run: RunRow) -> rx.Component:
        cells = [
            rx.table.cell(
                rx.link(
                    run.short_id,
                    href=f"/runs/{run.id}",
                    class_name="run-link",
                    size="2",
                    white_space="nowrap",
                )
            ),
        ]
        if show_agent:
            cells.append(
                rx.table.cell(rx.link(run.agent_name, href=f"/agents/{run.agent_id}", size="2"))
            )
        cells += [
            rx.table.cell(rx.badge(run.version, variant="outline")),
            rx.table.cell(status_badge(run.status, class_name="run-status")),
            rx.table.cell(rx.text(run.input, size="2", trim="both")),
            rx.table.cell(rx.text(run.created, size="1", color_scheme="gray")),
            rx.table.cell(rx.text(run.duration, size="2")),
            rx.table.cell(rx.text(run.tokens, size="2")),
            rx.table.cell(rx.text(run.cost, size="2")),
        ]
        return rx.table.row(*cells, align="center")

    headers = ["Run", *(["Agent"] if show_agent else []), "Version", "Status", "Input"]
    return table(
        [*headers, "Created (UTC)", "Duration", "Tokens", "Cost"],
        rx.table.body(rx.foreach(runs, row)),
    )


def launcher() -> rx.Component:
    return card(
        rx.vstack(
            section_title("Start a run"),
            labelled(
                "Version",
                rx.select(
                    AgentState.version_choices,
                    value=AgentState.launch_version,
                    on_change=AgentState.set_launch_version,
                    width="100%",
                    id="launch-version",
                ),
            ),
            labelled(
                "Input",
                rx.text_area(
                    value=AgentState.launch_input,
                    on_change=AgentState.set_launch_input,
                    placeholder="What should the agent do?",
                    rows="5",
                    width="100%",
                    id="launch-input",
                ),
            ),
            labelled(
                "Context (optional)",
                rx.text_area(
                    value=AgentState.launch_context,
                    on_change=AgentState.set_launch_context,
                    placeholder='{"customer": "ACME"}  (JSON, appended to the system prompt)',
                    font_family="var(--code-font-family)",
                    font_size="12px",
                    rows="2",
                    width="100%",
                    id="launch-context",
                ),
            ),
            field_error(AgentState.launch_error, id="launch-error"),
            rx.button(
                rx.icon("play", size=16),
                "Start run",
                on_click=AgentState.launch,
                loading=AgentState.launching,
                disabled=AgentState.archived,
                size="3",
                width="100%",
                id="start-run",
            ),
            spacing="3",
            width="100%",
        ),
        width="360px",
        min_width="360px",
    )


def run_tab() -> rx.Component:
    return rx.hstack(
        launcher(),
        rx.vstack(
            section_title(
                "Recent runs",
                rx.link(
                    "All runs of this agent →",
                    href=f"/runs?agent={AgentState.agent_id}",
                    size="2",
                ),
            ),
            rx.cond(
                AgentState.runs.length() > 0,
                run_rows(AgentState.runs),
                empty_state(
                    "circle-play",
                    "No runs yet",
                    "Start the first run: type an input on the left.",
                ),
            ),
            flex="1",
            min_width="0",
            spacing="3",
        ),
        align="start",
        spacing="5",
        width="100%",
    )


def versions_tab() -> rx.Component:
    def row(version: VersionRow) -> rx.Component:
        return rx.table.row(
            rx.table.cell(
                rx.link(
                    rx.badge(version.label, size="2"),
                    href=f"/agents/{AgentState.agent_id}/versions/{version.number}",
                    class_name="version-link",
                )
            ),
            rx.table.cell(rx.code(version.config_hash, size="1")),
            rx.table.cell(rx.text(version.model, size="2")),
            rx.table.cell(rx.text(version.tools, size="2")),
            rx.table.cell(rx.text(version.created, size="2", color_scheme="gray")),
            rx.table.cell(rx.text(version.author, size="1", color_scheme="gray")),
            rx.table.cell(rx.text(version.notes, size="2", trim="both")),
            align="center",
        )

    return rx.vstack(
        section_title(
            "Versions",
            rx.cond(
                AgentState.versions.length() > 1,
                rx.link(
                    rx.button(rx.icon("git-compare", size=16), "Compare", variant="soft"),
                    href=f"/agents/{AgentState.agent_id}/diff",
                ),
            ),
            rx.link(
                rx.button(rx.icon("plus", size=16), "New version", id="new-version"),
                href=f"/agents/{AgentState.agent_id}/new-version",
            ),
        ),
        rx.cond(
            AgentState.versions.length() > 0,
            table(
                ["Version", "Hash", "Model", "Tools", "Published (UTC)", "Author", "Notes"],
                rx.table.body(rx.foreach(AgentState.versions, row)),
                id="versions-table",
            ),
            empty_state(
                "file-plus",
                "No versions yet",
                "A version pins the model, system prompt, tools and limits. Runs use one.",
                rx.link(
                    rx.button("Publish the first version"),
                    href=f"/agents/{AgentState.agent_id}/new-version",
                ),
            ),
        ),
        spacing="3",
        width="100%",
    )


def charts_tab() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.text("Version", size="2", weight="medium"),
            rx.select(
                AgentState.chart_choices,
                value=AgentState.chart_version,
                on_change=AgentState.set_chart_version,
                id="chart-version",
            ),
            rx.text(f"(the latest {CHART_RUNS} runs at most)", size="1", color_scheme="gray"),
            align="center",
        ),
        rx.cond(
            AgentState.counts.length() > 0,
            rx.grid(
                card(
                    rx.text("Runs by status", weight="bold", size="2"),
                    rx.recharts.bar_chart(
                        rx.recharts.cartesian_grid(stroke_dasharray="3 3", vertical=False),
                        rx.recharts.x_axis(data_key="status", tick={"fontSize": 11}),
                        rx.recharts.y_axis(allow_decimals=False, tick={"fontSize": 11}),
                        rx.recharts.graphing_tooltip(),
                        rx.recharts.bar(
                            rx.foreach(AgentState.counts, lambda c: rx.recharts.cell(fill=c.fill)),
                            data_key="runs",
                            radius=4,
                        ),
                        data=AgentState.counts.to(list[dict[str, Any]]),
                        height=240,
                        width="100%",
                    ),
                ),
                card(
                    rx.text("Latency per run (seconds)", weight="bold", size="2"),
                    rx.recharts.line_chart(
                        rx.recharts.cartesian_grid(stroke_dasharray="3 3", vertical=False),
                        rx.recharts.x_axis(data_key="when", tick={"fontSize": 11}),
                        rx.recharts.y_axis(tick={"fontSize": 11}, unit=" s"),
                        rx.recharts.graphing_tooltip(),
                        rx.recharts.line(
                            data_key="seconds",
                            stroke=rx.color("accent", 9),
                            dot=True,
                            type_="monotone",
                        ),
                        data=AgentState.points.to(list[dict[str, Any]]),
                        height=240,
                        width="100%",
                    ),
                ),
                card(
                    rx.text("Cost per run (USD)", weight="bold", size="2"),
                    rx.recharts.area_chart(
                        rx.recharts.cartesian_grid(stroke_dasharray="3 3", vertical=False),
                        rx.recharts.x_axis(data_key="when", tick={"fontSize": 11}),
                        rx.recharts.y_axis(tick={"fontSize": 11}),
                        rx.recharts.graphing_tooltip(),
                        rx.recharts.area(
                            data_key="cost",
                            stroke=rx.color("grass", 9),
                            fill=rx.color("grass", 5),
                            type_="monotone",
                        ),
                        data=AgentState.points.to(list[dict[str, Any]]),
                        height=240,
                        width="100%",
                    ),
                ),
                columns="3",
                spacing="4",
                width="100%",
                id="agent-charts",
            ),
            empty_state("chart-column", "Nothing to chart yet", "Runs of this agent appear here."),
        ),
        spacing="4",
        width="100%",
    )


def agent_page() -> rx.Component:
    return shell(
        page_header(
            AgentState.name,
            AgentState.description,
            rx.button(
                rx.icon("pencil", size=14),
                "Rename",
                variant="soft",
                color_scheme="gray",
                on_click=AgentState.open_edit,
                id="rename-agent",
            ),
            rx.button(
                rx.icon(rx.cond(AgentState.archived, "archive-restore", "archive"), size=14),
                rx.cond(AgentState.archived, "Restore", "Archive"),
                variant="soft",
                color_scheme=rx.cond(AgentState.archived, "gray", "red"),
                on_click=AgentState.toggle_archived,
                id="archive-agent",
            ),
            breadcrumbs=crumbs(("Agents", "/agents"), (AgentState.name, None)),
            badge=rx.cond(AgentState.archived, rx.badge("archived", color_scheme="gray")),
        ),
        error_callout(AgentState.error),
        rx.cond(
            ~AgentState.loaded,
            loading(),
            rx.cond(
                AgentState.failed,
                rx.fragment(),
                rx.tabs.root(
                    rx.tabs.list(
                        rx.tabs.trigger("Run", value="run", id="tab-run"),
                        rx.tabs.trigger("Versions", value="versions", id="tab-versions"),
                        rx.tabs.trigger("Charts", value="charts", id="tab-charts"),
                    ),
                    rx.tabs.content(run_tab(), value="run", padding_top="20px"),
                    rx.tabs.content(versions_tab(), value="versions", padding_top="20px"),
                    rx.tabs.content(charts_tab(), value="charts", padding_top="20px"),
                    value=AgentState.tab,
                    on_change=AgentState.set_tab,
                    width="100%",
                ),
            ),
        ),
        rename_agent_dialog(AgentState),
    )


__all__ = ["AgentState", "agent_page", "code_text", "path_part", "run_rows"]
