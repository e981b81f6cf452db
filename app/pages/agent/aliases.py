"""The agent's aliases (`prod`, `staging`) on its versions tab: where each points, its history,
"Roll back"; and on each version's row "Promote to prod", or to another alias, in one click,
or split an alias's traffic between that version and a candidate (`v3 90% · v4 10%`).

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
    candidate_weight,
    rollback_targets,
    set_alias_body,
    split_targets,
    targets_text,
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
    # "Split traffic": the candidate version (`v4`) and its share in percent; the rest stays on
    # the dialog's version.
    promote_split: rx.Field[bool] = rx.field(False)
    promote_candidate: rx.Field[str] = rx.field("")
    promote_weight: rx.Field[str] = rx.field("10")
    promote_split_error: rx.Field[str] = rx.field("")
    # The alias being changed, while the API answers.
    moving: rx.Field[str] = rx.field("")

    @rx.var
    def shown_moves(self) -> list[MoveRow]:
        return [move for move in self.alias_moves if move.alias == self.history_alias]

    @rx.var
    def candidate_choices(self) -> list[str]:
        """The versions a split may send a share to: all but the dialog's own."""
        return [f"v{row.number}" for row in self.versions if row.number != self.promote_number]

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
    def open_promote(self, number: int, split: bool = False) -> None:
        self.promote_number, self.promote_error, self.promote_split_error = number, "", ""
        # A split is most often of prod: a candidate beside what serves now.
        self.promote_name = PROMOTED if split else ""
        self.promote_split, self.promote_weight = split, "10"
        self.promote_candidate = next(
            (f"v{row.number}" for row in self.versions if row.number != number), ""
        )
        self.promote_open = True

    @rx.event
    def set_promote_split(self, value: bool) -> None:
        self.promote_split, self.promote_split_error = value, ""

    @rx.event
    def set_promote_candidate(self, value: str) -> None:
        self.promote_candidate = value

    @rx.event
    def set_promote_weight(self, value: str) -> None:
        self.promote_weight = value

    def _promote_body(self) -> dict[str, Any] | None:
        """The dialog as `set_alias`'s arguments; None (its error shown) when it is not one."""
        number = self.promote_number
        if not self.promote_split:
            return {"version": number}
        candidate = self.promote_candidate.removeprefix("v")
        weight = candidate_weight(self.promote_weight)
        if not candidate.isdigit() or int(candidate) == number:
            self.promote_split_error = "Choose the candidate version."
        elif weight is None:
            self.promote_split_error = "The candidate's share: a whole number from 1 to 99."
        else:
            return {"versions": split_targets(number, int(candidate), weight)}
        return None

    @rx.event
    def set_promote_open(self, value: bool) -> None:
        self.promote_open = value

    @rx.event
    def set_promote_name(self, value: str) -> None:
        self.promote_name = value.strip()

    @rx.event
    async def save_promote(self) -> Any:
        name, agent_id = self.promote_name, self.agent_id
        self.promote_error, self.promote_split_error = "", ""
        body = self._promote_body()
        if not name:
            self.promote_error = "Name the alias (for example staging)."
        if not name or body is None:
            return
        saved = await self._attempt(
            lambda client: self._api(client.set_alias, agent_id, name, **body)
        )
        if isinstance(saved, Failure):
            errors = api.field_errors(saved.cause) if isinstance(saved.cause, ApiError) else {}
            if "name" in errors:
                self.promote_error = NAME_RULE
            elif self.promote_split and any(field.startswith("versions") for field in errors):
                self.promote_split_error = saved.message
            else:
                self.promote_error = saved.message
            yield saved.redirect
            return
        self.promote_open = False
        done = f"{name} → {targets_text(saved.get('versions'))}"
        async for update in self._move(name, _nothing, done):
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
                        on_click=AliasesState.open_promote(version.number, False),
                        class_name="promote-other",
                    ),
                    rx.menu.item(
                        "Split traffic…",
                        on_click=AliasesState.open_promote(version.number, True),
                        class_name="promote-split",
                    ),
                ),
            ),
            spacing="1",
            align="center",
        ),
    )
