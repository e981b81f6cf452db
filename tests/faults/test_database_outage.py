"""The database away for a while, mid-step: the run is delayed, never failed, and no step runs
twice. Postgres is a cluster of the test's own, stopped and started under a real worker and API."""

import secrets
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from backend.services.bootstrap import ensure_admin_key
from backend.settings import Settings
from core.db import make_engine
from core.migrate import upgrade
from tests.faults.postgres_cluster import PostgresCluster, postgres_cluster
from tests.helpers import Api, agent_with, free_port, run_agent, script, steps_of, wait_for_run
from tests.private_engine import Engine
from tests.stack import start_api, stop_process
from tests.tool_endpoint import ToolEndpoint, running_tool_endpoint

TICKET_SCHEMA = {
    "type": "object",
    "properties": {"title": {"type": "string"}},
    "required": ["title"],
}


@dataclass
class Stack:
    cluster: PostgresCluster
    endpoint: ToolEndpoint
    tenant: Api

    def outage(self, seconds: float) -> None:
        """Postgres down for `seconds`, then back, whatever happens meanwhile."""
        self.cluster.stop()
        try:
            time.sleep(seconds)
        finally:
            self.cluster.start()

    def ticket_tool(self) -> dict[str, Any]:
        # A POST the target cannot deduplicate: a second attempt would not send it again.
        return {
            "type": "http",
            "name": "create_ticket",
            "url": f"{self.endpoint.base_url}/slow",
            "method": "POST",
            "parameters": TICKET_SCHEMA,
        }


@pytest.fixture(scope="module")
def stack(temporal_address: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    directory = tmp_path_factory.mktemp("database-outage")
    with postgres_cluster() as cluster, running_tool_endpoint() as endpoint:
        upgrade(cluster.url)
        engine = Engine(cluster.url, temporal_address, directory)
        api_env = {**engine.env, "AGENT_RUNTIME_DATA_DIR": str(directory / "api")}
        api_port = free_port()
        api: subprocess.Popen[bytes] | None = None
        database = make_engine(cluster.url)
        try:
            engine.start_worker()
            api = start_api(api_env, api_port, directory / "api.log")
            settings = Settings(**api_env)  # type: ignore[arg-type]
            admin_key = ensure_admin_key(database, settings.admin_key_file)
            with httpx.Client(base_url=f"http://127.0.0.1:{api_port}", timeout=30) as http:
                tenant = Api(http, admin_key).new_tenant_admin(f"pg-{secrets.token_hex(3)}")
                yield Stack(cluster, endpoint, tenant)
        finally:
            database.dispose()
            engine.stop()
            if api is not None:
                stop_process(api)


def wait_until(condition: Any, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"{what} did not happen in {timeout} s"
        time.sleep(0.05)


def start(stack: Stack, config: dict[str, Any]) -> str:
    agent_id = agent_with(stack.tenant, config, name=f"agent-{secrets.token_hex(3)}")
    run_id = str(run_agent(stack.tenant, agent_id)["id"])
    tenant = stack.tenant
    wait_until(lambda: tenant.ok(tenant.get(f"/v1/runs/{run_id}"))["status"] == "running", "start")
    return run_id


def assert_succeeded_once_per_step(stack: Stack, run_id: str, output: str, steps: int) -> None:
    run = wait_for_run(stack.tenant, run_id, timeout=60)
    assert (run["status"], run["output"]) == ("succeeded", output), run
    recorded = steps_of(stack.tenant, run_id)
    assert [(s["seq"], s["status"], s["attempt"]) for s in recorded] == [
        (seq, "succeeded", 1) for seq in range(1, steps + 1)
    ]


def test_an_outage_during_a_model_step_delays_the_run(stack: Stack) -> None:
    config = script(
        {"tool_calls": [{"name": "calculator", "arguments": {"expression": "2+2"}}]},
        {"text": "four", "delay_seconds": 3},
    )
    run_id = start(stack, config)
    # The first turn is quick; the outage begins while the second is under way.
    wait_until(lambda: len(steps_of(stack.tenant, run_id)) == 2, "the calculator step")
    stack.outage(30)
    assert_succeeded_once_per_step(stack, run_id, "four", steps=3)


def test_an_outage_during_a_tool_call_keeps_its_result(stack: Stack) -> None:
    stack.endpoint.slow_seconds = 3
    calls_before = len(stack.endpoint.calls_to("/slow"))
    config = script(
        {"tool_calls": [{"name": "create_ticket", "arguments": {"title": "disk full"}}]},
        {"text": "filed"},
        tools=[stack.ticket_tool()],
    )
    run_id = start(stack, config)
    wait_until(lambda: len(stack.endpoint.calls_to("/slow")) > calls_before, "the tool call")
    stack.outage(30)  # the call answers meanwhile: recording its step meets the outage
    assert_succeeded_once_per_step(stack, run_id, "filed", steps=3)
    assert len(stack.endpoint.calls_to("/slow")) == calls_before + 1


def test_two_outages_in_one_run(stack: Stack) -> None:
    stack.endpoint.slow_seconds = 3
    calls_before = len(stack.endpoint.calls_to("/slow"))
    config = script(
        {
            "tool_calls": [{"name": "create_ticket", "arguments": {"title": "disk full"}}],
            "delay_seconds": 3,
        },
        {"text": "filed", "delay_seconds": 6},
        tools=[stack.ticket_tool()],
    )
    run_id = start(stack, config)
    stack.outage(10)
    time.sleep(8)
    stack.outage(10)
    assert_succeeded_once_per_step(stack, run_id, "filed", steps=3)
    assert len(stack.endpoint.calls_to("/slow")) == calls_before + 1
