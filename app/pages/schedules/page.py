"""Schedules: runs an agent is given by cron or interval, in a time zone. The list (when each
fires next, paused or not, how often it fired), the form that creates one, and each row's
pause, trigger now and delete; a schedule's own page has its fire times and runs."""

from typing import Any

import reflex as rx

from app.components import (
    by_width,
    card,
    empty_state,
    error_callout,
    field_error,
    labelled,
    loading,
    page_header,
    refusable,
    section_title,
    shell,
    table,
)
from app.pages.schedules.state import CRON, INTERVAL, SchedulesState
from app.view import WRITER, ScheduleRow, who_may


def _error(name: str) -> Any:
    return SchedulesState.new_errors.get(name, "")  # type: ignore[attr-defined]


def _when_fields() -> rx.Component:
    return rx.vstack(
        rx.segmented_control.root(
            rx.segmented_control.item("Cron", value=CRON),
            rx.segmented_control.item("Every…", value=INTERVAL),
            value=SchedulesState.new_mode,
            on_change=SchedulesState.set_new_mode,
            id="new-schedule-mode",
        ),
        rx.cond(
            SchedulesState.new_mode == CRON,
            labelled(
                "",
                rx.input(
                    value=SchedulesState.new_cron,
                    on_change=SchedulesState.set_new_cron,
                    placeholder="0 9 * * 1-5",
                    font_family="var(--code-font-family)",
                    width="100%",
                    id="new-schedule-cron",
                ),
                "Minute, hour, day of month, month, day of week: 0 9 * * 1-5 is 09:00 on weekdays.",
            ),
            rx.hstack(
                rx.input(
                    value=SchedulesState.new_every,
                    on_change=SchedulesState.set_new_every,
                    type="number",
                    min="1",
                    width="110px",
                    id="new-schedule-every",
                ),
                rx.select(
                    SchedulesState.unit_choices,
                    value=SchedulesState.new_unit,
                    on_change=SchedulesState.set_new_unit,
                    id="new-schedule-unit",
                ),
                align="center",
            ),
        ),
        field_error(_error("cron"), id="new-schedule-cron-error"),
        field_error(_error("interval_seconds"), id="new-schedule-interval-error"),
        spacing="2",
        width="100%",
    )


def schedule_form() -> rx.Component:
    return card(
        rx.vstack(
            section_title("New schedule"),
            rx.grid(
                labelled(
                    "Agent",
                    rx.vstack(
                        rx.select(
                            SchedulesState.agent_labels,
                            value=SchedulesState.new_agent_label,
                            on_change=SchedulesState.set_new_agent_label,
                            placeholder="Choose an agent",
                            width="100%",
                            id="new-schedule-agent",
                        ),
                        field_error(_error("agent")),
                        spacing="1",
                        width="100%",
                    ),
                ),
                labelled(
                    "Version",
                    rx.vstack(
                        rx.select(
                            SchedulesState.new_version_choices,
                            value=SchedulesState.new_version,
                            on_change=SchedulesState.set_new_version,
                            width="100%",
                            id="new-schedule-version",
                        ),
                        field_error(_error("version")),
                        spacing="1",
                        width="100%",
                    ),
                    "Resolved at each fire: an alias follows its moves.",
                ),
                columns=by_width("1", "2"),
                spacing="3",
                width="100%",
            ),
            labelled(
                "Input",
                rx.vstack(
                    rx.text_area(
                        value=SchedulesState.new_input,
                        on_change=SchedulesState.set_new_input,
                        placeholder="What each run is asked, e.g. Summarize yesterday's tickets.",
                        rows="3",
                        width="100%",
                        id="new-schedule-input",
                    ),
                    field_error(_error("input")),
                    spacing="1",
                    width="100%",
                ),
            ),
            labelled(
                "Context (optional)",
                rx.vstack(
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
                    field_error(_error("context")),
                    spacing="1",
                    width="100%",
                ),
            ),
            rx.grid(
                labelled("When", _when_fields()),
                rx.vstack(
                    labelled(
                        "Time zone",
                        rx.vstack(
                            rx.input(
                                value=SchedulesState.new_timezone,
                                on_change=SchedulesState.set_new_timezone,
                                placeholder="UTC",
                                width="100%",
                                id="new-schedule-timezone",
                            ),
                            field_error(_error("timezone"), id="new-schedule-timezone-error"),
                            spacing="1",
                            width="100%",
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
            error_callout(SchedulesState.new_error, id="new-schedule-error"),
            rx.hstack(
                rx.button(
                    "Cancel",
                    variant="soft",
                    color_scheme="gray",
                    on_click=SchedulesState.set_form_open(False),
                ),
                rx.button(
                    rx.icon("calendar-plus", size=14),
                    "Create schedule",
                    on_click=SchedulesState.create,
                    loading=SchedulesState.creating,
                    id="create-schedule",
                ),
                justify="end",
                width="100%",
            ),
            spacing="3",
            width="100%",
        ),
        id="schedule-form",
    )


def _row_actions(row: ScheduleRow) -> rx.Component:
    def busy(action: str) -> Any:
        return SchedulesState.busy == row.id + ":" + action

    return refusable(
        SchedulesState.may_write,
        who_may(WRITER, "change a schedule"),
        lambda refused: rx.hstack(
            rx.cond(
                row.paused,
                rx.button(
                    rx.icon("play", size=14),
                    "Unpause",
                    size="1",
                    variant="soft",
                    on_click=SchedulesState.unpause(row.id),
                    loading=busy("unpause"),
                    disabled=refused,
                    class_name="schedule-unpause",
                ),
                rx.button(
                    rx.icon("pause", size=14),
                    "Pause",
                    size="1",
                    variant="soft",
                    color_scheme="gray",
                    on_click=SchedulesState.pause(row.id),
                    loading=busy("pause"),
                    disabled=refused,
                    class_name="schedule-pause",
                ),
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
            rx.alert_dialog.root(
                rx.alert_dialog.trigger(
                    rx.icon_button(
                        rx.icon("trash-2", size=14),
                        size="1",
                        variant="soft",
                        color_scheme="red",
                        disabled=refused,
                        aria_label="Delete the schedule",
                        class_name="schedule-delete",
                    )
                ),
                rx.alert_dialog.content(
                    rx.alert_dialog.title("Delete this schedule?"),
                    rx.alert_dialog.description("It fires no more. The runs it started stay."),
                    rx.hstack(
                        rx.alert_dialog.cancel(
                            rx.button("Keep it", variant="soft", color_scheme="gray")
                        ),
                        rx.alert_dialog.action(
                            rx.button(
                                "Delete",
                                color_scheme="red",
                                on_click=SchedulesState.delete(row.id),
                                class_name="schedule-delete-confirm",
                            )
                        ),
                        justify="end",
                        margin_top="16px",
                    ),
                ),
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
            refusable(
                SchedulesState.may_write,
                who_may(WRITER, "create a schedule"),
                lambda refused: rx.button(
                    rx.icon("plus", size=16),
                    "New schedule",
                    on_click=SchedulesState.set_form_open(True),
                    disabled=True if refused else SchedulesState.form_open,
                    id="new-schedule",
                ),
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
        rx.cond(
            ~SchedulesState.loaded,
            loading("Loading schedules…"),
            rx.cond(
                SchedulesState.failed,
                rx.fragment(),
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
            ),
        ),
    )
