"""Engine and sessions, and the one mechanism that scopes every query to a tenant.

A session carries a scope in `session.info`. Every ORM SELECT, UPDATE and DELETE that touches a
tenant-owned table gets `tenant_id = <scope>` added by an event hook, and every new tenant-owned
row is stamped (or checked) at flush. A session without a scope refuses to touch tenant-owned
tables at all, so a forgotten scope is an error, never a leak.
"""

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import ORMExecuteState, with_loader_criteria
from sqlmodel import Session, create_engine

from core.models.common import TenantOwned

SCOPE_KEY = "tenant_scope"
SQLITE_BUSY_TIMEOUT_MS = 15_000


class UnscopedAccessError(RuntimeError):
    """A session without a tenant scope touched tenant-owned data."""


@dataclass(frozen=True)
class TenantScope:
    """Queries see only this tenant's rows."""

    tenant_id: str


@dataclass(frozen=True)
class AllTenants:
    """System work (authentication, bootstrap) that legitimately crosses tenants."""


Scope = TenantScope | AllTenants


def make_engine(database_url: str) -> Engine:
    if database_url.startswith("sqlite"):
        engine = create_engine(
            database_url,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
            json_serializer=storable_json,
        )
        event.listen(engine, "connect", _configure_sqlite)
        return engine
    return create_engine(database_url, pool_pre_ping=True, json_serializer=storable_json)


def storable_json(value: Any) -> str:
    """JSON for a JSON column. What a model or a tool returns may hold NUL characters, which
    Postgres cannot store: they become U+FFFD (on SQLite too, so both answer alike) instead of
    failing the step. The API refuses NUL in what callers send before it gets here."""
    text = json.dumps(value)
    return json.dumps(_without_nul(value)) if "\\u0000" in text else text


def _without_nul(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, dict):
        return {_without_nul(key): _without_nul(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_without_nul(item) for item in value]
    return value


def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets the API and workers read while one writes; the busy timeout makes writers
    # wait for each other instead of failing with "database is locked".
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def set_scope(session: Session, scope: Scope) -> None:
    session.info[SCOPE_KEY] = scope


def get_scope(session: Session) -> Scope | None:
    return session.info.get(SCOPE_KEY)


@contextmanager
def scoped_session(engine: Engine, scope: Scope) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as session:
        set_scope(session, scope)
        yield session


def _touches_tenant_data(state: ORMExecuteState) -> bool:
    return any(issubclass(mapper.class_, TenantOwned) for mapper in state.all_mappers)


@event.listens_for(Session, "do_orm_execute")
def _scope_statement(state: ORMExecuteState) -> None:
    if not (state.is_select or state.is_update or state.is_delete):
        return
    if state.is_column_load or state.is_relationship_load:
        return  # the parent row was already loaded under the scope
    if not _touches_tenant_data(state):
        return
    scope = get_scope(state.session)  # type: ignore[arg-type]
    if scope is None:
        raise UnscopedAccessError("query on tenant-owned data from a session without a scope")
    if isinstance(scope, AllTenants):
        return
    state.statement = state.statement.options(*_tenant_criteria(scope.tenant_id))


@lru_cache(maxsize=4096)
def _tenant_criteria(tenant_id: str) -> tuple[Any, ...]:
    """The WHERE tenant_id = ... rules for every tenant-owned table, built once per tenant."""
    return tuple(
        with_loader_criteria(model, model.tenant_id == tenant_id, include_aliases=True)
        for model in _tenant_owned_models()
    )


@lru_cache(maxsize=1)
def _tenant_owned_models() -> tuple[type[Any], ...]:
    """Every mapped table class that carries a tenant id."""
    found: list[type[Any]] = []
    pending: list[type[Any]] = [TenantOwned]
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if cls is not TenantOwned and hasattr(cls, "__table__") and cls not in found:
            found.append(cls)
    return tuple(found)


@event.listens_for(Session, "before_flush")
def _stamp_new_rows(session: Session, _context: Any, _instances: Any) -> None:
    scope = get_scope(session)
    for obj in list(session.new) + list(session.dirty):
        if not isinstance(obj, TenantOwned):
            continue
        if scope is None:
            raise UnscopedAccessError("write of tenant-owned data from a session without a scope")
        if isinstance(scope, AllTenants):
            if obj.tenant_id is None:
                raise UnscopedAccessError("a system write must name the row's tenant")
            continue
        if obj.tenant_id is None:
            obj.tenant_id = scope.tenant_id
        elif obj.tenant_id != scope.tenant_id:
            raise UnscopedAccessError("write of another tenant's row")
