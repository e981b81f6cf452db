"""Cursor pagination: the cursor is the opaque sort key of the last item served."""

import base64
import json
from collections.abc import Callable, Sequence
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel
from sqlalchemy.orm import Mapped
from sqlmodel import Session
from sqlmodel.sql.expression import SelectOfScalar

from backend.errors import invalid

ItemT = TypeVar("ItemT")
RowT = TypeVar("RowT")


class Page(BaseModel, Generic[ItemT]):
    items: list[ItemT]
    next_cursor: str | None = None


class PageParams(BaseModel):
    limit: int
    cursor: str | None


def page_params(
    limit: Annotated[int, Query(ge=1, le=200, description="Items per page.")] = 50,
    cursor: Annotated[str | None, Query(description="`next_cursor` of the previous page.")] = None,
) -> PageParams:
    return PageParams(limit=limit, cursor=cursor)


def encode_cursor(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> Any:
    try:
        return json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, UnicodeDecodeError):
        raise invalid("cursor", "query", "not a cursor this API issued") from None


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
        after = decode_cursor(params.cursor)
        statement = statement.where(key < after if descending else key > after)
    statement = statement.order_by(key.desc() if descending else key.asc()).limit(params.limit + 1)
    rows: Sequence[RowT] = session.exec(statement).all()
    more = len(rows) > params.limit
    rows = rows[: params.limit]
    return Page[ItemT](
        items=[to_public(row) for row in rows],
        next_cursor=encode_cursor(key_of(rows[-1])) if more and rows else None,
    )
