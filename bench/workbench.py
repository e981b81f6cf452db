"""The workbench in Chromium (not a test): `make bench-workbench`.

- How long the run page of a finished 500-step run takes to render all its steps (goal < 1.5 s).
- How long after the worker completes a step the page shows it completed (goal p50 < 150 ms):
  the step's `step.completed` event carries the worker's time; a MutationObserver in the page
  records when that step's card first shows its ending.

Runs `agent-runtime dev` (API, worker, workbench) on free ports in a temporary directory.
"""

import argparse
import statistics
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, sync_playwright
from rich.console import Console
from rich.table import Table

from cli.temporal_server import free_port
from client import AgentRuntimeClient
from tests.stack import dev_stack

CHROMIUM_ARGS = [
    *("--no-sandbox", "--disable-gpu", "--disable-background-networking"),
    *("--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"),
]
# Records, per step card, when it first shows an ending (Date.now(), like the events' times),
# and when each websocket message from the workbench's server arrives: the delay splits into
# the server's part (until the update reaches the browser) and the browser's (until it shows).
WATCH_STEPS = """
window.__ended = {};
window.__frames = [];
const NativeSocket = window.WebSocket;
window.WebSocket = class extends NativeSocket {
  constructor(...args) {
    super(...args);
    this.addEventListener('message', () => window.__frames.push(Date.now()));
  }
};
new MutationObserver(() => {
  for (const card of document.querySelectorAll('.step[data-seq]')) {
    const seq = card.getAttribute('data-seq');
    if (!(seq in window.__ended) && /succeeded|failed/.test(card.innerText)) {
      window.__ended[seq] = Date.now();
    }
  }
}).observe(document, {subtree: true, childList: true, characterData: true});
"""


def calc(n: int) -> dict[str, Any]:
    return {"tool_calls": [{"name": "calculator", "arguments": {"expression": f"{n}+1"}}]}


def agent(client: AgentRuntimeClient, name: str, turns: list[dict[str, Any]]) -> str:
    created = client.create_agent(name)
    client.publish_version(
        created["id"],
        {
            "model": {"provider": "scripted", "name": "bench", "parameters": {"script": turns}},
            "tools": [{"type": "builtin", "name": "calculator"}],
            "limits": {"max_steps": 2000, "max_tokens": 10_000_000, "timeout_seconds": 3600},
        },
    )
    return str(created["id"])


def full_render_seconds(page: Page, url: str, steps: int) -> float:
    began = time.perf_counter()
    page.goto(url)
    page.wait_for_function(
        f"document.querySelectorAll('.step[data-seq]').length >= {steps}", timeout=120_000
    )
    return time.perf_counter() - began


def live_latencies(
    page: Page, client: AgentRuntimeClient, ui: str, agent_id: str
) -> list[tuple[float, float]]:
    """Per step completed live: (until the page showed it, until its update reached the
    browser), in seconds after the worker completed it."""
    run = client.start_run(agent_id, "go")
    completed: dict[str, float] = {}

    def follow() -> None:
        for event in client.follow_events(run["id"]):
            if event["type"] == "step.completed":
                at = datetime.fromisoformat(event["at"].replace("Z", "+00:00"))
                completed[str(event["seq"])] = at.timestamp() * 1000

    follower = threading.Thread(target=follow)
    follower.start()
    page.goto(f"{ui}/runs/{run['id']}")
    follower.join(timeout=120)
    client.wait_for_run(run["id"])
    time.sleep(1)
    ended: dict[str, float] = page.evaluate("window.__ended")
    frames: list[float] = page.evaluate("window.__frames")
    lags = []
    for seq, at in completed.items():
        if seq in ended:
            arrived = min((frame for frame in frames if frame >= at), default=ended[seq])
            lags.append(((ended[seq] - at) / 1000, (min(arrived, ended[seq]) - at) / 1000))
    return lags


def main(steps: int, live_runs: int) -> None:
    console = Console()
    with (
        tempfile.TemporaryDirectory() as directory,
        dev_stack(Path(directory) / "data", ui_port=free_port(), ready_timeout=300) as stack,
        stack.client() as client,
    ):
        measure(console, client, stack.ui_url, steps, live_runs)


def measure(
    console: Console, client: AgentRuntimeClient, ui: str, steps: int, live_runs: int
) -> None:
    long_agent = agent(client, "long", [calc(n) for n in range(steps // 2)] + [{"text": "done"}])
    with console.status(f"a {steps}-step run"):
        long_run = client.start_run(long_agent, "go")
        client.wait_for_run(long_run["id"], timeout=1800)
    # The first turn waits, so the page is loaded and following before any step ends.
    paced = [{**calc(0), "delay_seconds": 2.0}]
    paced += [{**calc(n), "delay_seconds": 0.3} for n in range(1, 5)] + [{"text": "done"}]
    live_agent = agent(client, "paced", paced)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        try:
            renders = []
            for _ in range(3):
                page = browser.new_page(viewport={"width": 1400, "height": 900})
                renders.append(full_render_seconds(page, f"{ui}/runs/{long_run['id']}", steps))
                page.close()
            lags: list[tuple[float, float]] = []
            warm = browser.new_page()
            warm.goto(ui)  # the bundle is cached, as for anyone who has opened the workbench
            warm.close()
            for _ in range(live_runs):
                page = browser.new_page(viewport={"width": 1400, "height": 900})
                page.add_init_script(WATCH_STEPS)
                lags += live_latencies(page, client, ui, live_agent)
                page.close()
        finally:
            browser.close()
    table = Table(title="The workbench in Chromium")
    for column in ("measure", "value", "goal"):
        table.add_column(column, justify="left" if column == "measure" else "right")
    table.add_row(
        f"run page of a finished {steps}-step run, fully rendered, median of 3",
        f"{statistics.median(renders):.2f} s",
        "< 1.5 s",
    )
    ordered = sorted(shown for shown, _ in lags)
    table.add_row(
        f"live step shown after the worker completed it, p50 ({len(lags)} steps)",
        f"{statistics.median(ordered) * 1000:.0f} ms",
        "< 150 ms",
    )
    table.add_row(
        "  of which until its update reached the browser, p50",
        f"{statistics.median(reached for _, reached in lags) * 1000:.0f} ms",
        "",
    )
    table.add_row(
        "live step shown, p99",
        f"{ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000:.0f} ms",
        "",
    )
    console.print(table)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=500, help="steps of the long run")
    parser.add_argument("--live-runs", type=int, default=3, help="runs followed live")
    arguments = parser.parse_args()
    main(arguments.steps, arguments.live_runs)
