"""Alembic alone makes the schema: up and down on empty databases, matching the models."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlmodel import Session, SQLModel

from core.db import AllTenants, make_engine, set_scope
from core.migrate import downgrade, upgrade
from core.models import Agent, AgentPublic
from tests.conftest import fresh_postgres_database, require_postgres

TABLES = {
    "event_stream_lease",
    *("tenant", "api_key", "agent", "agent_version"),
    *("run", "run_step", "approval", "artifact", "run_event", "trace_outbox", "thread"),
    *("agent_alias", "agent_alias_move", "schedule", "webhook", "webhook_delivery"),
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


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_rows_from_before_names_were_recorded_keep_and_show_a_name(
    kind: str, tmp_path: Path
) -> None:
    """0005 adds the actors' names beside their subjects: rows written before keep theirs,
    served as the subject's part after its colon; the way down drops only the names."""
    now = datetime.now(UTC)
    with empty_database(kind, tmp_path) as url:
        upgrade(url, "0004")
        engine = make_engine(url)
        try:
            with engine.begin() as connection:
                connection.execute(
                    text("INSERT INTO tenant (id, name, created_at) VALUES ('ten_1', 'acme', :at)"),
                    {"at": now},
                )
                connection.execute(
                    text(
                        "INSERT INTO agent (id, tenant_id, name, description, archived, "
                        "created_by, created_at, updated_at) VALUES ('agt_1', 'ten_1', 'bot', "
                        "'', false, 'key:ci-bot', :at, :at)"
                    ),
                    {"at": now},
                )
            upgrade(url)
            with Session(engine) as session:
                set_scope(session, AllTenants())
                agent = session.get(Agent, "agt_1")
                assert agent is not None
                assert (agent.created_by, agent.created_by_name) == ("key:ci-bot", None)
                assert AgentPublic.model_validate(agent).created_by_name == "ci-bot"
            downgrade(url, "0004")
            columns = {column["name"] for column in inspect(engine).get_columns("agent")}
            assert "created_by" in columns
            assert "created_by_name" not in columns
            with engine.connect() as connection:
                kept = connection.execute(text("SELECT created_by FROM agent")).scalars().all()
            assert kept == ["key:ci-bot"]
        finally:
            engine.dispose()
