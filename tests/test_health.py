from pathlib import Path

from fastapi.testclient import TestClient

from backend.main import create_app
from tests.conftest import make_settings


def test_health_and_readiness_need_no_auth(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["database"] == "ok"


def test_readiness_reports_a_database_without_the_schema(tmp_path: Path) -> None:
    app = create_app(make_settings(f"sqlite:///{tmp_path / 'empty.db'}", tmp_path))
    with TestClient(app) as client:
        response = client.get("/readyz")
    assert response.status_code == 503
    assert "migrations pending" in response.json()["database"]


def test_readiness_reports_an_unreachable_database(tmp_path: Path) -> None:
    unreachable = "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2"
    app = create_app(make_settings(unreachable, tmp_path))
    with TestClient(app) as client:
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["database"].startswith("unreachable")
