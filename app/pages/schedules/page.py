"""Schedules: runs an agent is given by cron or interval, in a time zone. The list (when each
fires next, paused or not, how often it fired), the form that creates one, and each row's
pause, trigger now and delete; a schedule's own page has its fire times and runs."""

from typing import Any

import reflex as rx

from app.components import (
    by_width,
    confirm_delete,
    empty_state,
    error_callout,
    labelled,
    new_form,
    open_form_button,
    page_header,
    pause_toggle,
    refusable,
    shell,
    table,
    timing_fields,
    when_loaded,
    with_error,
)
from app.pages.schedules.state import SchedulesState
from app.view import WRITER, ScheduleRow, who_may


def _error(name: str) -> Any:
    return SchedulesState.new_errors.get(name, "")  # type: ignore[attr-defined]


def schedule_form() -> rx.Component:
    return new_form(
        SchedulesState,
        "schedule",
        "calendar-plus",
        rx.grid(
            labelled(
                "Agent",
                with_error(
                    rx.select(
                        SchedulesState.agent_labels,
                        value=SchedulesState.new_agent_label,
                        on_change=SchedulesState.set_new_agent_label,
                        placeholder="Choose an agent",
                        width="100%",
                        id="new-schedule-agent",
                    ),
                    _error("agent"),
                ),
            ),
            labelled(
                "Version",
                with_error(
                    rx.select(
                        SchedulesState.new_version_choices,
                        value=SchedulesState.new_version,
                        on_change=SchedulesState.set_new_version,
                        width="100%",
                        id="new-schedule-version",
                    ),
                    _error("version"),
                ),
                "Resolved at each fire: an alias follows its moves.",
            ),
            columns=by_width("1", "2"),
            spacing="3",
            width="100%",
        ),
        labelled(
            "Input",
            with_error(
                rx.text_area(
                    value=SchedulesState.new_input,
                    on_change=SchedulesState.set_new_input,
                    placeholder="What each run is asked, e.g. Summarize yesterday's tickets.",
                    rows="3",
                    width="100%",
                    id="new-schedule-input",
                ),
                _error("input"),
            ),
        ),
        labelled(
            "Context (optional)",
            with_error(
                rx.text_area(
                    value=SchedulesState.new_context,
                    on_change=SchedulesState.set_new_context,
                    placeholder='{"team": "support"}',
                    font_family="var(--code-font-family)",
                    font_size="12px",
                    rows="2",
                    width="100%",
                    id="new-schedule-context",
                ),
                _error("context"),
            ),
        ),
        rx.grid(
            labelled("When", timing_fields(SchedulesState, "new", "new-schedule")),
            rx.vstack(
                labelled(
                    "Time zone",
                    with_error(
                        rx.input(
                            value=SchedulesState.new_timezone,
                            on_change=SchedulesState.set_new_timezone,
                            placeholder="UTC",
                            width="100%",
                            id="new-schedule-timezone",
                        ),
                        _error("timezone"),
                        id="new-schedule-timezone-error",
                    ),
                    "An IANA name: UTC, Europe/Paris, America/New_York…",
                ),
                labelled(
                    "If the previous run still goes on",
                    rx.select(
                        SchedulesState.overlap_labels,
                        value=SchedulesState.new_overlap_label,
                        on_change=SchedulesState.set_new_overlap_label,
                        width="100%",
                        id="new-schedule-overlap",
                    ),
                ),
                spacing="3",
                width="100%",
            ),
            columns=by_width("1", "2"),
            spacing="3",
            width="100%",
        ),
        labelled(
            "Note (optional)",
            rx.input(
                value=SchedulesState.new_note,
                on_change=SchedulesState.set_new_note,
                width="100%",
                id="new-schedule-note",
            ),
        ),
    )


def _row_actions(row: ScheduleRow) -> rx.Component:
    def busy(action: str) -> Any:
        return SchedulesState.busy == row.id + ":" + action

    return refusable(
        SchedulesState.may_write,
        who_may(WRITER, "change a schedule"),
        lambda refused: rx.hstack(
            pause_toggle(
                row.paused,
                refused,
                SchedulesState.pause(row.id),
                SchedulesState.unpause(row.id),
                busy,
                mark="class_name",
                size="1",
            ),
            rx.button(
                rx.icon("zap", size=14),
                "Trigger now",
                size="1",
                variant="soft",
                on_click=SchedulesState.trigger(row.id),
                loading=busy("trigger"),
                disabled=refused,
                class_name="schedule-trigger",
            ),
            confirm_delete(
                "schedule",
                "It fires no more. The runs it started stay.",
                SchedulesState.delete(row.id),
                refused,
                in_row=True,
            ),
            spacing="2",
            align="center",
        ),
    )


def schedule_table() -> rx.Component:
    def row(schedule: ScheduleRow) -> rx.Component:
        return rx.table.row(
            rx.table.cell(
                rx.vstack(
                    rx.link(
                        schedule.short_id,
                        href=f"/schedules/{schedule.id}",
                        size="2",
                        class_name="schedule-link",
                    ),
                    rx.cond(
                        schedule.note != "",
                        rx.text(schedule.note, size="1", color_scheme="gray", trim="both"),
                    ),
                    spacing="0",
                )
            ),
            rx.table.cell(rx.link(schedule.agent_name, href=f"/agents/{schedule.agent_id}")),
            rx.table.cell(rx.badge(schedule.version, variant="outline")),
            rx.table.cell(
                rx.vstack(
                    rx.code(schedule.spec, size="1", class_name="schedule-spec"),
                    rx.text(schedule.timezone, size="1", color_scheme="gray"),
                    spacing="1",
                )
            ),
            rx.table.cell(rx.text(schedule.next_fire, size="2", class_name="schedule-next")),
            rx.table.cell(
                rx.cond(
                    schedule.paused,
                    rx.badge("paused", color_scheme="amber", class_name="schedule-state"),
                    rx.badge("active", color_scheme="green", class_name="schedule-state"),
                )
            ),
            rx.table.cell(rx.text(schedule.fires, size="2", class_name="schedule-fires")),
            rx.table.cell(_row_actions(schedule)),
            align="center",
            class_name="schedule-row",
            custom_attrs={"data-schedule": schedule.id},
        )

    return table(
        ["Schedule", "Agent", "Version", "When", "Next fire", "State", "Fires", ""],
        rx.table.body(rx.foreach(SchedulesState.schedules, row)),
        min_width="1080px",
        id="schedules-table",
    )


def schedules_page() -> rx.Component:
    return shell(
        page_header(
            "Schedules",
            "Runs started by cron or interval: each fire is a normal run, listed with its "
            "schedule.",
            open_form_button(
                SchedulesState,
                "New schedule",
                who_may(WRITER, "create a schedule"),
                id="new-schedule",
            ),
        ),
        rx.hstack(
            rx.select(
                SchedulesState.agent_filter_choices,
                value=SchedulesState.agent_filter_label,
                on_change=SchedulesState.set_agent_filter_label,
                id="schedules-agent-filter",
            ),
            width="100%",
        ),
        error_callout(SchedulesState.error),
        rx.cond(SchedulesState.form_open, schedule_form()),
        when_loaded(
            SchedulesState,
            rx.cond(
                SchedulesState.schedules.length() > 0,
                rx.box(schedule_table(), width="100%"),
                empty_state(
                    "calendar-clock",
                    "No schedules",
                    "A schedule runs an agent by cron (09:00 on weekdays) or every so "
                    "often, in the time zone you pick.",
                ),
            ),
            "Loading schedules…",
        ),
    )
