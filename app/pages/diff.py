"""Two versions of an agent side by side: their configurations as aligned JSON lines, the words
that changed highlighted, unchanged lines hidden on request."""

from typing import Any

import reflex as rx

from app.components import crumbs, empty_state, error_callout, loading, page_header, shell
from app.state import Failure, PageState, SessionState, path_part
from app.view import plural
from app.view.agents import DiffPart, DiffRow, changes_only, diff_rows
from client import AgentRuntimeClient


class DiffState(PageState, SessionState):
    agent_id: rx.Field[str] = rx.field("")
    agent_name: rx.Field[str] = rx.field("")
    numbers: rx.Field[list[str]] = rx.field(default_factory=list)
    left: rx.Field[str] = rx.field("")
    right: rx.Field[str] = rx.field("")
    rows: rx.Field[list[DiffRow]] = rx.field(default_factory=list)
    changes: rx.Field[int] = rx.field(0)
    only_changes: rx.Field[bool] = rx.field(False)
    hidden: rx.Field[int] = rx.field(0)
    _versions: rx.Field[dict[str, dict[str, Any]]] = rx.field(default_factory=dict)

    @rx.event
    async def load(self) -> Any:
        self.agent_id = path_part(self.router.url.path, 1)
        self._start_loading()
        yield

        async def read(
            client: AgentRuntimeClient,
        ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
            agent = await self._api(client.get_agent, self.agent_id)
            versions = await self._api(client.list_versions, self.agent_id)
            return agent, versions

        found = await self._load(read)
        if isinstance(found, Failure):
            yield found.redirect
            return
        agent, versions = found
        self.agent_name = agent["name"]
        self._versions = {str(v["number"]): v for v in versions}
        self.numbers = sorted(self._versions, key=int)
        query = self.router.url.query_parameters
        right = query.get("right") or (self.numbers[-1] if self.numbers else "")
        default_left = str(int(right) - 1) if right.isdigit() and int(right) > 1 else ""
        left = query.get("left") or default_left or (self.numbers[0] if self.numbers else "")
        self.left, self.right = left, right
        self._compare()
        self.loaded = True

    def _compare(self) -> None:
        a, b = self._versions.get(self.left), self._versions.get(self.right)
        rows = diff_rows(a, b) if a and b else []
        self.changes = sum(1 for row in rows if row.kind != "equal")
        self.hidden = len(rows) - self.changes if self.only_changes else 0
        self.rows = changes_only(rows) if self.only_changes else rows

    @rx.var
    def summary(self) -> str:
        changed = plural(self.changes, "changed line")
        return f"{changed}; {self.hidden} unchanged hidden" if self.only_changes else changed

    @rx.event
    def set_only_changes(self, value: bool) -> None:
        self.only_changes = value
        self._compare()

    @rx.event
    def set_left(self, value: str) -> None:
        self.left = value
        self._compare()

    @rx.event
    def set_right(self, value: str) -> None:
        self.right = value
        self._compare()


def _parts(parts: list[DiffPart], colour: str) -> rx.Component:
    return rx.foreach(
        parts,
        lambda part: rx.cond(
            part.changed,
            rx.el.mark(
                part.text,
                style={
                    "background": rx.color(colour, 6),
                    "color": "inherit",
                    "border_radius": "2px",
                },
                class_name="diff-word",
            ),
            rx.el.span(part.text),
        ),
    )


def diff_line(row: DiffRow) -> rx.Component:
    left_bg = rx.match(
        row.kind, ("removed", rx.color("red", 3)), ("changed", rx.color("amber", 3)), "transparent"
    )
    right_bg = rx.match(
        row.kind, ("added", rx.color("green", 3)), ("changed", rx.color("amber", 3)), "transparent"
    )
    number = {
        "color": rx.color("gray", 9),
        "width": "36px",
        "text_align": "right",
        "padding": "0 8px",
    }
    text = {"white_space": "pre-wrap", "word_break": "break-word", "padding": "0 8px"}
    return rx.cond(
        row.kind == "skipped",
        rx.el.tr(
            rx.el.td(
                row.left,
                col_span=4,
                style={**text, "color": rx.color("gray", 10), "background": rx.color("gray", 3)},
            ),
            class_name="diff-skipped",
        ),
        rx.el.tr(
            rx.el.td(row.left_number, style=number),
            rx.el.td(_parts(row.left_parts, "red"), style={**text, "background": left_bg}),
            rx.el.td(
                row.right_number,
                style={**number, "border_left": f"1px solid {rx.color('gray', 5)}"},
            ),
            rx.el.td(_parts(row.right_parts, "green"), style={**text, "background": right_bg}),
            class_name=f"diff-{row.kind}",
        ),
    )


def diff_page() -> rx.Component:
    base = f"/agents/{DiffState.agent_id}"
    return shell(
        page_header(
            "Compare versions",
            rx.text(DiffState.summary, id="diff-summary"),
            breadcrumbs=crumbs(
                ("Agents", "/agents"),
                (DiffState.agent_name, base),
                ("Compare", None),
            ),
        ),
        error_callout(DiffState.error),
        rx.cond(
            ~DiffState.loaded,
            loading(),
            rx.cond(
                DiffState.failed,
                rx.fragment(),
                rx.cond(
                    DiffState.numbers.length() > 0,
                    rx.vstack(
                        rx.hstack(
                            rx.hstack(
                                rx.text("Left", weight="medium", size="2"),
                                rx.select(
                                    DiffState.numbers,
                                    value=DiffState.left,
                                    on_change=DiffState.set_left,
                                    id="diff-left",
                                ),
                                align="center",
                            ),
                            rx.icon("arrow-right", size=16),
                            rx.hstack(
                                rx.text("Right", weight="medium", size="2"),
                                rx.select(
                                    DiffState.numbers,
                                    value=DiffState.right,
                                    on_change=DiffState.set_right,
                                    id="diff-right",
                                ),
                                align="center",
                            ),
                            rx.el.label(
                                rx.flex(
                                    rx.switch(
                                        checked=DiffState.only_changes,
                                        on_change=DiffState.set_only_changes,
                                        id="diff-changes-only",
                                    ),
                                    rx.text("Changes only", size="2"),
                                    spacing="2",
                                    align="center",
                                ),
                            ),
                            align="center",
                            spacing="4",
                            wrap="wrap",
                        ),
                        rx.box(
                            rx.el.table(
                                rx.el.colgroup(
                                    rx.el.col(style={"width": "44px"}),
                                    rx.el.col(),
                                    rx.el.col(style={"width": "44px"}),
                                    rx.el.col(),
                                ),
                                rx.el.tbody(rx.foreach(DiffState.rows, diff_line)),
                                style={
                                    "width": "100%",
                                    "border_collapse": "collapse",
                                    "font_family": "var(--code-font-family)",
                                    "font_size": "12px",
                                    "line_height": "1.6",
                                    "table_layout": "fixed",
                                    # Two columns of JSON stay readable on a phone: the box
                                    # scrolls sideways.
                                    "min_width": "640px",
                                },
                            ),
                            width="100%",
                            border=f"1px solid {rx.color('gray', 5)}",
                            border_radius="8px",
                            overflow_x="auto",
                            background=rx.color("gray", 1),
                            id="diff-table",
                        ),
                        spacing="4",
                        width="100%",
                    ),
                    empty_state("git-compare", "No versions to compare", "Publish two versions."),
                ),
            ),
        ),
    )
