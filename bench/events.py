"""Live events, side by side with their baselines (not a test): `make bench-events`.

- Event latency: from a step's completion in the worker (the event's publication time) to its
  receipt by an SSE client following the run, next to a raw Redis XADD -> XREAD round trip.
- Start latency: `POST /runs` -> the first step's event at an SSE client, next to a bare
  `start_workflow` -> its first activity starting.

Everything runs on this machine: a Temporal dev server, our worker and API (with REDIS_URL, as
deployed), the bare worker, and Redis at REDIS_URL (default redis://127.0.0.1:6379/0).
"""

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import redis
from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from temporalio.client import Client

from backend.services.bootstrap import ensure_admin_key
from bench.bare import BareFirstStart
from cli.temporal_server import free_port
from client import AgentRuntimeClient
from core.db import make_engine
from core.migrate import upgrade
from tests.stack import start_api, start_temporal, start_worker, stop_process

# Seven steps a run: three model turns calling the calculator, its three calls, an answer.
SCRIPT = [
    *(
        {"tool_calls": [{"name": "calculator", "arguments": {"expression": f"{n}*7"}}]}
        for n in (1, 2, 3)
    ),
    {"text": "done"},
]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def seconds_since(stamp: str) -> float:
    return time.time() - datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def raw_redis_round_trips(url: str, count: int) -> list[float]:
    """XADD with the send time, read back by a blocked XREAD on another connection."""
    writer, reader = redis.Redis.from_url(url), redis.Redis.from_url(url)
    stream = f"bench:{uuid.uuid4().hex}"
    latencies: list[float] = []
    try:
        last = "0-0"
        for _ in range(count):
            writer.xadd(stream, {"t": repr(time.time())})
            answer: Any = reader.xread({stream: last}, block=1000, count=1)
            entry_id, fields = answer[0][1][0]
            latencies.append(time.time() - float(fields[b"t"]))
            last = entry_id
    finally:
        writer.delete(stream)
        writer.close()
        reader.close()
    return latencies


def event_latencies(client: AgentRuntimeClient, agent_id: str, runs: int) -> list[float]:
    """Step events' delivery to a client that follows each run live."""
    latencies: list[float] = []
    with Progress(transient=True) as progress:
        task = progress.add_task("runs followed live", total=runs)
        for _ in range(runs):
            run = client.start_run(agent_id, "go")
            for event in client.follow_events(run["id"]):
                if event["type"] == "step.completed":
                    latencies.append(seconds_since(event["at"]))
            progress.advance(task)
    return latencies


def first_event_latencies(client: AgentRuntimeClient, agent_id: str, runs: int) -> list[float]:
    """From sending POST /runs to receiving the run's first step event."""
    latencies: list[float] = []
    for _ in range(runs):
        began = time.time()
        run = client.start_run(agent_id, "go")
        for event in client.follow_events(run["id"]):
            if event["type"] == "step.started":
                latencies.append(time.time() - began)
                break
        client.wait_for_run(run["id"])
    return latencies


async def bare_first_starts(address: str, runs: int) -> list[float]:
    temporal = await Client.connect(address)
    latencies: list[float] = []
    for _ in range(runs):
        began = time.time()
        started_at: float = await temporal.execute_workflow(
            BareFirstStart.run, id=f"bare-{uuid.uuid4()}", task_queue="bench-bare-start"
        )
        latencies.append(started_at - began)
    return latencies


def main(runs: int, redis_url: str) -> None:
    console = Console()
    with tempfile.TemporaryDirectory() as directory:
        data_dir = Path(directory)
        port, api_port = free_port(), free_port()
        address = f"127.0.0.1:{port}"
        database_url = f"sqlite:///{data_dir / 'bench.db'}"
        upgrade(database_url)
        env = {
            "DATABASE_URL": database_url,
            "TEMPORAL_ADDRESS": address,
            "AGENT_RUNTIME_TASK_QUEUE": "bench-events",
            "AGENT_RUNTIME_DATA_DIR": str(data_dir),
            "REDIS_URL": redis_url,
        }
        processes = [start_temporal(data_dir, port)]
        try:
            processes.append(start_worker(env, data_dir / "worker.log"))
            processes.append(start_api(env, api_port, data_dir / "api.log"))
            processes.append(
                subprocess.Popen(  # noqa: S603  (our own module)
                    [sys.executable, "-m", "bench.bare", address, "bench-bare-start"],
                    start_new_session=True,
                )
            )
            engine = make_engine(database_url)
            key = ensure_admin_key(engine, data_dir / "admin.key")
            engine.dispose()
            compare(console, f"http://127.0.0.1:{api_port}", key, address, runs, redis_url)
        finally:
            for process in reversed(processes):
                stop_process(process)


def compare(console: Console, url: str, key: str, address: str, runs: int, redis_url: str) -> None:
    with AgentRuntimeClient(url, key) as client:
        agent = client.create_agent(f"bench-{uuid.uuid4().hex[:6]}")
        client.publish_version(
            agent["id"],
            {
                "model": {
                    "provider": "scripted",
                    "name": "bench",
                    "parameters": {"script": SCRIPT},
                },
                "tools": [{"type": "builtin", "name": "calculator"}],
                "limits": {"max_steps": 50},
            },
        )
        event_latencies(client, agent["id"], 2)  # warm up both paths
        asyncio.run(bare_first_starts(address, 2))
        ours = event_latencies(client, agent["id"], runs)
        raw = raw_redis_round_trips(redis_url, len(ours))
        first_ours = first_event_latencies(client, agent["id"], runs)
        first_bare = asyncio.run(bare_first_starts(address, runs))

    def ms(value: float) -> str:
        return f"{value * 1000:.1f}"

    table = Table(title="Live events (Redis streams, SSE)")
    for column in ("measure", "baseline", "agent runtime", "ratio", "goal"):
        table.add_column(column, justify="left" if column == "measure" else "right")
    p50, raw50 = statistics.median(ours), statistics.median(raw)
    table.add_row(
        "event latency p50 (ms), vs raw XADD->XREAD",
        ms(raw50),
        ms(p50),
        f"{p50 / raw50:.1f}x",
        "<= 25 ms and <= 5x",
    )
    table.add_row(
        "event latency p99 (ms)",
        ms(percentile(raw, 0.99)),
        ms(percentile(ours, 0.99)),
        f"{percentile(ours, 0.99) / percentile(raw, 0.99):.1f}x",
        "",
    )
    first50, bare50 = statistics.median(first_ours), statistics.median(first_bare)
    table.add_row(
        "start -> first step p50 (ms), vs start_workflow -> 1st activity",
        ms(bare50),
        ms(first50),
        f"{first50 / bare50:.2f}x",
        "<= 1.5x",
    )
    console.print(table)
    console.print(f"{len(ours)} step events over {runs} runs; {runs} starts each side.")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=20, help="runs per measurement")
    parser.add_argument(
        "--redis-url", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    )
    arguments = parser.parse_args()
    main(arguments.runs, arguments.redis_url)
