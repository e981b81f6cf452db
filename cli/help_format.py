"""How `--help` shows options: a flag as a flag (`--build-only`, `--no-x`), a value by its metavar.

Typer's rich help puts each option's type in a column, `<bool>` for a flag too, although a
flag takes no value. It shows an option's metavar there instead when one is set, so every flag
gets an empty one; options that take a value declare theirs (`--version N`, `--url URL`).
"""

from typing import Any

from typer.core import TyperCommand, TyperGroup, TyperOption


def _shown_as_flags(params: list[Any]) -> list[Any]:
    for param in params:
        if isinstance(param, TyperOption) and param.is_flag and param.metavar is None:
            param.metavar = ""
    return params


class Command(TyperCommand):
    """A command whose help shows its flags (`--help` among them) without a type."""

    def get_params(self, ctx: Any) -> list[Any]:
        return _shown_as_flags(super().get_params(ctx))


class Group(TyperGroup):
    """A group of commands whose own help shows its flags without a type."""

    def get_params(self, ctx: Any) -> list[Any]:
        return _shown_as_flags(super().get_params(ctx))
