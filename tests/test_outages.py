"""A dependency outage answers 503 in the error shape with Retry-After, from every endpoint; any
other failure answers 500 in the error shape. Real outages: nothing listens, the database is gone.
"""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from backend.main import create_app
from backend.security import generate_key
from backend.services.bootstrap import ensure_admin_key
from backend.settings import Settings
from core.migrate import upgrade
from tests.conftest import (
    POSTGRES_ADMIN_URL,
    fresh_postgres_database,
    make_settings,
    require_postgres,
)
from tests.helpers import Api, agent_with, free_port, scripted_config

# Every kind of endpoint: reads, writes, the auth dependency alone, lists with paging.
ENDPOINTS: list[tuple[str, str, dict[str, Any] | None]] = [
    ("GET", "/v1/agents", None),
    ("POST", "/v1/agents", {"name": "bot"}),
    ("GET", "/v1/agents/agt_x/versions/1", None),
    ("POST", "/v1/agents/agt_x/runs", {"input": "hi"}),
    ("GET", "/v1/runs/run_x/steps", None),
    ("POST", "/v1/runs/run_x/cancel", None),
    ("GET", "/v1/approvals", None),
    ("GET", "/v1/tenants", None),
    ("GET", "/metrics", None),
]


def assert_unavailable(response: Any, code: str) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/json"
    assert int(response.headers["retry-after"]) > 0
    error = response.json()["error"]
    assert (error["code"], set(error)) == (f"{code}_unavailable", {"code", "message", "details"})


def test_a_database_nobody_listens_on_answers_503_everywhere(tmp_path: Path) -> None:
    nowhere = f"postgresql+psycopg://nobody@127.0.0.1:{free_port()}/none?connect_timeout=2"
    app = create_app(make_settings(nowhere, tmp_path))
    token = {"Authorization": f"Bearer {generate_key().key}"}
    with TestClient(app) as client:
        for method, url, body in ENDPOINTS:
            assert_unavailable(client.request(method, url, json=body, headers=token), "database")
        assert client.get("/readyz").status_code == 503
        # Without a key nothing needs the database: still a 401.
        assert client.get("/v1/agents").status_code == 401


@pytest.fixture
def doomed_database() -> Iterator[str]:
    require_postgres()
    with fresh_postgres_database() as url:
        upgrade(url)
        yield url


def test_a_dropped_database_answers_503_and_recovers_nothing_half_done(
    doomed_database: str, tmp_path: Path
) -> None:
    settings = make_settings(doomed_database, tmp_path)
    app = create_app(settings)
    with TestClient(app) as client:
        admin = Api(client, ensure_admin_key(app.state.engine, settings.admin_key_file))
        tenant = admin.new_tenant_admin("acme")
        agent_id = agent_with(tenant, scripted_config())
        name = doomed_database.rsplit("/", 1)[1]
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        for method, url, body in [
            *ENDPOINTS,
            ("GET", f"/v1/agents/{agent_id}", None),
            ("POST", f"/v1/agents/{agent_id}/runs", {"input": "hi"}),
        ]:
            assert_unavailable(tenant.request(method, url, json=body), "database")
        assert client.get("/readyz").status_code == 503
        app.state.engine.dispose()


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """The `app` and `client` fixtures, with a Redis nobody listens on."""
    return make_settings(database_url, tmp_path, REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")


def test_with_redis_down_the_api_keeps_answering_from_the_database(tenant_a: Api) -> None:
    agent_id = agent_with(tenant_a, scripted_config())
    run = tenant_a.ok(tenant_a.post(f"/v1/agents/{agent_id}/runs", json={"input": "hi"}), 202)
    assert tenant_a.ok(tenant_a.get(f"/v1/runs/{run['id']}"))["status"] == "queued"
    cancelled = tenant_a.post(f"/v1/runs/{run['id']}/cancel")
    assert cancelled.status_code in (202, 503), cancelled.text
    if cancelled.status_code == 503:  # the engine, not Redis, is what it may wait for
        assert_unavailable(cancelled, "engine")
    assert tenant_a.ok(tenant_a.get("/v1/runs"))["items"][0]["id"] == run["id"]


def test_an_unexpected_failure_answers_500_in_the_error_shape(tmp_path: Path) -> None:
    app = create_app(make_settings(f"sqlite:///{tmp_path / 'app.db'}", tmp_path))

    def broken() -> None:
        raise RuntimeError("a bug")

    app.add_api_route("/broken", broken)
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/broken")
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/json"
    assert response.json()["error"]["code"] == "internal_error"
    assert "a bug" not in response.text
