"""A schedule: what it runs, when it fires next (in its time zone), pause, unpause, trigger now,
edit, backfill, delete, and the runs its fires started, followed while one goes on."""

from typing import Any

import reflex as rx

from app.components import (
    busy_note,
    by_width,
    card,
    code_text,
    confirm_delete,
    crumbs,
    empty_state,
    error_callout,
    page_header,
    pause_toggle,
    refusable,
    run_rows,
    section_title,
    shell,
    when_loaded,
)
from app.pages.schedule.forms import edit_buttons, open_panel
from app.pages.schedule.state import ScheduleState
from app.view import WRITER, who_may


def _fact(label: str, value: Any, **props: Any) -> rx.Component:
    return rx.data_list.item(
        rx.data_list.label(label), rx.data_list.value(rx.text(value, size="2", **props))
    )


def _actions(refused: bool) -> rx.Component:
    row: Any = ScheduleState.schedule
    return rx.hstack(
        pause_toggle(
            row.paused,
            refused,
            ScheduleState.pause,
            ScheduleState.unpause,
            lambda action: ScheduleState.busy == action,
        ),
        rx.button(
            rx.icon("zap", size=14),
            "Trigger now",
            on_click=ScheduleState.trigger,
            loading=ScheduleState.busy == "trigger",
            disabled=True if refused else ScheduleState.awaiting_fire,
            id="schedule-trigger",
        ),
        edit_buttons(refused),
        confirm_delete(
            "schedule",
            "It fires no more. The runs it started stay.",
            ScheduleState.delete,
            refused,
        ),
        spacing="2",
        wrap="wrap",
    )


def schedule_page() -> rx.Component:
    row: Any = ScheduleState.schedule
    return shell(
        page_header(
            rx.text("Schedule ", rx.code(row.short_id, size="5", variant="ghost")),
            rx.hstack(
                rx.link(row.agent_name, href=f"/agents/{row.agent_id}"),
                rx.badge(row.version, variant="outline"),
                rx.code(row.spec, size="1", id="schedule-spec"),
                rx.text(row.timezone, size="2", color_scheme="gray"),
                align="center",
                wrap="wrap",
            ),
            refusable(ScheduleState.may_write, who_may(WRITER, "change a schedule"), _actions),
            breadcrumbs=crumbs(("Schedules", "/schedules"), (row.short_id, None)),
            badge=rx.cond(
                row.paused,
                rx.badge("paused", color_scheme="amber", id="schedule-state"),
                rx.badge("active", color_scheme="green", id="schedule-state"),
            ),
        ),
        error_callout(ScheduleState.error),
        open_panel(),
        when_loaded(
            ScheduleState,
            rx.vstack(
                rx.grid(
                    card(
                        section_title("Next fires"),
                        rx.cond(
                            ScheduleState.upcoming.length() > 0,
                            rx.vstack(
                                rx.foreach(
                                    ScheduleState.upcoming,
                                    lambda moment: rx.hstack(
                                        rx.icon("alarm-clock", size=14),
                                        rx.text(moment, size="2", class_name="fire-time"),
                                        align="center",
                                    ),
                                ),
                                spacing="2",
                                margin_top="8px",
                                id="fire-times",
                            ),
                            rx.text(
                                rx.cond(row.paused, "Paused: no fire is due.", "None due."),
                                size="2",
                                color_scheme="gray",
                                margin_top="8px",
                                id="fire-times-none",
                            ),
                        ),
                    ),
                    card(
                        section_title("What it runs"),
                        rx.data_list.root(
                            _fact("Fires so far", row.fires, id="schedule-fires"),
                            _fact("If a run still goes on", ScheduleState.overlap_label),
                            _fact("Catch-up window", ScheduleState.catchup),
                            _fact("Window", ScheduleState.window),
                            _fact("Created", row.created + " UTC by " + row.created_by),
                            _fact("Note", rx.cond(row.note != "", row.note, "—")),
                            margin_y="8px",
                        ),
                        rx.text("Input", size="1", color_scheme="gray"),
                        code_text(ScheduleState.input_text, max_height="160px"),
                        rx.text("Context", size="1", color_scheme="gray", margin_top="8px"),
                        code_text(ScheduleState.context_text, max_height="160px"),
                    ),
                    columns=by_width("1", "1fr 2fr"),
                    spacing="4",
                    width="100%",
                ),
                section_title(
                    "Runs",
                    busy_note(
                        ScheduleState.awaiting_fire,
                        "Waiting for the fire's run…",
                        id="awaiting-fire",
                    ),
                ),
                rx.cond(
                    ScheduleState.runs.length() > 0,
                    rx.box(run_rows(ScheduleState.runs), width="100%", id="schedule-runs"),
                    empty_state(
                        "circle-play",
                        "No runs yet",
                        "Each fire starts a run; “Trigger now” fires once at once.",
                    ),
                ),
                spacing="4",
                width="100%",
            ),
            "Loading the schedule…",
        ),
    )
