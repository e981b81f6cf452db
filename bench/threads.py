"""A long conversation costs no more per step than a short one (not a test): `make bench-threads`.

One thread, `--runs` runs one after another on `agent-runtime dev` (SQLite, the embedded
default): each a model call, a calculator call and a model answer, with a ~1 KB message, so the
conversation the model is sent grows by four messages a run. Prints the per-step latency (a
run's duration over its steps, from its record) of the first runs and of the last, and their
ratio (goal <= 1.2x); beside them, the same for as many runs on their own (no thread), which
shows what grows with the database rather than with the conversation.
"""

import argparse
import statistics
import tempfile
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from cli.formatting import seconds_between
from client import AgentRuntimeClient
from tests.stack import dev_stack

MESSAGE = ("a long enough message to make the conversation grow " * 20).strip()
MEASURED = 5  # runs averaged at each end


def conversation_agent(client: AgentRuntimeClient, runs: int) -> str:
    turns: list[dict[str, Any]] = []
    for n in range(runs):
        turns.append(
            {"tool_calls": [{"name": "calculator", "arguments": {"expression": f"{n}+1"}}]}
        )
        turns.append({"text": f"answer {n}: you said {{user_count}} things"})
    agent = client.create_agent("long-conversation")
    client.publish_version(
        agent["id"],
        {
            "model": {"provider": "scripted", "name": "bench", "parameters": {"script": turns}},
            "tools": [{"type": "builtin", "name": "calculator"}],
            "limits": {"max_steps": 10, "max_tokens": 100_000_000},
        },
    )
    return str(agent["id"])


def per_step_seconds(client: AgentRuntimeClient, run_id: str) -> float:
    run = client.wait_for_run(run_id, timeout=120)
    assert run["status"] == "succeeded", run
    steps = len(client.list_steps(run_id))
    return (seconds_between(run["started_at"], run["ended_at"]) or 0.0) / steps


def main(runs: int) -> None:
    console = Console()
    with (
        tempfile.TemporaryDirectory() as directory,
        dev_stack(Path(directory) / "data", ready_timeout=120) as stack,
        stack.client() as client,
    ):
        agent_id = conversation_agent(client, runs)
        thread = client.create_thread(metadata={"bench": "threads"})
        on_thread: list[float] = []
        alone: list[float] = []
        with Progress(console=console, transient=True) as progress:
            task = progress.add_task("runs on one thread, and runs on their own", total=2 * runs)
            for _ in range(runs):
                run = client.start_thread_run(thread["id"], agent_id, MESSAGE)
                on_thread.append(per_step_seconds(client, run["id"]))
                progress.advance(task)
                solo = client.start_run(agent_id, MESSAGE)
                alone.append(per_step_seconds(client, solo["id"]))
                progress.advance(task)
    table = Table(
        title=f"Per-step latency over {runs} runs (mean of the first and last {MEASURED})"
    )
    for column in ("runs", "first", "last", "ratio", "goal"):
        table.add_column(column, justify="right")
    for label, latencies, goal in (
        ("on one thread", on_thread, "<= 1.2x"),
        ("on their own", alone, ""),
    ):
        first = statistics.mean(latencies[:MEASURED])
        last = statistics.mean(latencies[-MEASURED:])
        table.add_row(
            label, f"{first * 1000:.1f} ms", f"{last * 1000:.1f} ms", f"{last / first:.2f}x", goal
        )
    console.print(table)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=50, help="runs on the thread")
    main(parser.parse_args().runs)
