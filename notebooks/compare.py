"""`compare_versions`: every input on every version of an agent, at once; a table and a chart."""

import io
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from datetime import datetime
from typing import Any

import pandas as pd  # type: ignore[import-untyped]
from IPython.display import Image, display
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from client import AgentRuntimeClient
from notebooks.agents import resolve_agent, resolve_version

COLUMNS = [
    "version",
    "input",
    "status",
    "output",
    "steps",
    "input_tokens",
    "output_tokens",
    "tokens",
    "cost_usd",
    "latency_s",
    "error",
    "run_id",
]


def compare_versions(
    agent: str,
    versions: list[int | str],
    inputs: list[str],
    client: AgentRuntimeClient | None = None,
    *,
    timeout: float = 300.0,
    max_workers: int = 8,
    show: bool = True,
) -> Any:
    """Run each input on each version (numbers, or "latest") concurrently, in threads.

    Returns a pandas DataFrame, one row per (version, input) in that order: status, output,
    steps, tokens, cost and latency (API time from creation to end). With `show`, also displays
    the table and a chart of mean cost and latency per version.
    """
    workers = max(1, min(max_workers, len(versions) * len(inputs)))
    with (
        nullcontext(client) if client else AgentRuntimeClient() as api,
        ThreadPoolExecutor(max_workers=workers) as pool,
    ):
        found = resolve_agent(api, agent)
        jobs = [(resolve_version(found, version), text) for version in versions for text in inputs]
        rows = list(pool.map(lambda job: _run_once(api, found["id"], job, timeout), jobs))
    table = pd.DataFrame(rows, columns=COLUMNS)
    if show:
        display(table)  # type: ignore[no-untyped-call]
        display(Image(data=chart_png(table)))  # type: ignore[no-untyped-call]
    return table


def _run_once(
    client: AgentRuntimeClient, agent_id: str, job: tuple[int, str], timeout: float
) -> dict[str, Any]:
    version, text = job
    started = time.monotonic()
    run = client.start_run(agent_id, text, version=version)
    error = None
    try:
        run = client.wait_for_run(run["id"], timeout=timeout)
    except TimeoutError as exc:
        run, error = client.get_run(run["id"]), str(exc)
    usage = run["usage"]
    return {
        "version": version,
        "input": text,
        "status": run["status"],
        "output": run["output"],
        "steps": len(client.list_steps(run["id"])),
        "input_tokens": usage["input_tokens"],
        "output_tokens": usage["output_tokens"],
        "tokens": usage["input_tokens"] + usage["output_tokens"],
        "cost_usd": run["cost_usd"],
        # The API's own times: polling for the end would add up to its interval.
        "latency_s": _api_latency(run) or round(time.monotonic() - started, 3),
        "error": error or (run["error"] or {}).get("message"),
        "run_id": run["id"],
    }


def _api_latency(run: dict[str, Any]) -> float | None:
    if not run.get("ended_at"):
        return None
    ended = datetime.fromisoformat(run["ended_at"])
    created = datetime.fromisoformat(run["created_at"])
    return round((ended - created).total_seconds(), 3)


def comparison_chart(table: Any) -> Figure:
    """Mean cost and mean latency per version, as two bar charts."""
    means = table.groupby("version")[["cost_usd", "latency_s"]].mean()
    labels = [f"v{version}" for version in means.index]
    figure = Figure(figsize=(8, 3), layout="constrained")
    cost_axes, latency_axes = figure.subplots(1, 2)
    _bars(cost_axes, labels, means["cost_usd"], "#0969da", "no cost recorded")
    cost_axes.set_title("mean cost per run (USD)")
    _bars(latency_axes, labels, means["latency_s"], "#8250df", "no latency recorded")
    latency_axes.set_title("mean latency per run (s)")
    return figure


def _bars(axes: Axes, labels: list[str], values: Any, color: str, when_none: str) -> None:
    """Bars of a quantity that is never negative: the axis starts at 0. All zero (a scripted
    model costs nothing), matplotlib would center the axis on 0; it goes up to 1, with a note."""
    axes.bar(labels, values, color=color)
    top = float(values.max()) if len(values) else 0.0
    if not top > 0:  # all zero, or nothing measured (NaN)
        axes.set_ylim(0, 1)
        axes.text(0.5, 0.5, when_none, transform=axes.transAxes, ha="center", color="#57606a")
    else:
        axes.set_ylim(bottom=0)


def chart_png(table: Any) -> bytes:
    # Rendered to PNG here: a bare Figure displays the same with or without an inline backend.
    buffer = io.BytesIO()
    comparison_chart(table).savefig(buffer, format="png", dpi=100)
    return buffer.getvalue()
