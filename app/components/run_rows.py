"""Runs as a table (id, agent, version, status, input, timing, usage): an agent's recent
runs and the tenant's runs page."""

from typing import Any

import reflex as rx

from app.components.widgets import status_badge, table
from app.view import RunRow


def run_rows(runs: Any, show_agent: bool = False) -> rx.Component:
    def row(run: RunRow) -> rx.Component:
        cells = [
            rx.table.cell(
                rx.link(
                    run.short_id,
                    href=f"/runs/{run.id}",
                    class_name="run-link",
                    size="2",
                    white_space="nowrap",
                )
            ),
        ]
        if show_agent:
            cells.append(
                rx.table.cell(rx.link(run.agent_name, href=f"/agents/{run.agent_id}", size="2"))
            )
        cells += [
            rx.table.cell(
                rx.hstack(
                    rx.badge(run.version, variant="outline"),
                    rx.cond(run.alias != "", rx.badge(run.alias, color_scheme="violet")),
                    spacing="1",
                )
            ),
            rx.table.cell(status_badge(run.status, class_name="run-status")),
            rx.table.cell(rx.text(run.input, size="2", trim="both")),
            rx.table.cell(rx.text(run.created, size="1", color_scheme="gray")),
            rx.table.cell(rx.text(run.duration, size="2")),
            rx.table.cell(rx.text(run.tokens, size="2")),
            rx.table.cell(rx.text(run.cost, size="2")),
        ]
        return rx.table.row(*cells, align="center")

    headers = ["Run", *(["Agent"] if show_agent else []), "Version", "Status", "Input"]
    return table(
        [*headers, "Created (UTC)", "Duration", "Tokens", "Cost"],
        rx.table.body(rx.foreach(runs, row)),
        # Wide enough for the input to read as a line or two, in a phone's sideways scroll.
        min_width="960px" if show_agent else "720px",
    )
