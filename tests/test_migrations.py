"""Alembic alone makes the schema: up and down on empty databases, matching the models."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlmodel import SQLModel

from core.db import make_engine
from core.migrate import downgrade, upgrade
from tests.conftest import fresh_postgres_database, require_postgres

TABLES = {
    "event_stream_lease",
    *("tenant", "api_key", "agent", "agent_version"),
    *("run", "run_step", "approval", "artifact", "run_event", "trace_outbox"),
}


@contextmanager
def empty_database(kind: str, tmp_path: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrations.db'}"
        return
    require_postgres()
    with fresh_postgres_database() as url:
        yield url


def table_names(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_upgrade_to_head_and_downgrade_to_base(kind: str, tmp_path: Path) -> None:
    with empty_database(kind, tmp_path) as url:
        assert table_names(url) == set()
        upgrade(url)
        assert table_names(url) == TABLES | {"alembic_version"}
        downgrade(url, "base")
        assert table_names(url) == {"alembic_version"}
        upgrade(url)  # and up again, as after a rollback
        assert table_names(url) >= TABLES


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_migrations_match_the_models(kind: str, tmp_path: Path) -> None:
    with empty_database(kind, tmp_path) as url:
        upgrade(url)
        engine = make_engine(url)
        try:
            with engine.connect() as connection:
                context = MigrationContext.configure(connection, opts={"compare_type": True})
                differences = compare_metadata(context, SQLModel.metadata)
        finally:
            engine.dispose()
    assert differences == []
