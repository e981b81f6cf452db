"""With the durable engine unreachable, a run is accepted and waits `queued`; its key stays good."""

from pathlib import Path

import pytest

from backend.settings import Settings
from tests.conftest import make_settings
from tests.helpers import Api, agent_with, free_port, script


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return make_settings(database_url, tmp_path, TEMPORAL_ADDRESS=f"127.0.0.1:{free_port()}")


def test_a_run_waits_queued_while_the_engine_is_down(tenant_a: Api) -> None:
    agent_id = agent_with(tenant_a, script({"text": "later"}))
    key = {"Idempotency-Key": "while-the-engine-is-down"}
    accepted = tenant_a.post(f"/v1/agents/{agent_id}/runs", json={"input": "hi"}, headers=key)
    assert accepted.status_code == 202, accepted.text
    run = accepted.json()
    assert (run["status"], run["error"]) == ("queued", None)
    # A retry with the same key is the same run, still waiting: the key is not spent.
    again = tenant_a.post(f"/v1/agents/{agent_id}/runs", json={"input": "hi"}, headers=key)
    assert again.status_code == 200
    assert (again.json()["id"], again.json()["status"]) == (run["id"], "queued")
    (listed,) = tenant_a.ok(tenant_a.get("/v1/runs"))["items"]
    assert (listed["id"], listed["status"]) == (run["id"], "queued")
