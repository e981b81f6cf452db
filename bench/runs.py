"""Our runs vs a bare temporalio workflow doing the same three steps, on one dev server.

`make bench` (or `python -m bench.runs --runs 30 --concurrency 30`). Prints per-step latency
and throughput side by side, and the ratios the product aims for.
"""

import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from temporalio.client import Client

from backend.services.agents import create_agent, publish_version
from backend.settings import Settings
from bench.bare import STEPS, BareThreeSteps
from cli.temporal_server import free_port
from core.contract import WORKFLOW_NAME
from core.db import AllTenants, TenantScope, make_engine, scoped_session
from core.migrate import upgrade
from core.models import AgentCreate, Run, Tenant, VersionCreate
from core.thread_queue import workflow_input
from tests.stack import start_temporal, start_worker, stop_process

SCRIPT = [
    {"tool_calls": [{"name": "calculator", "arguments": {"expression": "6*7"}}]},
    {"text": "42"},
]


ROUNDS = 3


async def _measure(
    sides: dict[str, Callable[[], Awaitable[None]]], runs: int, concurrency: int
) -> tuple[dict[str, list[float]], dict[str, float]]:
    """Interleave the sides, so drift in the machine's load falls on both alike."""
    latencies: dict[str, list[float]] = {name: [] for name in sides}
    throughputs: dict[str, list[float]] = {name: [] for name in sides}
    with Progress(transient=True) as progress:
        task = progress.add_task("sequential runs", total=runs * len(sides))
        for _ in range(runs):
            for name, start_one in sides.items():
                began = time.perf_counter()
                await start_one()
                latencies[name].append(time.perf_counter() - began)
                progress.advance(task)
        task = progress.add_task(f"{concurrency} runs at once", total=ROUNDS * len(sides))
        for _ in range(ROUNDS):
            for name, start_one in sides.items():
                began = time.perf_counter()
                await asyncio.gather(*(start_one() for _ in range(concurrency)))
                throughputs[name].append(concurrency / (time.perf_counter() - began))
                progress.advance(task)
    return latencies, {name: statistics.median(values) for name, values in throughputs.items()}


def main(runs: int, concurrency: int) -> None:
    """Start the engine and both sides' workers (each its own process, as in production, so the
    client here competes with neither for the interpreter lock), then measure."""
    console = Console()
    with tempfile.TemporaryDirectory() as directory:
        data_dir = Path(directory)
        port = free_port()
        address = f"127.0.0.1:{port}"
        database_url = f"sqlite:///{data_dir / 'bench.db'}"
        upgrade(database_url)
        server = start_temporal(data_dir, port)
        ours = start_worker(
            {
                "DATABASE_URL": database_url,
                "TEMPORAL_ADDRESS": address,
                "AGENT_RUNTIME_TASK_QUEUE": "bench-ours",
            },
            data_dir / "worker.log",
        )
        bare = subprocess.Popen(  # noqa: S603  (our own module)
            [sys.executable, "-m", "bench.bare", address, "bench-bare"], start_new_session=True
        )
        try:
            asyncio.run(_compare(console, database_url, address, runs, concurrency))
        finally:
            for process in (bare, ours, server):
                stop_process(process)


async def _compare(
    console: Console, database_url: str, address: str, runs: int, concurrency: int
) -> None:
    client = await Client.connect(address)
    engine = make_engine(database_url)
    with scoped_session(engine, AllTenants()) as session:
        tenant = Tenant(name="bench")
        session.add(tenant)
        session.commit()
    with scoped_session(engine, TenantScope(tenant.id)) as session:
        agent = create_agent(session, AgentCreate(name="bench"), "bench")
        config = {
            "model": {"provider": "scripted", "name": "bench", "parameters": {"script": SCRIPT}},
            "tools": [{"type": "builtin", "name": "calculator"}],
        }
        version = publish_version(session, agent.id, VersionCreate.model_validate(config), "bench")

    api_settings = Settings(DATABASE_URL=database_url)  # type: ignore[call-arg]

    async def one_bare() -> None:
        await client.execute_workflow(
            BareThreeSteps.run, "x", id=f"bare-{uuid.uuid4()}", task_queue="bench-bare"
        )

    async def one_ours() -> None:
        def insert() -> object:
            with scoped_session(engine, TenantScope(tenant.id)) as session:
                run = Run(
                    agent_id=agent.id,
                    version_id=version.id,
                    version_number=1,
                    input="what is 6*7?",
                    created_by="bench",
                )
                session.add(run)
                session.commit()
                return workflow_input(session, run, api_settings.run_steps_per_execution)

        run_input = await asyncio.to_thread(insert)
        result = await client.execute_workflow(
            WORKFLOW_NAME,
            run_input,
            id=run_input.run_id,
            task_queue="bench-ours",  # type: ignore[attr-defined]
        )
        assert result["status"] == "succeeded", result

    try:
        await one_bare()
        await one_ours()  # warm both paths before measuring
        latencies, throughputs = await _measure(
            {"bare": one_bare, "ours": one_ours}, runs, concurrency
        )
    finally:
        engine.dispose()

    bare_latency, ours_latency = latencies["bare"], latencies["ours"]
    bare_throughput, ours_throughput = throughputs["bare"], throughputs["ours"]

    def per_step(latencies: list[float]) -> float:
        return statistics.median(latencies) / STEPS * 1000

    table = Table(title=f"{STEPS}-step runs on one Temporal dev server")
    table.add_column("measure")
    table.add_column("bare temporalio", justify="right")
    table.add_column("agent runtime", justify="right")
    table.add_column("ratio", justify="right")
    table.add_column("goal", justify="right")
    step_ratio = per_step(ours_latency) / per_step(bare_latency)
    table.add_row(
        "per-step latency, median (ms)",
        f"{per_step(bare_latency):.1f}",
        f"{per_step(ours_latency):.1f}",
        f"{step_ratio:.2f}x",
        "<= 1.15x",
    )
    p95 = lambda values: sorted(values)[int(len(values) * 0.95) - 1] * 1000  # noqa: E731
    table.add_row(
        "run latency p95 (ms)",
        f"{p95(bare_latency):.0f}",
        f"{p95(ours_latency):.0f}",
        f"{p95(ours_latency) / p95(bare_latency):.2f}x",
        "",
    )
    table.add_row(
        f"throughput, {concurrency} at once, median of {ROUNDS} (runs/s)",
        f"{bare_throughput:.1f}",
        f"{ours_throughput:.1f}",
        f"{ours_throughput / bare_throughput:.2f}x",
        ">= 0.85x",
    )
    console.print(table)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=30, help="sequential runs per side")
    parser.add_argument("--concurrency", type=int, default=30, help="runs at once per side")
    arguments = parser.parse_args()
    main(arguments.runs, arguments.concurrency)
