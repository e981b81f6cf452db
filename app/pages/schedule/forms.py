"""The schedule page's "Edit" and "Backfill" forms, each a card under the header, its fields'
errors under them."""

from typing import Any

import reflex as rx

from app.components import (
    by_width,
    card,
    error_callout,
    form_actions,
    labelled,
    section_title,
    timing_fields,
    with_error,
)
from app.pages.schedule.edit import ScheduleEditState

State = ScheduleEditState


def _edit_error(name: str) -> Any:
    return State.edit_errors.get(name, "")  # type: ignore[attr-defined]


def _backfill_error(name: str) -> Any:
    return State.backfill_errors.get(name, "")  # type: ignore[attr-defined]


def edit_form() -> rx.Component:
    return card(
        rx.vstack(
            section_title("Edit schedule"),
            rx.grid(
                labelled(
                    "Version",
                    with_error(
                        rx.select(
                            State.edit_version_choices,
                            value=State.edit_version,
                            on_change=State.set_edit_version,
                            width="100%",
                            id="edit-schedule-version",
                        ),
                        _edit_error("version"),
                        id="edit-schedule-version-error",
                    ),
                    "Resolved at each fire: an alias follows its moves.",
                ),
                labelled(
                    "If the previous run still goes on",
                    rx.select(
                        State.overlap_labels,
                        value=State.edit_overlap_label,
                        on_change=State.set_edit_overlap_label,
                        width="100%",
                        id="edit-schedule-overlap",
                    ),
                ),
                columns=by_width("1", "2"),
                spacing="3",
                width="100%",
            ),
            labelled(
                "Input",
                with_error(
                    rx.text_area(
                        value=State.edit_input,
                        on_change=State.set_edit_input,
                        rows="3",
                        width="100%",
                        id="edit-schedule-input",
                    ),
                    _edit_error("input"),
                    id="edit-schedule-input-error",
                ),
            ),
            rx.grid(
                labelled("When", timing_fields(State, "edit", "edit-schedule")),
                labelled(
                    "Time zone",
                    with_error(
                        rx.input(
                            value=State.edit_timezone,
                            on_change=State.set_edit_timezone,
                            placeholder="UTC",
                            width="100%",
                            id="edit-schedule-timezone",
                        ),
                        _edit_error("timezone"),
                        id="edit-schedule-timezone-error",
                    ),
                    "An IANA name: UTC, Europe/Paris, America/New_York…",
                ),
                columns=by_width("1", "2"),
                spacing="3",
                width="100%",
            ),
            rx.text(
                "Runs already made keep their settings. Pause and unpause have their own button.",
                size="1",
                color_scheme="gray",
            ),
            error_callout(State.edit_error, id="edit-schedule-error"),
            form_actions(
                State.close_panel,
                rx.button(
                    rx.icon("save", size=14),
                    "Save",
                    on_click=State.save_edit,
                    loading=State.saving,
                    id="save-schedule",
                ),
            ),
            spacing="3",
            width="100%",
        ),
        id="schedule-edit-form",
    )


def _moment(label: str, value: Any, on_change: Any, name: str) -> rx.Component:
    return labelled(
        label,
        with_error(
            rx.input(
                value=value,
                on_change=on_change,
                type="datetime-local",
                width="100%",
                id=f"backfill-{name}",
            ),
            _backfill_error(name),
            id=f"backfill-{name}-error",
        ),
    )


def backfill_form() -> rx.Component:
    return card(
        rx.vstack(
            section_title("Backfill"),
            rx.text(
                "The fires due in a past range (both ends included), taken now as if their "
                "times were passing. Times already fired make no new runs.",
                size="2",
                color_scheme="gray",
            ),
            rx.grid(
                _moment("From (UTC)", State.backfill_start, State.set_backfill_start, "start"),
                _moment("To (UTC)", State.backfill_end, State.set_backfill_end, "end"),
                columns=by_width("1", "2"),
                spacing="3",
                width="100%",
            ),
            error_callout(State.backfill_error, id="backfill-error"),
            form_actions(
                State.close_panel,
                rx.button(
                    rx.icon("history", size=14),
                    "Backfill",
                    on_click=State.backfill,
                    loading=State.backfilling,
                    id="backfill-submit",
                ),
            ),
            spacing="3",
            width="100%",
        ),
        id="schedule-backfill-form",
    )


def edit_buttons(refused: bool) -> rx.Component:
    """The header's "Edit" and "Backfill" (each opens its form)."""
    return rx.fragment(
        rx.button(
            rx.icon("pencil", size=14),
            "Edit",
            variant="soft",
            on_click=State.open_edit,
            disabled=True if refused else State.panel == "edit",
            id="schedule-edit",
        ),
        rx.button(
            rx.icon("history", size=14),
            "Backfill",
            variant="soft",
            on_click=State.open_backfill,
            disabled=True if refused else State.panel == "backfill",
            id="schedule-backfill",
        ),
    )


def open_panel() -> rx.Component:
    return rx.match(
        State.panel,
        ("edit", edit_form()),
        ("backfill", backfill_form()),
        rx.fragment(),
    )
