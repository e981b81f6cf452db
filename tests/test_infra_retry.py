"""What counts as an outage (retried inside the step) and what is the step's own failure."""

import asyncio
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import SQLAlchemyError

from core.objectstore import FilesystemStore, ObjectStoreError
from tests.helpers import free_port
from worker.infra_retry import is_infrastructure_error, retry_infrastructure


def failure_of(url: str, statement: str, **connect_args: object) -> SQLAlchemyError:
    engine = create_engine(url, connect_args=connect_args)
    try:
        with engine.connect() as connection:
            connection.execute(text(statement))
    except SQLAlchemyError as error:
        return error
    finally:
        engine.dispose()
    raise AssertionError(f"{statement} succeeded")


def test_an_unreachable_postgres_is_an_outage() -> None:
    url = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/postgres"
    assert is_infrastructure_error(failure_of(url, "SELECT 1", connect_timeout=2))


def test_a_locked_sqlite_database_is_an_outage_and_a_missing_table_is_not(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE t (x INTEGER)")
    holder.execute("BEGIN EXCLUSIVE")
    try:
        locked = failure_of(f"sqlite:///{path}", "SELECT * FROM t", timeout=0)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert is_infrastructure_error(locked)
    assert not is_infrastructure_error(failure_of(f"sqlite:///{path}", "SELECT * FROM nowhere"))


def test_an_unusable_object_store_is_an_outage_and_a_missing_object_is_not(tmp_path: Path) -> None:
    store = FilesystemStore(tmp_path / "objects")
    store.ensure_ready()
    with pytest.raises(ObjectStoreError) as missing:
        store.get("tenants/t/none.json")
    assert not is_infrastructure_error(missing.value)
    assert is_infrastructure_error(ObjectStoreError("cannot reach S3 to write"))
    assert not is_infrastructure_error(ValueError("a step's own failure"))


def test_the_operation_runs_again_until_the_database_is_free(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE t (x INTEGER)")
    holder.execute("BEGIN EXCLUSIVE")  # another writer holds the database
    engine = create_engine(f"sqlite:///{path}", connect_args={"timeout": 0})
    tries: list[int] = []

    async def write() -> int:
        tries.append(1)
        if len(tries) == 3:
            holder.execute("ROLLBACK")  # the other writer lets go
        with engine.begin() as connection:
            connection.execute(text("INSERT INTO t VALUES (1)"))
            return int(connection.execute(text("SELECT count(*) FROM t")).scalar_one())

    try:
        assert asyncio.run(retry_infrastructure(write, "the database")) == 1
    finally:
        holder.close()
        engine.dispose()
    assert len(tries) == 3


def test_a_step_s_own_failure_is_not_retried(tmp_path: Path) -> None:
    tries: list[int] = []

    async def query() -> None:
        tries.append(1)
        raise failure_of(f"sqlite:///{tmp_path / 'db.sqlite'}", "SELECT * FROM nowhere")

    with pytest.raises(SQLAlchemyError, match="no such table"):
        asyncio.run(retry_infrastructure(query, "the database"))
    assert len(tries) == 1
