"""Charts and tables of runs over time, fed by `app.stats_view` (the dashboard's, an agent's).

Each widget takes the state's Vars: lists of rows (`Bucket`, `DayRow`, `AgentStat`, ...) and the
`Axis` their values go on. Value axes start at 0; an axis with nothing above 0 shows a note
instead of a flat line on an invented scale. Every chart fills its container's width.
"""

from typing import Any

import reflex as rx

from app.stats_view import AgentStat, AgentSwatch, FailingAgent, StatusSwatch

CHART_HEIGHT = 240
TICK = {"fontSize": 11}
LATENCY_CAPTION = (
    "Median (p50) and 95th percentile (p95) of the runs that ended in each bucket. Time spent "
    "waiting for a person (approvals) is not counted. Gaps: no run ended then."
)


def chart_card(title: Any, caption: Any, body: rx.Component, **props: Any) -> rx.Component:
    """A titled chart with a line saying what it shows; never wider than its column."""
    return rx.card(
        rx.vstack(
            rx.text(title, weight="bold", size="2"),
            body,
            rx.text(caption, size="1", color_scheme="gray"),
            spacing="2",
            width="100%",
        ),
        size="2",
        width="100%",
        min_width="0",
        **props,
    )


def chart_note(text: str) -> rx.Component:
    """What a chart shows when it has nothing to draw, at the chart's height."""
    return rx.center(
        rx.text(text, size="2", color_scheme="gray", text_align="center"),
        height=f"{CHART_HEIGHT}px",
        width="100%",
        border=f"1px dashed {rx.color('gray', 6)}",
        border_radius="8px",
        class_name="chart-note",
    )


def _value_axis(axis: Any, **props: Any) -> rx.Component:
    return rx.recharts.y_axis(domain=axis.domain, tick=TICK, width=48, **props)


def _time_axis() -> rx.Component:
    return rx.recharts.x_axis(data_key="label", tick=TICK, min_tick_gap=12)


def _grid() -> rx.Component:
    return rx.recharts.cartesian_grid(stroke_dasharray="3 3", vertical=False)


def runs_by_status_chart(buckets: Any, statuses: Any, axis: Any, **props: Any) -> rx.Component:
    """Runs per bucket, stacked by status, one colour per status of the API's vocabulary."""

    def status_bar(swatch: StatusSwatch) -> rx.Component:
        return rx.recharts.bar(
            data_key=swatch.data_key,
            name=swatch.label,
            stack_id="runs",
            fill=swatch.fill,
            is_animation_active=False,
        )

    chart = rx.recharts.bar_chart(
        _grid(),
        _time_axis(),
        _value_axis(axis, allow_decimals=False),
        rx.recharts.graphing_tooltip(),
        rx.recharts.legend(icon_size=10),
        rx.foreach(statuses, status_bar),
        data=buckets.to(list[dict[str, Any]]),
        height=CHART_HEIGHT,
        width="100%",
    )
    return chart_card(
        "Runs by status",
        "Runs created in each bucket (UTC), by their status now.",
        rx.cond(axis.empty, chart_note("No runs in this range."), chart),
        **props,
    )


def latency_chart(buckets: Any, axis: Any, **props: Any) -> rx.Component:
    """p50 and p95 of the runs that ended, per bucket, without the waits for approvals."""
    chart = rx.recharts.line_chart(
        _grid(),
        # A lone point at either end stays whole.
        rx.recharts.x_axis(
            data_key="label", tick=TICK, min_tick_gap=12, padding={"left": 12, "right": 12}
        ),
        _value_axis(axis),
        rx.recharts.graphing_tooltip(),
        rx.recharts.legend(icon_size=10),
        rx.recharts.line(
            data_key="p50",
            name="p50",
            stroke=rx.color("accent", 9),
            dot=True,
            connect_nulls=False,
            is_animation_active=False,
        ),
        rx.recharts.line(
            data_key="p95",
            name="p95",
            stroke=rx.color("orange", 9),
            stroke_dasharray="5 3",
            dot=True,
            connect_nulls=False,
            is_animation_active=False,
        ),
        data=buckets.to(list[dict[str, Any]]),
        height=CHART_HEIGHT,
        width="100%",
    )
    return chart_card(
        rx.text.span("Latency: p50 and p95 (", axis.unit, ")"),
        LATENCY_CAPTION,
        rx.cond(axis.empty, chart_note("No run ended in this range."), chart),
        **props,
    )


def _usage_chart(rows: Any, series: Any, axis: Any, key: str, stack: str) -> rx.Component:
    def agent_bar(swatch: AgentSwatch) -> rx.Component:
        return rx.recharts.bar(
            data_key=getattr(swatch, key),
            name=swatch.name,
            stack_id=stack,
            fill=swatch.fill,
            is_animation_active=False,
        )

    return rx.recharts.bar_chart(
        _grid(),
        _time_axis(),
        _value_axis(axis, allow_decimals=key != "tokens_key"),
        rx.recharts.graphing_tooltip(),
        rx.recharts.legend(icon_size=10),
        rx.foreach(series, agent_bar),
        data=rows.to(list[dict[str, Any]]),
        height=CHART_HEIGHT,
        width="100%",
    )


def cost_chart(rows: Any, series: Any, axis: Any, per_bucket: Any, **props: Any) -> rx.Component:
    """Cost per bucket (`UsageRow`s), stacked by agent (`AgentSwatch`es)."""
    return chart_card(
        rx.text.span("Cost ", per_bucket, " (USD)"),
        "What the model calls cost, by agent (UTC).",
        rx.cond(
            axis.empty,
            chart_note("No cost recorded in this range."),
            _usage_chart(rows, series, axis, "cost_key", "cost"),
        ),
        **props,
    )


def tokens_chart(rows: Any, series: Any, axis: Any, per_bucket: Any, **props: Any) -> rx.Component:
    """Tokens (input and output) per bucket, stacked by agent."""
    return chart_card(
        rx.text.span("Tokens ", per_bucket),
        "Input and output tokens of the model calls, by agent (UTC).",
        rx.cond(
            axis.empty,
            chart_note("No tokens recorded in this range."),
            _usage_chart(rows, series, axis, "tokens_key", "tokens"),
        ),
        **props,
    )


def _per_agent_chart(agents: Any, axis: Any, height: Any, *bars: rx.Component) -> rx.Component:
    return rx.recharts.bar_chart(
        rx.recharts.cartesian_grid(stroke_dasharray="3 3", horizontal=False),
        rx.recharts.x_axis(type_="number", domain=axis.domain, tick=TICK),
        rx.recharts.y_axis(type_="category", data_key="agent_name", tick=TICK, width=110),
        rx.recharts.graphing_tooltip(),
        *bars,
        layout="vertical",
        data=agents.to(list[dict[str, Any]]),
        height=height,
        width="100%",
    )


def cost_per_agent_chart(agents: Any, axis: Any, height: Any, **props: Any) -> rx.Component:
    """The costliest agents of the range (`StatsView.chart_agents`)."""
    bar = rx.recharts.bar(
        data_key="cost_usd", name="Cost (USD)", fill=rx.color("grass", 9), is_animation_active=False
    )
    return chart_card(
        "Cost per agent (USD)",
        "The costliest agents in this range.",
        rx.cond(
            axis.empty,
            chart_note("No cost recorded in this range."),
            _per_agent_chart(agents, axis, height, bar),
        ),
        **props,
    )


def tokens_per_agent_chart(agents: Any, axis: Any, height: Any, **props: Any) -> rx.Component:
    """Input and output tokens of the costliest agents of the range."""
    bars = [
        rx.recharts.bar(
            data_key=name,
            name=label,
            stack_id="tokens",
            fill=rx.color(color, 9),
            is_animation_active=False,
        )
        for name, label, color in (
            ("input_tokens", "input", "indigo"),
            ("output_tokens", "output", "cyan"),
        )
    ]
    return chart_card(
        "Tokens per agent",
        "Input and output tokens of the costliest agents in this range.",
        rx.cond(
            axis.empty,
            chart_note("No tokens recorded in this range."),
            _per_agent_chart(agents, axis, height, *bars),
        ),
        **props,
    )


def _table(headers: list[str], body: rx.Component, **props: Any) -> rx.Component:
    # The table scrolls sideways inside its box on a narrow screen; the page does not.
    return rx.box(
        rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in headers])),
            body,
            variant="surface",
            size="1",
            width="100%",
        ),
        width="100%",
        max_width="100%",
        overflow_x="auto",
        **props,
    )


def _agent_link(agent_id: Any, name: Any) -> rx.Component:
    return rx.link(name, href=f"/agents/{agent_id}", size="2", class_name="agent-link")


def agents_table(agents: Any, **props: Any) -> rx.Component:
    """One row per agent with runs in the range: runs, failures, cost, tokens, latency."""

    def row(agent: AgentStat) -> rx.Component:
        return rx.table.row(
            rx.table.cell(_agent_link(agent.agent_id, agent.agent_name)),
            rx.table.cell(agent.runs, class_name="agent-runs"),
            rx.table.cell(agent.failures, class_name="agent-failed"),
            rx.table.cell(agent.cost, class_name="agent-cost"),
            rx.table.cell(agent.tokens),
            rx.table.cell(agent.p50, white_space="nowrap"),
            rx.table.cell(agent.p95, white_space="nowrap"),
            align="center",
            class_name="agent-stat",
            custom_attrs={"data-agent-id": agent.agent_id},
        )

    return _table(
        ["Agent", "Runs", "Failed", "Cost", "Tokens", "p50", "p95"],
        rx.table.body(rx.foreach(agents, row)),
        **props,
    )


def top_failing_table(rows: Any, **props: Any) -> rx.Component:
    """The agents whose runs failed most in the range, each linking to its page."""

    def row(agent: FailingAgent) -> rx.Component:
        return rx.table.row(
            rx.table.cell(_agent_link(agent.agent_id, agent.agent_name)),
            rx.table.cell(agent.failed),
            rx.table.cell(agent.runs),
            rx.table.cell(rx.badge(agent.failure_rate, color_scheme="red", variant="soft")),
            align="center",
            class_name="failing-agent",
            custom_attrs={"data-agent-id": agent.agent_id},
        )

    return rx.cond(
        rows.length() > 0,
        _table(
            ["Agent", "Failed", "Runs", "Failure rate"],
            rx.table.body(rx.foreach(rows, row)),
            **props,
        ),
        rx.text("No run failed in this range.", size="2", color_scheme="gray"),
    )
