"""Redis dies mid-run (kill -9) and comes back empty a few seconds later: live followers of
several runs still see every event exactly once and in order, ids never restart, and a replay
afterwards is what they saw.

Everything is real: a redis-server of this test's own, a worker and an API process with
REDIS_URL pointing at it, the Temporal dev server, and followers using the REST client.
"""

import secrets
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from backend.services.bootstrap import ensure_admin_key
from backend.settings import Settings
from client import AgentRuntimeClient
from core.db import make_engine
from tests.faults.redis_server import RedisServer, running_redis
from tests.helpers import Api, agent_with, calc, free_port, run_agent, script, wait_for_run
from tests.private_engine import Engine
from tests.stack import start_api, stop_process

RUNS = 3
FOLLOWERS_PER_RUN = 3
# Seven model turns a second or so apart, then a streamed answer: in flight across the outage.
SLOW = script(
    *(calc(f"{n}*7") | {"delay_seconds": 0.8} for n in range(6)),
    {"text": "one two three four five six seven eight", "chunk_delay_seconds": 0.2},
    limits={"max_steps": 50},
)


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    with running_redis(tmp_path) as server:
        yield server


@pytest.fixture
def api(
    database_url: str, temporal_address: str, tmp_path: Path, redis_server: RedisServer
) -> Iterator[tuple[str, Api]]:
    """A worker and an API on this test's Redis; (the API's URL, a tenant admin)."""
    engine = Engine(
        database_url,
        temporal_address,
        tmp_path,
        {"REDIS_URL": redis_server.url, "SSE_HEARTBEAT_SECONDS": "0.5"},
    )
    port = free_port()
    process = None
    db = make_engine(database_url)
    try:
        engine.start_worker()
        process = start_api(engine.env, port, tmp_path / "api.log")
        settings = Settings(**engine.env)  # type: ignore[arg-type]
        url = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=url, timeout=30) as http:
            admin = Api(http, ensure_admin_key(db, settings.admin_key_file))
            yield url, admin.new_tenant_admin(f"redis-restart-{secrets.token_hex(3)}")
    finally:
        if process is not None:
            stop_process(process)
        engine.stop()
        db.dispose()


def stream_top(server: RedisServer, run_id: str) -> int:
    top: Any = server.client().xrevrange(f"run:{run_id}", count=1)
    return int(top[0][0].split(b"-")[1]) if top else 0


def test_followers_miss_nothing_across_a_redis_crash_and_restart(
    api: tuple[str, Api], redis_server: RedisServer
) -> None:
    url, tenant = api
    agent_id = agent_with(tenant, SLOW)
    run_ids = [run_agent(tenant, agent_id)["id"] for _ in range(RUNS)]
    seen: dict[tuple[str, int], list[dict[str, Any]]] = {}
    failures: list[BaseException] = []

    def follow(run_id: str, index: int) -> None:
        events = seen.setdefault((run_id, index), [])
        try:
            with AgentRuntimeClient(url, tenant.token) as client:
                events.extend(client.follow_events(run_id))
        except BaseException as exc:  # reported below, with what was seen
            failures.append(exc)

    followers = [
        threading.Thread(target=follow, args=(run_id, index), daemon=True)
        for run_id in run_ids
        for index in range(FOLLOWERS_PER_RUN)
    ]
    for follower in followers:
        follower.start()
    deadline = time.monotonic() + 30
    while not all(len(seen.get((r, i), [])) >= 3 for r in run_ids for i in range(2)):
        assert time.monotonic() < deadline, "the runs did not start"
        time.sleep(0.1)
    before = {run_id: stream_top(redis_server, run_id) for run_id in run_ids}
    redis_server.kill()
    time.sleep(3)  # events are published meanwhile; followers wait on the database
    redis_server.start()  # same port, empty
    for follower in followers:
        follower.join(timeout=90)
    assert not failures, failures
    assert not any(follower.is_alive() for follower in followers)

    with AgentRuntimeClient(url, tenant.token) as client:
        for run_id in run_ids:
            assert wait_for_run(tenant, run_id)["status"] == "succeeded"
            replay = list(client.follow_events(run_id))
            assert [e["id"] for e in replay] == list(range(1, len(replay) + 1))
            assert replay[-1]["type"] == "run.completed"
            for index in range(FOLLOWERS_PER_RUN):
                assert seen[(run_id, index)] == replay, (run_id, index)
            # The stream after the restart holds only new ids, the database's, never reused.
            entries: Any = redis_server.client().xrange(f"run:{run_id}")
            restarted = [int(entry_id.split(b"-")[1]) for entry_id, _ in entries]
            assert restarted, "nothing was fanned out after the restart"
            assert min(restarted) > before[run_id] > 0
            assert restarted == sorted(set(restarted))
            assert restarted[-1] == replay[-1]["id"]
