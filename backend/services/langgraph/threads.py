"""Threads for LangGraph clients: our threads, created, changed, searched and counted in
LangGraph's terms (a time to live in minutes, `if_exists: raise | do_nothing`, offset pages)."""

import math
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from backend.errors import invalid
from backend.services import threads as ours
from backend.services.langgraph.models import (
    NewThread,
    ThreadCount,
    ThreadPatch,
    ThreadSearch,
    Ttl,
)
from core.models import Thread, ThreadStatus
from core.models import ThreadCreate as OurThreadCreate
from core.models import ThreadUpdate as OurThreadUpdate

SORT_COLUMNS = {
    "thread_id": col(Thread.id),
    "created_at": col(Thread.created_at),
    "updated_at": col(Thread.updated_at),
}


def _seconds(ttl: Ttl | None) -> int | None:
    return None if ttl is None else max(1, math.ceil(ttl.ttl * 60))


def create(
    session: Session, body: NewThread, created_by: str, created_by_name: str | None
) -> Thread:
    if body.supersteps:
        raise invalid("supersteps", "body", "not supported: a thread's state comes from its runs")
    ours_body = OurThreadCreate(
        thread_id=body.thread_id,
        metadata=body.metadata or {},
        ttl_seconds=_seconds(body.ttl),
        if_exists="return" if body.if_exists == "do_nothing" else "reject",
    )
    thread, _created = ours.create_thread(session, ours_body, created_by, created_by_name)
    return thread


def patch(session: Session, thread_id: str, body: ThreadPatch) -> Thread:
    change: dict[str, Any] = {}
    if body.metadata is not None:
        change["metadata"] = body.metadata
    if body.ttl is not None:
        change["ttl_seconds"] = _seconds(body.ttl)
    return ours.update_thread(session, thread_id, OurThreadUpdate(**change))


def _filtered(statement: Any, metadata: dict[str, Any] | None, status: str | None) -> Any:
    for key, value in (metadata or {}).items():
        if not isinstance(value, str):
            raise invalid(f"metadata.{key}", "body", "threads are found by string values")
        statement = statement.where(col(Thread.meta)[key].as_string() == value)
    if status is not None:
        statement = statement.where(ours.status_is(ThreadStatus(status)))
    return statement


def search(session: Session, body: ThreadSearch) -> list[Thread]:
    if body.values:
        raise invalid("values", "body", "not supported: search by metadata, status or ids")
    statement = _filtered(select(Thread), body.metadata, body.status)
    if body.ids is not None:
        statement = statement.where(col(Thread.id).in_(body.ids))
    if body.sort_by == "status":
        raise invalid("sort_by", "body", "threads sort by thread_id, created_at or updated_at")
    column = SORT_COLUMNS[body.sort_by or "created_at"]
    order = column.asc() if body.sort_order == "asc" else column.desc()
    statement = statement.order_by(order, col(Thread.id)).offset(body.offset).limit(body.limit)
    return list(session.exec(statement))


def count(session: Session, tenant_id: str, body: ThreadCount) -> int:
    # An aggregate names no entity, so the session's tenant scope cannot add itself: said here.
    counted = select(func.count()).select_from(Thread).where(col(Thread.tenant_id) == tenant_id)
    statement = _filtered(counted, body.metadata, body.status)
    return int(session.exec(statement).one())
