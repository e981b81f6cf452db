"""Where a run's time went: each step and each wait for a person as a bar from the run's start."""

from typing import Any

import reflex as rx

from app.components import card, section_title
from app.pages.run.state import RunState


def waterfall_chart() -> rx.Component:
    return card(
        section_title(
            "Where the time went",
            rx.hstack(
                *[
                    rx.hstack(
                        rx.box(width="10px", height="10px", border_radius="2px", background=color),
                        rx.text(label, size="1"),
                        align="center",
                        spacing="1",
                    )
                    for label, color in (
                        ("model", rx.color("accent", 9)),
                        ("tool", rx.color("grass", 9)),
                        ("waiting for approval", rx.color("amber", 9)),
                    )
                ],
                spacing="3",
            ),
        ),
        rx.cond(
            RunState.bars.length() > 0,
            rx.recharts.bar_chart(
                rx.recharts.cartesian_grid(stroke_dasharray="3 3", horizontal=False),
                rx.recharts.x_axis(type_="number", unit=" s", tick={"fontSize": 11}),
                rx.recharts.y_axis(
                    data_key="label", type_="category", width=150, tick={"fontSize": 11}
                ),
                rx.recharts.graphing_tooltip(),
                rx.recharts.bar(
                    data_key="offset",
                    stack_id="t",
                    fill="transparent",
                    name="starts at (s)",
                    is_animation_active=False,
                ),
                rx.recharts.bar(
                    data_key="model",
                    stack_id="t",
                    fill=rx.color("accent", 9),
                    name="model (s)",
                    is_animation_active=False,
                ),
                rx.recharts.bar(
                    data_key="tool",
                    stack_id="t",
                    fill=rx.color("grass", 9),
                    name="tool (s)",
                    is_animation_active=False,
                ),
                rx.recharts.bar(
                    data_key="approval",
                    stack_id="t",
                    fill=rx.color("amber", 9),
                    name="approval wait (s)",
                    is_animation_active=False,
                ),
                data=RunState.bars.to(list[dict[str, Any]]),
                layout="vertical",
                height=RunState.chart_height,
                width="100%",
                bar_category_gap=4,
            ),
            rx.text("No steps yet.", size="2", color_scheme="gray"),
        ),
        id="waterfall",
    )
