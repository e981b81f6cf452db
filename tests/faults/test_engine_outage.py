"""The durable engine down around a POST, and an API killed between commit and workflow start:
the run is accepted `queued` and completes once the engine is back."""

import os
import secrets
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from backend.services.bootstrap import ensure_admin_key
from backend.settings import Settings
from core.db import make_engine
from tests.helpers import Api, agent_with, free_port, script, steps_of, wait_for_run
from tests.private_engine import Engine
from tests.stack import start_api, start_temporal, stop_process

OUTAGE_SECONDS = 20
TWO_STEPS = script({"text": "done"})


@dataclass
class Stack:
    """A Temporal dev server this test may stop, a worker, and an API process it may kill."""

    temporal_dir: Path
    temporal_port: int
    temporal: subprocess.Popen[bytes]
    engine: Engine
    api_env: dict[str, str]
    api_port: int
    api: subprocess.Popen[bytes]
    log: Path

    def stop_temporal(self) -> None:
        stop_process(self.temporal)

    def start_temporal(self) -> None:
        self.temporal = start_temporal(self.temporal_dir, self.temporal_port)

    def kill_api(self) -> None:
        os.kill(self.api.pid, signal.SIGKILL)
        self.api.wait()

    def start_api(self) -> None:
        self.api = start_api(self.api_env, self.api_port, self.log)

    def finished(self, tenant: Api, run_id: str) -> dict[str, Any]:
        """The run once it ends; if it does not, the failure shows what the processes logged."""
        try:
            return dict(wait_for_run(tenant, run_id, timeout=90))
        except AssertionError as exc:
            logs = [self.log, *sorted(self.engine.directory.glob("worker-*.log"))]
            tails = "\n".join(f"--- {log.name}\n{tail(log)}" for log in logs if log.exists())
            raise AssertionError(f"{exc}\n{tails}") from None


def tail(log: Path, lines: int = 40) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


@pytest.fixture
def stack(database_url: str, tmp_path: Path) -> Iterator[Stack]:
    temporal_dir, port = tmp_path / "temporal", free_port()
    temporal = start_temporal(temporal_dir, port)
    engine = Engine(database_url, f"127.0.0.1:{port}", tmp_path)
    api_env = {
        **engine.env,
        "AGENT_RUNTIME_DATA_DIR": str(tmp_path / "api"),
        "RUN_START_RETRY_SECONDS": "1",
    }
    api_port = free_port()
    log = tmp_path / "api.log"
    running = Stack(temporal_dir, port, temporal, engine, api_env, api_port, temporal, log)
    try:
        engine.start_worker()
        running.api = start_api(api_env, api_port, log)
        yield running
    finally:
        engine.stop()
        stop_process(running.api)
        stop_process(running.temporal)


@pytest.fixture
def tenant(stack: Stack) -> Iterator[Api]:
    settings = Settings(**stack.api_env)  # type: ignore[arg-type]
    database = make_engine(settings.resolved_database_url)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{stack.api_port}", timeout=30) as http:
            admin = Api(http, ensure_admin_key(database, settings.admin_key_file))
            yield admin.new_tenant_admin(f"outage-{secrets.token_hex(3)}")
    finally:
        database.dispose()


def test_an_engine_outage_around_a_post_delays_the_run(stack: Stack, tenant: Api) -> None:
    agent_id = agent_with(tenant, TWO_STEPS)
    stack.stop_temporal()
    outage_began = time.monotonic()
    key = {"Idempotency-Key": "during-the-outage"}
    accepted = tenant.post(f"/v1/agents/{agent_id}/runs", json={"input": "hi"}, headers=key)
    assert accepted.status_code == 202, accepted.text
    run = accepted.json()
    assert run["status"] == "queued"
    time.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - outage_began)))
    retried = tenant.post(f"/v1/agents/{agent_id}/runs", json={"input": "hi"}, headers=key)
    assert (retried.status_code, retried.json()["id"]) == (200, run["id"])
    assert retried.json()["status"] == "queued"  # the key is not spent on a failure
    stack.start_temporal()
    finished = stack.finished(tenant, run["id"])
    assert (finished["status"], finished["output"]) == ("succeeded", "done")
    assert [(s["seq"], s["attempt"]) for s in steps_of(tenant, run["id"])] == [(1, 1)]


def test_a_run_committed_by_an_api_that_died_before_starting_it_completes(
    stack: Stack, tenant: Api
) -> None:
    agent_id = agent_with(tenant, TWO_STEPS)
    stack.stop_temporal()
    # No Idempotency-Key: no client retry will ever start this run again.
    accepted = tenant.post(f"/v1/agents/{agent_id}/runs", json={"input": "hi"})
    assert accepted.status_code == 202, accepted.text
    run_id = accepted.json()["id"]
    stack.kill_api()  # before any workflow exists for the committed run
    stack.start_temporal()
    stack.start_api()
    finished = stack.finished(tenant, run_id)
    assert (finished["status"], finished["output"]) == ("succeeded", "done")
    assert len(tenant.ok(tenant.get("/v1/runs"))["items"]) == 1


def test_a_worker_started_while_the_engine_is_down_waits_for_it(stack: Stack, tenant: Api) -> None:
    agent_id = agent_with(tenant, TWO_STEPS)
    stack.stop_temporal()
    stack.engine.stop()  # the only worker
    late = stack.engine.start_worker()  # starts while the engine is unreachable
    worker_log = stack.engine.directory / "worker-1.log"
    deadline = time.monotonic() + 60
    while "waiting for the durable engine" not in worker_log.read_text(errors="replace"):
        assert late.poll() is None, "the worker exited instead of waiting for the engine"
        assert time.monotonic() < deadline, "the worker never said it waits for the engine"
        time.sleep(0.2)
    accepted = tenant.post(f"/v1/agents/{agent_id}/runs", json={"input": "hi"})
    assert accepted.status_code == 202, accepted.text
    stack.start_temporal()
    finished = stack.finished(tenant, accepted.json()["id"])
    assert (finished["status"], finished["output"]) == ("succeeded", "done")
    assert late.poll() is None
