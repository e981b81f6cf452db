"""A run, live: status, timing, usage, the step timeline as it streams, approvals, artifacts."""

from typing import Any

import reflex as rx

from app.components import (
    approval_card,
    by_width,
    card,
    code_text,
    crumbs,
    empty_state,
    error_callout,
    loading,
    page_header,
    section_title,
    shell,
    stat,
    status_badge,
)
from app.components.widgets import refusable
from app.pages.run.state import RunState
from app.pages.run.steps import step_item
from app.pages.run.waterfall import waterfall_chart
from app.view import WRITER, who_may


def run_page() -> rx.Component:
    agent = f"/agents/{RunState.agent_id}"
    return shell(
        page_header(
            rx.text("Run ", rx.code(RunState.run_id, size="5", variant="ghost")),
            rx.hstack(
                rx.link(RunState.agent_name, href=agent),
                rx.badge(RunState.version, variant="outline"),
                rx.cond(
                    RunState.alias != "",
                    rx.badge(
                        "via ", RunState.alias, color_scheme="violet", id="run-alias", title="alias"
                    ),
                ),
                rx.cond(
                    RunState.schedule_id != "",
                    rx.link(
                        rx.badge(
                            rx.icon("calendar-clock", size=12),
                            "schedule ",
                            short_id_var(RunState.schedule_id),
                            color_scheme="cyan",
                        ),
                        href=f"/schedules/{RunState.schedule_id}",
                        id="run-schedule",
                    ),
                ),
                rx.text(
                    "· created ",
                    RunState.created,
                    " UTC by ",
                    rx.text.span(RunState.created_by, id="run-created-by"),
                    size="2",
                    color_scheme="gray",
                ),
                align="center",
                wrap="wrap",
            ),
            rx.cond(
                RunState.trace_url != "",
                rx.link(
                    rx.button(rx.icon("external-link", size=14), "Trace", variant="soft"),
                    href=RunState.trace_url,
                    is_external=True,
                    id="trace-link",
                ),
            ),
            rx.cond(
                RunState.active,
                refusable(
                    RunState.may_write,
                    who_may(WRITER, "cancel a run"),
                    lambda refused: rx.button(
                        rx.icon("circle-stop", size=14),
                        "Cancel run",
                        color_scheme="red",
                        variant="soft",
                        on_click=RunState.cancel,
                        loading=RunState.cancelling,
                        disabled=True if refused else RunState.status == "cancelling",
                        id="cancel-run",
                    ),
                ),
                refusable(
                    RunState.may_write,
                    who_may(WRITER, "start a run"),
                    run_again_button,
                ),
            ),
            breadcrumbs=crumbs(
                ("Agents", "/agents"),
                (RunState.agent_name, agent),
                ("Runs", f"/runs?agent={RunState.agent_id}"),
                (short_id_var(RunState.run_id), None),
            ),
        ),
        error_callout(RunState.error),
        rx.cond(
            ~RunState.loaded,
            loading("Loading the run…"),
            rx.cond(
                RunState.failed,
                rx.fragment(),
                rx.vstack(
                    card(
                        rx.hstack(
                            rx.vstack(
                                rx.text("Status", size="1", color_scheme="gray", weight="medium"),
                                status_badge(RunState.status, size="3", id="run-status"),
                                spacing="1",
                                min_width="150px",
                            ),
                            stat("Started (UTC)", RunState.started),
                            stat("Duration", RunState.elapsed, id="run-duration"),
                            stat("Tokens", RunState.tokens_label, id="run-tokens"),
                            stat("Cost", RunState.cost_label, id="run-cost"),
                            rx.spacer(),
                            rx.cond(
                                RunState.live,
                                rx.hstack(
                                    rx.box(
                                        width="8px",
                                        height="8px",
                                        border_radius="50%",
                                        background=rx.color("grass", 9),
                                        class_name="pulse",
                                    ),
                                    rx.text(
                                        "Live", size="2", color_scheme="grass", weight="medium"
                                    ),
                                    align="center",
                                    id="live-indicator",
                                ),
                            ),
                            align="center",
                            spacing="6",
                            width="100%",
                            wrap="wrap",
                        ),
                    ),
                    rx.cond(
                        RunState.live_note != "",
                        rx.callout(RunState.live_note, color_scheme="amber", icon="wifi-off"),
                    ),
                    rx.cond(
                        RunState.pending.length() > 0,
                        rx.vstack(
                            rx.foreach(
                                RunState.pending,
                                lambda a: approval_card(a, RunState, RunState.may_write),
                            ),
                            width="100%",
                            spacing="3",
                        ),
                    ),
                    rx.grid(
                        card(
                            section_title("Input"),
                            code_text(RunState.input_text, margin_top="8px", id="run-input"),
                        ),
                        card(
                            section_title("Output"),
                            rx.cond(
                                RunState.run_error != "",
                                rx.callout(
                                    RunState.run_error,
                                    color_scheme="red",
                                    icon="circle-x",
                                    margin_top="8px",
                                    id="run-error",
                                ),
                            ),
                            rx.cond(
                                RunState.output_text != "",
                                code_text(RunState.output_text, margin_top="8px", id="run-output"),
                                rx.cond(
                                    RunState.active,
                                    rx.text(
                                        "The answer appears here when the run ends.",
                                        size="2",
                                        color_scheme="gray",
                                        margin_top="8px",
                                    ),
                                    rx.cond(
                                        RunState.run_error == "",
                                        rx.text("No output.", size="2", color_scheme="gray"),
                                    ),
                                ),
                            ),
                        ),
                        columns=by_width("1", "2"),
                        spacing="4",
                        width="100%",
                    ),
                    rx.grid(
                        rx.vstack(
                            section_title(
                                "Timeline",
                                rx.text(
                                    RunState.steps_label,
                                    size="2",
                                    color_scheme="gray",
                                    id="steps-count",
                                ),
                            ),
                            rx.cond(
                                RunState.steps.length() > 0,
                                rx.vstack(
                                    rx.foreach(RunState.steps, step_item),
                                    spacing="0",
                                    width="100%",
                                    id="timeline",
                                ),
                                empty_state(
                                    "hourglass",
                                    "No steps yet",
                                    "Steps appear here live as the worker runs them.",
                                ),
                            ),
                            spacing="3",
                            min_width="0",
                        ),
                        rx.vstack(
                            waterfall_chart(),
                            card(
                                section_title("Artifacts"),
                                rx.cond(
                                    RunState.artifacts.length() > 0,
                                    rx.vstack(
                                        rx.foreach(
                                            RunState.artifacts,
                                            lambda f: rx.hstack(
                                                rx.icon("file", size=14),
                                                rx.link(
                                                    f.name,
                                                    href=f.url,
                                                    is_external=True,
                                                    class_name="artifact-link",
                                                ),
                                                rx.spacer(),
                                                rx.text(f.size, size="1", color_scheme="gray"),
                                                align="center",
                                                width="100%",
                                            ),
                                        ),
                                        margin_top="8px",
                                        width="100%",
                                    ),
                                    rx.text(
                                        "No files saved (the artifact_write tool saves them).",
                                        size="2",
                                        color_scheme="gray",
                                        margin_top="8px",
                                    ),
                                ),
                            ),
                            rx.cond(
                                RunState.decided.length() > 0,
                                card(
                                    section_title("Decisions"),
                                    rx.vstack(
                                        rx.foreach(
                                            RunState.decided,
                                            lambda a: rx.vstack(
                                                rx.hstack(
                                                    rx.code(a.tool_name),
                                                    status_badge(
                                                        a.status, class_name="decision-status"
                                                    ),
                                                    rx.spacer(),
                                                    rx.text(
                                                        a.decided, size="1", color_scheme="gray"
                                                    ),
                                                    align="center",
                                                    width="100%",
                                                ),
                                                rx.text(
                                                    "by ",
                                                    a.decided_by,
                                                    rx.cond(
                                                        a.comment != "",
                                                        rx.text.em(" — “", a.comment, "”"),
                                                    ),
                                                    size="1",
                                                    color_scheme="gray",
                                                    class_name="decision-by",
                                                ),
                                                spacing="1",
                                                width="100%",
                                            ),
                                        ),
                                        margin_top="8px",
                                        spacing="3",
                                        width="100%",
                                    ),
                                ),
                            ),
                            spacing="4",
                            min_width="0",
                        ),
                        columns=by_width("1", "3fr 2fr"),
                        spacing="5",
                        width="100%",
                    ),
                    spacing="4",
                    width="100%",
                ),
            ),
        ),
    )


def run_again_button(refused: bool) -> rx.Component:
    """To the agent's launcher, filled in with this run's input, context and version."""
    button = rx.button(
        rx.icon("rotate-ccw", size=14), "Run again", variant="soft", disabled=refused
    )
    if refused:
        return rx.box(button, id="run-again")
    return rx.link(button, href=RunState.rerun_link, id="run-again")


def short_id_var(value: Any) -> Any:
    """`run_…abc123` in the breadcrumbs."""
    return rx.cond(value.length() > 8, "…" + value.to(str)[-8:], value)
