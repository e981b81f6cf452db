"""The stack the browser tests drive, and a browser page that leaves evidence when a test fails.

One `agent-runtime dev` (Temporal dev server, API, worker, workbench) on free ports for the
session; stopped by its process group even when tests fail. Chromium is Debian's
(`apt-get install chromium`), launched headless without a sandbox.
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import ConsoleMessage, Page

from client import AgentRuntimeClient

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM = os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
# The embedded default: nothing of a full stack the developer may have configured.
NOT_EMBEDDED = (
    "DATABASE_URL",
    "TEMPORAL_ADDRESS",
    "REDIS_URL",
    "OIDC_ISSUER",
    "OIDC_AUDIENCE",
    "S3_ENDPOINT",
    "LANGFUSE_BASE_URL",
    "LANGFUSE_HOST",
    "AGENT_RUNTIME_URL",
    "AGENT_RUNTIME_TOKEN",
)


@dataclass
class Stack:
    process: subprocess.Popen[bytes]
    api_url: str
    ui_url: str
    data_dir: Path
    log: Path

    @property
    def admin_key(self) -> str:
        return (self.data_dir / "admin.key").read_text().strip()

    def client(self, token: str | None = None) -> AgentRuntimeClient:
        return AgentRuntimeClient(self.api_url, token or self.admin_key)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@contextmanager
def running_stack(base: Path, **extra_env: str) -> Iterator[Stack]:
    """`agent-runtime dev` with the workbench, on free ports; stopped by process group."""
    if not Path(CHROMIUM).exists():
        _unavailable(f"no Chromium at {CHROMIUM}: apt-get install -y chromium")
    from cli import ui

    if not ui.build_is_current() and not (ui.BUN_BIN / "bun").exists():
        _unavailable("bun is not installed (make install) and the workbench is not built")
    data_dir, log = base / "data", base / "dev.log"
    api_port, ui_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if k not in NOT_EMBEDDED}
    env.update(COLUMNS="200", **extra_env)
    with log.open("wb") as sink:
        process = subprocess.Popen(  # noqa: S603  (our own command)
            [
                str(BIN / "agent-runtime"),
                "dev",
                "--data-dir",
                str(data_dir),
                "--api-port",
                str(api_port),
                "--temporal-port",
                str(free_port()),
                "--ui-port",
                str(ui_port),
            ],
            stdout=sink,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=ROOT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 300  # the very first start builds the frontend
        while "Agent Runtime is up" not in log.read_text(errors="replace"):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the dev stack did not come up:\n{log.read_text(errors='replace')}")
            time.sleep(0.2)
        yield Stack(
            process,
            f"http://127.0.0.1:{api_port}",
            f"http://127.0.0.1:{ui_port}",
            data_dir,
            log,
        )
    finally:
        _stop(process)


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(tmp_path_factory.mktemp("e2e-stack")) as running:
        yield running


@pytest.fixture(scope="session")
def base_url(stack: Stack) -> str:
    return stack.ui_url


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    return {**browser_context_args, "viewport": {"width": 1440, "height": 900}}


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture
def ui(page: Page, request: pytest.FixtureRequest, stack: Stack) -> Iterator[Page]:
    """The browser page; a failing test leaves a screenshot, the console log and the stack's log."""
    console: list[str] = []

    def record(message: ConsoleMessage) -> None:
        console.append(f"[{message.type}] {message.text}")

    page.on("console", record)
    page.on("pageerror", lambda error: console.append(f"[pageerror] {error}"))
    page.set_default_timeout(15_000)
    yield page
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        folder = ARTIFACTS / re.sub(r"[^\w.-]+", "_", request.node.nodeid)
        folder.mkdir(parents=True, exist_ok=True)
        try:
            page.screenshot(path=str(folder / "screenshot.png"), full_page=True)
        except Exception as exc:
            console.append(f"[screenshot failed] {exc}")
        (folder / "console.log").write_text("\n".join(console) + "\n")
        (folder / "url.txt").write_text(page.url + "\n")
        shutil.copy(stack.log, folder / "dev.log")


@pytest.fixture
def admin(stack: Stack) -> Iterator[AgentRuntimeClient]:
    with stack.client() as client:
        yield client
