"""Reading one row by id in the session's scope: a row the caller may not see is a 404."""

from typing import TypeVar

from sqlmodel import Session, SQLModel

from backend.errors import not_found

RowT = TypeVar("RowT", bound=SQLModel)


def get_or_404(session: Session, model: type[RowT], row_id: str, kind: str) -> RowT:
    row = session.get(model, row_id)
    if row is None:
        raise not_found(kind, row_id)
    return row
