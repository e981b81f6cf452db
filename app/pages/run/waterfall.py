"""Where a run's time went: each step and each wait for a person as a bar from the run's start.

Drawn as plain rows (a label and a positioned bar on a track), not an SVG chart: a live run
redraws it on every event, and a 500-step run draws 500 rows, both cheaply in the browser.
"""

import reflex as rx

from app.components import card, section_title
from app.pages.run.state import RunState
from app.view import WaterfallBar

KIND_COLORS = (
    ("model", "model", rx.color("accent", 9)),
    ("tool", "tool", rx.color("grass", 9)),
    ("approval", "waiting for approval", rx.color("amber", 9)),
)
LABEL_COLUMN = "minmax(5rem, 12rem) 1fr"


def legend() -> rx.Component:
    return rx.hstack(
        *[
            rx.hstack(
                rx.box(width="10px", height="10px", border_radius="2px", background=color),
                rx.text(label, size="1"),
                align="center",
                spacing="1",
            )
            for _, label, color in KIND_COLORS
        ],
        spacing="3",
        wrap="wrap",
    )


def bar_row(bar: WaterfallBar) -> rx.Component:
    color = rx.match(bar.kind, *[(kind, value) for kind, _, value in KIND_COLORS], "gray")
    return rx.el.div(
        rx.text(bar.label, size="1", trim="both", class_name="waterfall-label", truncate=True),
        rx.el.div(
            rx.el.div(
                position="absolute",
                top="2px",
                bottom="2px",
                left=bar.left,
                width=bar.width,
                background=color,
                border_radius="2px",
            ),
            position="relative",
            overflow="hidden",
            height="16px",
            background=rx.color("gray", 3),
            border_radius="2px",
        ),
        title=bar.title,
        class_name="waterfall-bar",
        width="100%",
        display="grid",
        grid_template_columns=LABEL_COLUMN,
        gap="8px",
        align_items="center",
    )


def scale() -> rx.Component:
    return rx.el.div(
        rx.box(),
        rx.hstack(
            rx.text("0 s", size="1", color_scheme="gray"),
            rx.text(RunState.bars_span, size="1", color_scheme="gray", id="waterfall-span"),
            justify="between",
        ),
        width="100%",
        display="grid",
        grid_template_columns=LABEL_COLUMN,
        gap="8px",
    )


def waterfall_chart() -> rx.Component:
    return card(
        section_title("Where the time went", legend()),
        rx.cond(
            RunState.bars.length() > 0,
            rx.vstack(
                rx.scroll_area(
                    rx.vstack(rx.foreach(RunState.bars, bar_row), spacing="1", width="100%"),
                    type="auto",
                    scrollbars="vertical",
                    max_height="420px",
                ),
                scale(),
                spacing="2",
                width="100%",
            ),
            rx.text("No steps yet.", size="2", color_scheme="gray"),
        ),
        id="waterfall",
    )
