"""A killed worker, a restarted engine or a killed API loses nothing."""

import os
import secrets
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from backend.services.bootstrap import ensure_admin_key
from tests.helpers import (
    Api,
    agent_with,
    calc,
    free_port,
    run_agent,
    script,
    steps_of,
    wait_for_run,
)
from tests.private_engine import Engine, tenant_on
from tests.stack import start_api, start_temporal, stop_process
from tests.test_mcp_tools import ToolServer, call, mcp_entry, tool_steps

SLOW_FINISH = script(calc("2+2"), {"text": "four", "delay_seconds": 4})


def wait_until_in_final_step(api: Api, run_id: str) -> None:
    """Step 2 (the tool) is recorded; step 3 (a 4 s model call) is then under way."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if any(s["seq"] == 2 and s["status"] == "succeeded" for s in steps_of(api, run_id)):
            time.sleep(1)
            assert len(steps_of(api, run_id)) == 2
            return
        time.sleep(0.05)
    raise AssertionError(f"step 2 never ended: {steps_of(api, run_id)}")


@pytest.fixture
def engine(database_url: str, temporal_address: str, tmp_path: Path) -> Iterator[Engine]:
    private = Engine(database_url, temporal_address, tmp_path)
    try:
        yield private
    finally:
        private.stop()


@pytest.fixture
def tenant(engine: Engine, database_url: str, tmp_path: Path) -> Iterator[Api]:
    with tenant_on(engine, database_url, tmp_path) as api:
        yield api


def test_a_killed_worker_is_replaced_without_duplicate_steps(engine: Engine, tenant: Api) -> None:
    first = engine.start_worker()
    run = run_agent(tenant, agent_with(tenant, SLOW_FINISH))
    wait_until_in_final_step(tenant, run["id"])
    os.kill(first.pid, signal.SIGKILL)
    first.wait()
    engine.start_worker()
    finished = wait_for_run(tenant, run["id"], timeout=60)
    assert (finished["status"], finished["output"]) == ("succeeded", "four")
    steps = steps_of(tenant, run["id"])
    assert [s["seq"] for s in steps] == [1, 2, 3]
    assert [s["attempt"] for s in steps] == [1, 1, 2]  # only the in-flight step ran again


def test_a_killed_worker_mid_turn_loses_nothing_of_the_thread(engine: Engine, tenant: Api) -> None:
    """Kill -9 during a thread's second turn, with a third enqueued: the new worker finishes
    the turn (only the in-flight step again), then starts the queued one, which sees both."""
    turns = [{"text": "one"}, calc("2+2"), {"text": "four", "delay_seconds": 4}]
    agent_with(tenant, script(*turns, {"text": "three saw {user_messages}"}), name="chat")
    first = engine.start_worker()
    thread = tenant.ok(tenant.post("/v1/threads", json={}), 201)
    path = f"/v1/threads/{thread['id']}/runs"

    def turn(text: str, **body: str) -> str:
        started = tenant.post(path, json={"agent": "chat", "input": text, **body})
        return str(tenant.ok(started, 202)["id"])

    assert wait_for_run(tenant, turn("a"))["output"] == "one"
    second = turn("b")
    wait_until_in_final_step(tenant, second)
    third = turn("c", multitask_strategy="enqueue")
    os.kill(first.pid, signal.SIGKILL)
    first.wait()
    engine.start_worker()
    assert wait_for_run(tenant, second, timeout=60)["output"] == "four"
    assert [s["attempt"] for s in steps_of(tenant, second)] == [1, 1, 2]
    assert wait_for_run(tenant, third, timeout=60)["output"] == "three saw a | b | c"
    history = tenant.ok(tenant.get(f"/v1/threads/{thread['id']}/history"))
    assert [len(turn["messages"]) for turn in history] == [2, 4, 2]


def test_a_killed_worker_mid_mcp_call_does_not_call_it_again(
    engine: Engine, tenant: Api, tmp_path: Path
) -> None:
    """The tool (not read-only, not idempotent) may have run when its worker died: the step's
    next attempt tells the model so instead of calling it a second time."""
    server = ToolServer(tmp_path)
    server.start()
    try:
        config = script(
            call("tests__slow_count", label="once", seconds=3),
            {"text": "done"},
            tools=[mcp_entry(server.url, include=["slow_count"])],
        )
        first = engine.start_worker()
        run = run_agent(tenant, agent_with(tenant, config, name="mcp-kill"))
        deadline = time.monotonic() + 30
        while not any(
            s["seq"] == 1 and s["status"] == "succeeded" for s in steps_of(tenant, run["id"])
        ):
            assert time.monotonic() < deadline
            time.sleep(0.05)
        time.sleep(1)  # the call is under way on the server
        os.kill(first.pid, signal.SIGKILL)
        first.wait()
        engine.start_worker()
        finished = wait_for_run(tenant, run["id"], timeout=60)
        assert (finished["status"], finished["output"]) == ("succeeded", "done")
        (step,) = tool_steps(tenant, run["id"])
        assert (step["status"], step["attempt"]) == ("failed", 2)
        assert "was not called again" in step["error"]["message"]
        time.sleep(3)  # the first call would have ended by now
        # Called at most once: the server may also have cancelled it when the dead worker's
        # connection went.
        assert server.counted() in ([], ["once"])
    finally:
        server.stop()


def test_a_worker_stopped_by_sigterm_finishes_its_step_and_hands_over(
    engine: Engine, tenant: Api
) -> None:
    first = engine.start_worker()
    run = run_agent(tenant, agent_with(tenant, SLOW_FINISH))
    wait_until_in_final_step(tenant, run["id"])
    engine.start_worker()
    os.kill(first.pid, signal.SIGTERM)  # a rolling restart: the step under way may finish
    assert first.wait(timeout=30) == 0
    finished = wait_for_run(tenant, run["id"], timeout=60)
    assert (finished["status"], finished["output"]) == ("succeeded", "four")
    steps = steps_of(tenant, run["id"])
    assert [(s["seq"], s["attempt"]) for s in steps] == [(1, 1), (2, 1), (3, 1)]


def test_the_engine_restarts_mid_run_on_the_same_database(
    database_url: str, tmp_path: Path
) -> None:
    port = free_port()
    temporal_dir = tmp_path / "temporal"
    server = start_temporal(temporal_dir, port)
    engine = Engine(database_url, f"127.0.0.1:{port}", tmp_path)
    try:
        with tenant_on(engine, database_url, tmp_path) as tenant:
            engine.start_worker()
            run = run_agent(tenant, agent_with(tenant, SLOW_FINISH))
            wait_until_in_final_step(tenant, run["id"])
            stop_process(server)
            server = start_temporal(temporal_dir, port)
            finished = wait_for_run(tenant, run["id"], timeout=90)
            assert (finished["status"], finished["output"]) == ("succeeded", "four")
            assert [s["seq"] for s in steps_of(tenant, run["id"])] == [1, 2, 3]
    finally:
        engine.stop()
        stop_process(server)


def test_a_killed_api_loses_no_run(engine: Engine, tmp_path: Path) -> None:
    env = {**engine.env, "AGENT_RUNTIME_DATA_DIR": str(tmp_path / "api")}
    port = free_port()
    engine.start_worker()
    api_process = start_api(env, port, tmp_path / "api.log")
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
            from backend.settings import Settings
            from core.db import make_engine

            settings = Settings(**{k: v for k, v in env.items()})  # type: ignore[arg-type]
            db = make_engine(settings.resolved_database_url)
            admin = Api(http, ensure_admin_key(db, settings.admin_key_file))
            tenant = admin.new_tenant_admin(f"api-{secrets.token_hex(3)}")
            run = run_agent(tenant, agent_with(tenant, SLOW_FINISH))
            os.kill(api_process.pid, signal.SIGKILL)
            api_process.wait()
            api_process = start_api(env, port, tmp_path / "api.log")
            finished = wait_for_run(tenant, run["id"], timeout=60)
            assert (finished["status"], finished["output"]) == ("succeeded", "four")
            db.dispose()
    finally:
        stop_process(api_process)
