"""An agent: run it (launcher, recent runs), its versions and aliases, and charts of its runs."""

from typing import Any

import reflex as rx

from app.components import (
    by_width,
    card,
    crumbs,
    empty_state,
    error_callout,
    field_error,
    labelled,
    loading,
    page_header,
    refusable,
    rename_agent_dialog,
    run_rows,
    section_title,
    shell,
    table,
)
from app.components.charts import cost_chart, latency_chart, runs_by_status_chart, tokens_chart
from app.components.forms import getting_started
from app.pages.agent.aliases import aliases_panel, promote_cell
from app.pages.agent.promote import promote_dialog
from app.pages.agent.state import AgentState
from app.stats_view import RANGES
from app.view import WRITER, VersionRow, who_may

VERSION_COLUMNS = ["Version", "Hash", "Model", "Tools", "Published (UTC)", "Author", "Notes"]
# Reflex's stubs type a dataclass field as an array; in the page it is an object of StatsView.
STATS: Any = AgentState.stats


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
            refusable(
                AgentState.may_write,
                who_may(WRITER, "start a run"),
                lambda refused: rx.button(
                    rx.icon("play", size=16),
                    "Start run",
                    on_click=AgentState.launch,
                    loading=AgentState.launching,
                    disabled=True if refused else AgentState.archived,
                    size="3",
                    width="100%",
                    id="start-run",
                ),
            ),
            spacing="3",
            width="100%",
        ),
        width=by_width("100%", "360px"),
        min_width=by_width("0", "360px"),
    )


def run_tab() -> rx.Component:
    return rx.flex(
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
            width="100%",
            spacing="3",
        ),
        direction=by_width("column", "row"),
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
            rx.table.cell(
                rx.hstack(
                    rx.foreach(
                        version.aliases,
                        lambda name: rx.badge(name, color_scheme="violet", class_name="alias"),
                    ),
                    spacing="1",
                    wrap="wrap",
                ),
                class_name="version-aliases",
            ),
            rx.table.cell(promote_cell(version)),
            align="center",
            class_name="version-row",
            custom_attrs={"data-version": version.number},
        )

    return rx.vstack(
        rx.cond(AgentState.versions.length() > 0, aliases_panel()),
        section_title(
            "Versions",
            rx.cond(
                AgentState.versions.length() > 1,
                rx.link(
                    rx.button(rx.icon("git-compare", size=16), "Compare", variant="soft"),
                    href=f"/agents/{AgentState.agent_id}/diff",
                ),
            ),
            refusable(
                AgentState.may_write,
                who_may(WRITER, "publish a version"),
                lambda refused: (
                    rx.button(rx.icon("plus", size=16), "New version", disabled=True)
                    if refused
                    else rx.link(
                        rx.button(rx.icon("plus", size=16), "New version", id="new-version"),
                        href=f"/agents/{AgentState.agent_id}/new-version",
                    )
                ),
            ),
        ),
        rx.cond(
            AgentState.versions.length() > 0,
            table(
                [*VERSION_COLUMNS, "Aliases", ""],
                rx.table.body(rx.foreach(AgentState.versions, row)),
                min_width="1040px",
                id="versions-table",
            ),
            empty_state(
                "file-plus",
                "No versions yet",
                "A version pins the model, system prompt, tools and limits. Runs use one.",
                rx.cond(
                    AgentState.may_write,
                    rx.link(
                        rx.button("Publish the first version"),
                        href=f"/agents/{AgentState.agent_id}/new-version",
                    ),
                ),
            ),
        ),
        spacing="3",
        width="100%",
    )


def charts_tab() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.segmented_control.root(
                *[rx.segmented_control.item(choice, value=choice) for choice in RANGES],
                value=AgentState.chart_range,
                on_change=AgentState.set_chart_range,
                id="chart-range",
            ),
            rx.text("UTC; runs of every version of this agent", size="1", color_scheme="gray"),
            align="center",
            wrap="wrap",
        ),
        rx.cond(
            STATS.totals.runs > 0,
            rx.grid(
                runs_by_status_chart(STATS.buckets, STATS.statuses, STATS.runs_axis),
                latency_chart(STATS.buckets, STATS.latency_axis),
                cost_chart(STATS.usage, STATS.agent_series, STATS.cost_axis, STATS.per_bucket),
                tokens_chart(STATS.usage, STATS.agent_series, STATS.tokens_axis, STATS.per_bucket),
                columns=by_width("1", "2"),
                spacing="4",
                width="100%",
                id="agent-charts",
            ),
            empty_state(
                "chart-column",
                "Nothing to chart yet",
                "Runs of this agent in this range appear here.",
            ),
        ),
        spacing="4",
        width="100%",
    )


def agent_page() -> rx.Component:
    return shell(
        page_header(
            AgentState.name,
            rx.text(
                AgentState.description,
                rx.cond(AgentState.description != "", " · ", ""),
                "Created by ",
                rx.text.span(AgentState.created_by, id="agent-created-by"),
            ),
            refusable(
                AgentState.may_write,
                who_may(WRITER, "rename an agent"),
                lambda refused: rx.button(
                    rx.icon("pencil", size=14),
                    "Rename",
                    variant="soft",
                    color_scheme="gray",
                    on_click=AgentState.open_edit,
                    disabled=refused,
                    id="rename-agent",
                ),
            ),
            refusable(
                AgentState.may_write,
                who_may(WRITER, "archive or restore an agent"),
                lambda refused: rx.button(
                    rx.icon(rx.cond(AgentState.archived, "archive-restore", "archive"), size=14),
                    rx.cond(AgentState.archived, "Restore", "Archive"),
                    variant="soft",
                    color_scheme=rx.cond(AgentState.archived, "gray", "red"),
                    on_click=AgentState.toggle_archived,
                    disabled=refused,
                    id="archive-agent",
                ),
            ),
            breadcrumbs=crumbs(("Agents", "/agents"), (AgentState.name, None)),
            badge=rx.cond(AgentState.archived, rx.badge("archived", color_scheme="gray")),
        ),
        error_callout(AgentState.error),
        rx.cond(
            AgentState.loaded & AgentState.show_guide,
            getting_started(AgentState.dismiss_guide, AgentState.docs_url, ""),
        ),
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
        promote_dialog(),
    )
