"""A schedule's Pause button, Unpause while it is paused: on its own page and on each row of the
schedules list."""

from collections.abc import Callable
from typing import Any

import reflex as rx


def pause_toggle(
    paused: Any,
    refused: bool,
    on_pause: Any,
    on_unpause: Any,
    busy: Callable[[str], Any],
    mark: str = "id",
    **props: Any,
) -> rx.Component:
    """Unpause where the schedule is `paused`, else Pause; `busy(action)` is whether that action
    is on its way. `mark` names each button `schedule-pause` or `schedule-unpause` (an `id` on
    the schedule's page, a `class_name` on the list's rows); `props` (a size) go to both."""

    def button(icon: str, label: str, action: str, on_click: Any, **style: Any) -> rx.Component:
        return rx.button(
            rx.icon(icon, size=14),
            label,
            variant="soft",
            on_click=on_click,
            loading=busy(action),
            disabled=refused,
            **{mark: f"schedule-{action}"},
            **style,
            **props,
        )

    return rx.cond(
        paused,
        button("play", "Unpause", "unpause", on_unpause),
        button("pause", "Pause", "pause", on_pause, color_scheme="gray"),
    )
