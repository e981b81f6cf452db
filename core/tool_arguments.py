"""Checking a tool call's arguments against the tool's JSON schema.

One rule for both planes: the API checks the arguments a reviewer edits on approval (a 422 per
field), the worker checks what a model chose (a tool error the model reads).
"""

from dataclasses import dataclass
from typing import Any

from jsonschema import Draft202012Validator


@dataclass(frozen=True)
class ArgumentError:
    path: tuple[str, ...]  # into the arguments; empty for the arguments as a whole
    message: str


def argument_errors(schema: dict[str, Any], arguments: Any) -> list[ArgumentError]:
    """Every way `arguments` breaks `schema`, in the order of their paths."""
    errors = sorted(Draft202012Validator(schema).iter_errors(arguments), key=lambda e: list(e.path))
    return [ArgumentError(tuple(map(str, error.path)), error.message) for error in errors]
