"""With the durable engine unreachable, starting a run is a clear 503 and nothing is left queued."""

from pathlib import Path

import pytest

from backend.settings import Settings
from tests.conftest import make_settings
from tests.helpers import Api, agent_with, free_port, script


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return make_settings(database_url, tmp_path, TEMPORAL_ADDRESS=f"127.0.0.1:{free_port()}")


def test_a_run_that_cannot_start_fails_visibly(tenant_a: Api) -> None:
    agent_id = agent_with(tenant_a, script({"text": "never"}))
    response = tenant_a.post(f"/v1/agents/{agent_id}/runs", json={"input": "hi"})
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "engine_unavailable"
    (run,) = tenant_a.ok(tenant_a.get("/v1/runs"))["items"]
    assert run["status"] == "failed"
    assert run["error"]["code"] == "engine_unavailable"
