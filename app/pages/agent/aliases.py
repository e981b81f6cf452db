"""The agent's aliases (`prod`, `staging`) on its versions tab: where each points, its history,
"Roll back"; and on each version's row "Promote to prod", or to another alias, in one click.

Rolling back points the alias where its newest move took it from (a second roll back undoes
the first). Every move is the API's, audited there; this page reads the history back after each.
"""

from typing import Any

import reflex as rx

from app import api
from app.components import (
    card,
    confirm_delete,
    empty_state,
    field_error,
    labelled,
    refusable,
    section_title,
    table,
    toggle_button,
)
from app.pages.agent.state import AgentState
from app.state import Failure
from app.view import (
    PROMOTED,
    WRITER,
    AliasRow,
    MoveRow,
    VersionRow,
    rollback_targets,
    set_alias_body,
    who_may,
)
from client import AgentRuntimeClient, ApiError

NAME_RULE = "1 to 40 lowercase letters, digits, - or _, starting with a letter."


class AliasesState(AgentState):
    """What the aliases panel does: promote, roll back, delete, show one alias's history."""

    history_alias: rx.Field[str] = rx.field("")
    # "Promote to another alias…": the version and the alias it names.
    promote_open: rx.Field[bool] = rx.field(False)
    promote_number: rx.Field[int] = rx.field(0)
    promote_name: rx.Field[str] = rx.field("")
    promote_error: rx.Field[str] = rx.field("")
    # The alias being changed, while the API answers.
    moving: rx.Field[str] = rx.field("")

    @rx.var
    def shown_moves(self) -> list[MoveRow]:
        return [move for move in self.alias_moves if move.alias == self.history_alias]

    @rx.var
    def other_aliases(self) -> list[str]:
        """The aliases a version's menu offers beside the one-click `prod`."""
        return [row.name for row in self.aliases if row.name != PROMOTED]

    async def _move(self, name: str, change: Any, done: str) -> Any:
        """Run `change(client)` on alias `name`, then show the agent's aliases as they are now."""
        self.moving = name
        yield

        async def moved(client: AgentRuntimeClient) -> Any:
            await change(client)
            return await self._read_releases(client)

        releases = await self._attempt(moved)
        self.moving = ""
        yield self._outcome(releases, done, lambda found: self._show_releases(*found))

    @rx.event
    async def promote(self, number: int, name: str) -> Any:
        agent_id = self.agent_id

        async def change(client: AgentRuntimeClient) -> Any:
            return await self._api(client.set_alias, agent_id, name, number)

        async for update in self._move(name, change, f"{name} → v{number}"):
            yield update

    @rx.event
    async def roll_back(self, name: str) -> Any:
        agent_id = self.agent_id

        async def change(client: AgentRuntimeClient) -> Any:
            alias = await self._api(client.get_alias, agent_id, name)
            moves = await self._api(client.alias_history, agent_id, name)
            before = rollback_targets(alias, moves)
            if before:  # else it moved since this page read it: show it as it is
                await self._api(client.set_alias, agent_id, name, **set_alias_body(before))

        async for update in self._move(name, change, f"{name} rolled back."):
            yield update

    @rx.event
    async def delete_alias(self, name: str) -> Any:
        agent_id = self.agent_id

        async def change(client: AgentRuntimeClient) -> Any:
            return await self._api(client.delete_alias, agent_id, name)

        if self.history_alias == name:
            self.history_alias = ""
        async for update in self._move(name, change, f"{name} deleted."):
            yield update

    @rx.event
    def show_history(self, name: str) -> None:
        self.history_alias = "" if self.history_alias == name else name

    @rx.event
    def open_promote(self, number: int) -> None:
        self.promote_number, self.promote_name, self.promote_error = number, "", ""
        self.promote_open = True

    @rx.event
    def set_promote_open(self, value: bool) -> None:
        self.promote_open = value

    @rx.event
    def set_promote_name(self, value: str) -> None:
        self.promote_name = value.strip()

    @rx.event
    async def save_promote(self) -> Any:
        name, number, agent_id = self.promote_name, self.promote_number, self.agent_id
        if not name:
            self.promote_error = "Name the alias (for example staging)."
            return
        saved = await self._attempt(
            lambda client: self._api(client.set_alias, agent_id, name, number)
        )
        if isinstance(saved, Failure):
            named = isinstance(saved.cause, ApiError) and "name" in api.field_errors(saved.cause)
            self.promote_error = NAME_RULE if named else saved.message
            yield saved.redirect
            return
        self.promote_open = False
        async for update in self._move(name, _nothing, f"{name} → v{number}"):
            yield update


async def _nothing(_client: AgentRuntimeClient) -> None:
    """No change: only read the aliases again (the dialog already moved one)."""


def _rollback_button(alias: AliasRow, refused: bool) -> rx.Component:
    has_previous = alias.previous != ""
    return rx.button(
        rx.icon("undo-2", size=14),
        rx.cond(has_previous, "Roll back to " + alias.previous, "Roll back"),
        size="1",
        variant="soft",
        on_click=AliasesState.roll_back(alias.name),
        loading=AliasesState.moving == alias.name,
        disabled=True if refused else ~has_previous,
        title=rx.cond(has_previous, "Point it where it pointed before", "It has not moved yet"),
        class_name="alias-rollback",
    )


def _alias_row(alias: AliasRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.badge(alias.name, size="2", color_scheme="violet", class_name="alias")),
        rx.table.cell(rx.text(alias.targets, weight="medium", class_name="alias-targets")),
        rx.table.cell(rx.text(alias.updated_by, size="1", color_scheme="gray")),
        rx.table.cell(rx.text(alias.updated, size="1", color_scheme="gray")),
        rx.table.cell(
            rx.hstack(
                toggle_button(
                    "history",
                    "History",
                    AliasesState.history_alias == alias.name,
                    AliasesState.show_history(alias.name),
                    class_name="alias-history-toggle",
                ),
                refusable(
                    AliasesState.may_write,
                    who_may(WRITER, "roll back an alias"),
                    lambda refused: _rollback_button(alias, refused),
                ),
                refusable(
                    AliasesState.may_write,
                    who_may(WRITER, "delete an alias"),
                    lambda refused: confirm_delete(
                        "alias",
                        "Runs and schedules that name it are refused until it is set again. "
                        "Its history stays.",
                        AliasesState.delete_alias(alias.name),
                        refused,
                        in_row=True,
                        title=f"Delete {alias.name}?",
                    ),
                ),
                spacing="2",
                align="center",
                justify="end",
            ),
        ),
        align="center",
        class_name="alias-row",
        custom_attrs={"data-alias": alias.name},
    )


def _move_row(move: MoveRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(move.moved, size="1", color_scheme="gray")),
        rx.table.cell(rx.badge(move.kind, variant="outline", size="1")),
        rx.table.cell(rx.text(move.before, size="2", class_name="move-before")),
        rx.table.cell(rx.text(move.after, size="2", weight="medium", class_name="move-after")),
        rx.table.cell(rx.text(move.moved_by, size="1", color_scheme="gray")),
        align="center",
        class_name="alias-move",
    )


def aliases_panel() -> rx.Component:
    """The agent's aliases, and the history of the one chosen."""
    return rx.vstack(
        section_title("Aliases"),
        rx.cond(
            AliasesState.aliases.length() > 0,
            table(
                ["Alias", "Points at", "Moved by", "Moved (UTC)", ""],
                rx.table.body(rx.foreach(AliasesState.aliases, _alias_row)),
                id="aliases-table",
            ),
            rx.text(
                "No aliases yet. “Promote to prod” on a version names it prod; runs and "
                "schedules may then ask for prod instead of a number.",
                size="2",
                color_scheme="gray",
                id="no-aliases",
            ),
        ),
        rx.cond(
            AliasesState.history_alias != "",
            card(
                section_title(rx.text("History of ", rx.code(AliasesState.history_alias))),
                rx.cond(
                    AliasesState.shown_moves.length() > 0,
                    table(
                        ["When (UTC)", "", "From", "To", "By"],
                        rx.table.body(rx.foreach(AliasesState.shown_moves, _move_row)),
                        min_width="520px",
                    ),
                    empty_state("history", "No moves", "It has not moved yet."),
                ),
                id="alias-history",
            ),
        ),
        spacing="3",
        width="100%",
    )


def promote_cell(version: VersionRow) -> rx.Component:
    """`Promote to prod` (one click), and a menu for the other aliases or a new one."""
    named: Any = version.aliases  # a Var in the page: an array of names
    already = named.contains(PROMOTED)
    return refusable(
        AliasesState.may_write,
        who_may(WRITER, "promote a version"),
        lambda refused: rx.hstack(
            rx.button(
                rx.icon("rocket", size=14),
                f"Promote to {PROMOTED}",
                size="1",
                variant="soft",
                on_click=AliasesState.promote(version.number, PROMOTED),
                loading=AliasesState.moving == PROMOTED,
                disabled=True if refused else already,
                class_name="promote-prod",
            ),
            rx.menu.root(
                rx.menu.trigger(
                    rx.icon_button(
                        rx.icon("chevron-down", size=14),
                        size="1",
                        variant="soft",
                        disabled=refused,
                        aria_label="Promote to another alias",
                        class_name="promote-menu",
                    )
                ),
                rx.menu.content(
                    rx.foreach(
                        AliasesState.other_aliases,
                        lambda name: rx.menu.item(
                            "Promote to ",
                            name,
                            on_click=AliasesState.promote(version.number, name),
                            class_name="promote-to",
                        ),
                    ),
                    rx.cond(AliasesState.other_aliases.length() > 0, rx.menu.separator()),
                    rx.menu.item(
                        "Another alias…",
                        on_click=AliasesState.open_promote(version.number),
                        class_name="promote-other",
                    ),
                ),
            ),
            spacing="1",
            align="center",
        ),
    )


def promote_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Promote v", AliasesState.promote_number),
            rx.vstack(
                labelled(
                    "Alias",
                    rx.input(
                        value=AliasesState.promote_name,
                        on_change=AliasesState.set_promote_name,
                        placeholder="staging",
                        width="100%",
                        id="promote-alias-name",
                    ),
                    f"{NAME_RULE} It is created if it does not exist.",
                ),
                field_error(AliasesState.promote_error, id="promote-alias-error"),
                rx.hstack(
                    rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray")),
                    rx.button(
                        "Promote", on_click=AliasesState.save_promote, id="promote-alias-submit"
                    ),
                    justify="end",
                    width="100%",
                ),
                spacing="3",
                margin_top="12px",
            ),
            max_width="420px",
        ),
        open=AliasesState.promote_open,
        on_open_change=AliasesState.set_promote_open,
    )
