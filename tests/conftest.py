"""Fixtures: every API test runs on SQLite and again on a fresh Postgres database."""

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlmodel import SQLModel

import core.models  # noqa: F401  (registers the tables)
from backend.main import create_app
from backend.services.bootstrap import ensure_admin_key
from backend.settings import Settings
from core.migrate import upgrade
from tests.helpers import Api
from tests.s3_server import S3Server, running_seaweedfs
from tests.stack import running_temporal, running_worker

POSTGRES_ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
IN_CI = os.environ.get("CI", "").lower() == "true"


def postgres_available() -> bool:
    try:
        with psycopg.connect(POSTGRES_ADMIN_URL, connect_timeout=3):
            return True
    except psycopg.OperationalError:
        return False


def require_postgres() -> None:
    """In CI a missing Postgres fails the run; on a laptop without one, it skips."""
    if postgres_available():
        return
    message = f"Postgres is not reachable at {POSTGRES_ADMIN_URL}"
    if IN_CI:
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@contextmanager
def fresh_postgres_database() -> Iterator[str]:
    """A new, empty database for this run; dropped afterwards."""
    name = f"agent_runtime_test_{secrets.token_hex(6)}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'test.db'}"
        upgrade(url)
        yield url
        return
    require_postgres()
    with fresh_postgres_database() as url:
        upgrade(url)
        yield url


def make_settings(database_url: str, data_dir: Path, **extra: object) -> Settings:
    values: dict[str, object] = {"DATABASE_URL": database_url, "AGENT_RUNTIME_DATA_DIR": data_dir}
    values.update(extra)
    return Settings(**values)  # type: ignore[arg-type]


def empty_all_tables(app: FastAPI) -> None:
    with app.state.engine.begin() as connection:
        for table in reversed(SQLModel.metadata.sorted_tables):
            connection.execute(text(f'DELETE FROM "{table.name}"'))


@pytest.fixture(scope="session")
def temporal_address(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One real Temporal dev server for the session, as `agent-runtime dev` starts it."""
    with running_temporal(tmp_path_factory.mktemp("temporal")) as address:
        yield address


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """One real S3 server (SeaweedFS) for the session."""
    with running_seaweedfs(tmp_path_factory.mktemp("s3")) as server:
        yield server


@pytest.fixture(scope="session")
def engine_env(
    database_url: str, temporal_address: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, str]]:
    """A worker process on this database; its own task queue keeps databases apart."""
    env = {
        "DATABASE_URL": database_url,
        "TEMPORAL_ADDRESS": temporal_address,
        "AGENT_RUNTIME_TASK_QUEUE": f"runs-{secrets.token_hex(4)}",
        "AGENT_RUNTIME_DATA_DIR": str(tmp_path_factory.mktemp("worker")),
        # Tests' tool endpoints listen on loopback.
        "TOOL_ALLOW_PRIVATE_NETWORKS": "true",
        # Tests start MCP servers over stdio.
        "MCP_ALLOW_STDIO": "true",
    }
    log = tmp_path_factory.mktemp("worker-log") / "worker.log"
    with running_worker(env, log):
        yield env


@pytest.fixture
def settings(database_url: str, tmp_path: Path, request: pytest.FixtureRequest) -> Settings:
    return settings_for_test(database_url, tmp_path, request)


def settings_for_test(
    database_url: str, tmp_path: Path, request: pytest.FixtureRequest, **without_engine: object
) -> Settings:
    """Tests that run agents ask for `engine_env`; the others never start an engine (and get
    `without_engine` on top)."""
    if "engine_env" in request.fixturenames:
        env = request.getfixturevalue("engine_env")
        return make_settings(
            database_url,
            Path(env["AGENT_RUNTIME_DATA_DIR"]),  # the worker's: one filesystem object store
            TEMPORAL_ADDRESS=env["TEMPORAL_ADDRESS"],
            AGENT_RUNTIME_TASK_QUEUE=env["AGENT_RUNTIME_TASK_QUEUE"],
            RUN_STEPS_PER_EXECUTION=6,
        )
    return make_settings(database_url, tmp_path, **without_engine)


@pytest.fixture
def app(settings: Settings) -> Iterator[FastAPI]:
    application = create_app(settings)
    yield application
    empty_all_tables(application)
    application.state.engine.dispose()


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def admin(app: FastAPI, client: TestClient, settings: Settings) -> Api:
    """The platform admin, as `agent-runtime dev` bootstraps it."""
    return Api(client, ensure_admin_key(app.state.engine, settings.admin_key_file))


@pytest.fixture
def tenant_a(admin: Api) -> Api:
    return admin.new_tenant_admin("tenant-a")


@pytest.fixture
def tenant_b(admin: Api) -> Api:
    return admin.new_tenant_admin("tenant-b")
