"""The tenant at a glance: runs, success, cost, tokens and latency over a range, by agent."""

import asyncio
from datetime import UTC, datetime
from typing import Any

import reflex as rx
from reflex.event import EventSpec

from app.components import card, empty_state, error_callout, loading, page_header, shell, stat
from app.components.charts import (
    agents_table,
    cost_chart,
    cost_per_agent_chart,
    latency_chart,
    runs_by_status_chart,
    tokens_chart,
    tokens_per_agent_chart,
    top_failing_table,
)
from app.state import Failure, PageState, SessionState
from app.stats_view import DEFAULT_RANGE, RANGES, StatsView, stats_view, window
from app.view import ACTIVE
from client import AgentRuntimeClient

REFRESH_SECONDS = 30
# Auto-refresh stops by itself after an hour: a closed tab does not poll the API for ever.
MAX_AUTO_REFRESHES = 3600 // REFRESH_SECONDS


class DashboardState(PageState, SessionState):
    range_choice: rx.Field[str] = rx.field(DEFAULT_RANGE)
    stats: rx.Field[StatsView] = rx.field(default_factory=StatsView)
    refreshing: rx.Field[bool] = rx.field(False)
    updated: rx.Field[str] = rx.field("")
    auto_refresh: rx.Field[bool] = rx.field(False)
    # Which auto-refresh loop is the current one (turning it off and on starts another).
    _refresh_loop: rx.Field[int] = rx.field(0)

    @rx.var
    def range_label(self) -> str:
        return RANGES.get(self.range_choice, RANGES[DEFAULT_RANGE])[0]

    async def _read(self, client: AgentRuntimeClient, now: datetime) -> dict[str, Any]:
        answer = await self._api(client.stats, **window(self.range_choice, now).params())
        await self._refresh_pending(client)
        return answer

    def _present(self, answer: dict[str, Any], now: datetime) -> None:
        self.stats = stats_view(answer, self.run_statuses, ACTIVE)
        self.error, self.failed = "", False
        self.updated = f"Updated {now:%H:%M:%S} UTC"

    async def _refresh(self) -> EventSpec | None:
        """Read the range again; if that fails, say why and keep what is shown."""
        now = datetime.now(UTC)
        answer = await self._attempt(lambda client: self._read(client, now))
        if isinstance(answer, Failure):
            self.error = answer.message
            return answer.redirect
        self._present(answer, now)
        return None

    @rx.event
    async def load(self) -> Any:
        choice = self.router.url.query_parameters.get("range", DEFAULT_RANGE)
        self.range_choice = choice if choice in RANGES else DEFAULT_RANGE
        self._start_loading()
        yield
        now = datetime.now(UTC)
        answer = await self._load(lambda client: self._read(client, now))
        if isinstance(answer, Failure):
            if answer.redirect is not None:
                yield answer.redirect
            return
        self._present(answer, now)
        self.loaded = True

    @rx.event
    async def refresh(self) -> Any:
        self.refreshing = True
        yield
        redirect = await self._refresh()
        self.refreshing = False
        if redirect is not None:
            yield redirect

    @rx.event
    def set_range(self, value: str | list[str]) -> Any:
        choice = value if isinstance(value, str) and value in RANGES else DEFAULT_RANGE
        return rx.redirect(f"/dashboard?range={choice}")

    @rx.event
    def set_auto_refresh(self, on: bool) -> Any:
        self.auto_refresh = on
        self._refresh_loop += 1
        return DashboardState.keep_fresh if on else None

    @rx.event
    def stop_auto_refresh(self) -> None:
        self.auto_refresh = False
        self._refresh_loop += 1

    @rx.event(background=True)
    async def keep_fresh(self) -> None:
        async with self:
            loop = self._refresh_loop
        for _ in range(MAX_AUTO_REFRESHES):
            await asyncio.sleep(REFRESH_SECONDS)
            async with self:
                still_here = self.router.url.path.rstrip("/") == "/dashboard"
                if not (self.auto_refresh and self._refresh_loop == loop and still_here):
                    return
                await self._refresh()
        async with self:
            if self._refresh_loop == loop:
                self.auto_refresh = False


# Reflex's stubs type a dataclass field as an array; in the page it is an object of StatsView.
STATS: Any = DashboardState.stats


def controls() -> rx.Component:
    return rx.flex(
        rx.segmented_control.root(
            *[rx.segmented_control.item(choice, value=choice) for choice in RANGES],
            value=DashboardState.range_choice,
            on_change=DashboardState.set_range,
            id="dashboard-range",
        ),
        rx.button(
            rx.icon("refresh-cw", size=14),
            "Refresh",
            variant="soft",
            loading=DashboardState.refreshing,
            on_click=DashboardState.refresh,
            id="dashboard-refresh",
        ),
        rx.el.label(
            rx.flex(
                rx.switch(
                    checked=DashboardState.auto_refresh,
                    on_change=DashboardState.set_auto_refresh,
                    id="dashboard-auto-refresh",
                ),
                rx.text(f"Refresh every {REFRESH_SECONDS} s", size="2"),
                spacing="2",
                align="center",
            ),
        ),
        rx.text(DashboardState.updated, size="1", color_scheme="gray", id="dashboard-updated"),
        wrap="wrap",
        spacing="3",
        align="center",
        width="100%",
    )


def totals() -> rx.Component:
    figures = STATS.totals
    tiles = [
        ("Runs", figures.runs_text, "total-runs"),
        ("Success rate", figures.success_rate, "total-success-rate"),
        ("Cost", figures.cost, "total-cost"),
        ("Tokens", figures.tokens, "total-tokens"),
        ("p50 latency", figures.p50, "total-p50"),
        ("p95 latency", figures.p95, "total-p95"),
    ]
    return rx.grid(
        *[card(stat(label, value, id=tile_id), min_width="0") for label, value, tile_id in tiles],
        columns=rx.breakpoints(initial="2", sm="3", lg="6"),
        spacing="3",
        width="100%",
    )


def charts() -> rx.Component:
    stats = STATS
    return rx.grid(
        runs_by_status_chart(stats.buckets, stats.statuses, stats.runs_axis, id="chart-runs"),
        latency_chart(stats.buckets, stats.latency_axis, id="chart-latency"),
        cost_chart(
            stats.usage, stats.agent_series, stats.cost_axis, stats.per_bucket, id="chart-cost"
        ),
        tokens_chart(
            stats.usage, stats.agent_series, stats.tokens_axis, stats.per_bucket, id="chart-tokens"
        ),
        cost_per_agent_chart(
            stats.chart_agents, stats.cost_axis, stats.chart_agents_height, id="chart-cost-agent"
        ),
        tokens_per_agent_chart(
            stats.chart_agents,
            stats.tokens_axis,
            stats.chart_agents_height,
            id="chart-tokens-agent",
        ),
        columns=rx.breakpoints(initial="1", lg="2"),
        spacing="4",
        width="100%",
    )


def tables() -> rx.Component:
    stats = STATS
    return rx.grid(
        card(
            rx.vstack(
                rx.text("Agents", weight="bold", size="2"),
                agents_table(stats.agents, id="dashboard-agents"),
                spacing="2",
                width="100%",
            ),
            min_width="0",
        ),
        card(
            rx.vstack(
                rx.text("Top failing agents", weight="bold", size="2"),
                top_failing_table(stats.top_failing, id="dashboard-top-failing"),
                spacing="2",
                width="100%",
            ),
            min_width="0",
        ),
        columns=rx.breakpoints(initial="1", lg="2"),
        spacing="4",
        width="100%",
    )


def dashboard_page() -> rx.Component:
    return shell(
        page_header(
            "Dashboard",
            rx.text.span(DashboardState.range_label, " · every agent of this tenant (UTC)"),
        ),
        controls(),
        error_callout(DashboardState.error),
        rx.cond(
            ~DashboardState.loaded,
            loading("Loading the dashboard…"),
            rx.cond(
                DashboardState.failed,
                rx.fragment(),
                rx.cond(
                    STATS.totals.runs > 0,
                    rx.vstack(totals(), charts(), tables(), spacing="4", width="100%"),
                    empty_state(
                        "chart-column",
                        "No runs in this range yet",
                        "Start one from an agent's page.",
                        rx.link(rx.button("Go to agents", variant="soft"), href="/agents"),
                        id="dashboard-empty",
                    ),
                ),
            ),
        ),
        rx.box(on_unmount=DashboardState.stop_auto_refresh),
    )
