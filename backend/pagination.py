"""Cursor pagination: the cursor is the opaque sort key of the last item served."""

import base64
import json
from collections.abc import Callable, Sequence
from typing import Annotated, Any, Generic, TypeVar, cast

from fastapi import Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import ColumnElement
from sqlalchemy.orm import Mapped
from sqlmodel import Session
from sqlmodel.sql.expression import SelectOfScalar

from backend.errors import invalid
from core.models.limits import DB_INT_MAX

# Sort keys are ids, names and numbers: a longer cursor is none this API issued.
MAX_CURSOR_CHARS = 400
DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE = 50, 200

ItemT = TypeVar("ItemT")
RowT = TypeVar("RowT")


PAGE_HELP = "One page of a list; pass `next_cursor` as `?cursor=` for the next."


class Page(BaseModel, Generic[ItemT]):
    # Set through the config: a parametrized page (`Page[RunPublic]`) has no docstring of its own.
    model_config = ConfigDict(json_schema_extra={"description": PAGE_HELP})

    items: list[ItemT] = Field(description="This page's items, in the list's order.")
    next_cursor: str | None = Field(
        default=None, description="The cursor of the next page; null on the last."
    )


class PageParams(BaseModel):
    limit: int
    cursor: str | None


def page_params(
    limit: Annotated[
        int, Query(ge=1, le=MAX_PAGE_SIZE, description="Items per page.")
    ] = DEFAULT_PAGE_SIZE,
    cursor: Annotated[
        str | None,
        Query(max_length=MAX_CURSOR_CHARS, description="`next_cursor` of the previous page."),
    ] = None,
) -> PageParams:
    return PageParams(limit=limit, cursor=cursor)


def encode_cursor(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, kind: type[int] | type[str]) -> int | str:
    """The sort key a cursor holds; anything but a key of the expected kind is a 422."""
    try:
        value = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, UnicodeDecodeError, RecursionError):
        value = None
    # `type(...) is`: a boolean is no number here.
    if kind is int and type(value) is int and -DB_INT_MAX <= value <= DB_INT_MAX:
        return int(value)
    if kind is str and type(value) is str and _storable(value):
        return str(value)
    raise invalid("cursor", "query", "not a cursor this API issued", kind="cursor_invalid")


def _storable(text: str) -> bool:
    """No NUL and no unpaired surrogate: what every database can compare."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return "\x00" not in text


def paginate(
    session: Session,
    statement: SelectOfScalar[RowT],
    key: Mapped[Any],
    params: PageParams,
    to_public: Callable[[RowT], ItemT],
    key_of: Callable[[RowT], Any],
    descending: bool = True,
) -> Page[ItemT]:
    if params.cursor is not None:
        column = cast(ColumnElement[Any], key)
        after = decode_cursor(params.cursor, int if column.type.python_type is int else str)
        statement = statement.where(key < after if descending else key > after)
    statement = statement.order_by(key.desc() if descending else key.asc()).limit(params.limit + 1)
    rows: Sequence[RowT] = session.exec(statement).all()
    more = len(rows) > params.limit
    rows = rows[: params.limit]
    return Page[ItemT](
        items=[to_public(row) for row in rows],
        next_cursor=encode_cursor(key_of(rows[-1])) if more and rows else None,
    )
