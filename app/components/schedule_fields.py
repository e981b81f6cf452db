"""A schedule form's "When": cron or every so often, with the fields' errors under them; for the
form that creates a schedule and the one that edits it.

The form's state holds `<prefix>_mode`, `_cron`, `_every`, `_unit` and `_errors` (by the API's
field names), with a `set_<prefix>_…` handler for each of the first four.
"""

from typing import Any

import reflex as rx

from app.components.forms import field_error, labelled
from app.view import CRON, INTERVAL, INTERVAL_UNITS

CRON_HINT = "Minute, hour, day of month, month, day of week: 0 9 * * 1-5 is 09:00 on weekdays."


def timing_fields(state: Any, prefix: str, ids: str) -> rx.Component:
    """The "When" fields of `state`'s `prefix` form; control ids start with `ids`
    (`#<ids>-cron`, `#<ids>-every`, `#<ids>-unit`, `#<ids>-interval-error`)."""

    def value(name: str) -> Any:
        return getattr(state, f"{prefix}_{name}")

    def setter(name: str) -> Any:
        return getattr(state, f"set_{prefix}_{name}")

    errors = value("errors")
    return rx.vstack(
        rx.segmented_control.root(
            rx.segmented_control.item("Cron", value=CRON),
            rx.segmented_control.item("Every…", value=INTERVAL),
            value=value("mode"),
            on_change=setter("mode"),
            id=f"{ids}-mode",
        ),
        rx.cond(
            value("mode") == CRON,
            labelled(
                "",
                rx.input(
                    value=value("cron"),
                    on_change=setter("cron"),
                    placeholder="0 9 * * 1-5",
                    font_family="var(--code-font-family)",
                    width="100%",
                    id=f"{ids}-cron",
                ),
                CRON_HINT,
            ),
            rx.hstack(
                rx.input(
                    value=value("every"),
                    on_change=setter("every"),
                    type="number",
                    min="1",
                    width="110px",
                    id=f"{ids}-every",
                ),
                rx.select(
                    list(INTERVAL_UNITS),
                    value=value("unit"),
                    on_change=setter("unit"),
                    id=f"{ids}-unit",
                ),
                align="center",
            ),
        ),
        field_error(errors.get("cron", ""), id=f"{ids}-cron-error"),
        field_error(errors.get("interval_seconds", ""), id=f"{ids}-interval-error"),
        spacing="2",
        width="100%",
    )
