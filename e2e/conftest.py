"""The stack the browser tests drive, and a browser page that leaves evidence when a test fails.

One `agent-runtime dev` (Temporal dev server, API, worker, workbench) on free ports for the
session; stopped by PID even when tests fail. Chromium is Debian's
(`apt-get install chromium`), launched headless without a sandbox.
"""

import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import ConsoleMessage, Page

from client import AgentRuntimeClient
from tests.helpers import free_port
from tests.stack import DevStack, dev_stack

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


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Browser tests run last, after the fixtures' own ordering: Playwright's sync API keeps an
    event loop running in the main thread for the rest of the session, where a later test's
    `asyncio.run` would fail."""
    here = Path(__file__).resolve().parent
    items.sort(key=lambda item: here in Path(item.path).resolve().parents)


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


@contextmanager
def running_stack(base: Path, **extra_env: str) -> Iterator[DevStack]:
    """`agent-runtime dev` with the workbench, on free ports; stopped by PID."""
    if not Path(CHROMIUM).exists():
        _unavailable(f"no Chromium at {CHROMIUM}: apt-get install -y chromium")
    from cli import ui

    if not ui.build_is_current() and not (ui.BUN_BIN / "bun").exists():
        _unavailable("bun is not installed (make install) and the workbench is not built")
    # The very first start builds the frontend: allow minutes.
    with dev_stack(base / "data", extra_env, ui_port=free_port(), ready_timeout=300) as stack:
        yield stack


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevStack]:
    with running_stack(tmp_path_factory.mktemp("e2e-stack")) as running:
        yield running


@pytest.fixture(scope="session")
def base_url(stack: DevStack) -> str:
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
def ui(page: Page, request: pytest.FixtureRequest, stack: DevStack) -> Iterator[Page]:
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
        shutil.copy(stack.output, folder / "dev.log")


@pytest.fixture
def admin(stack: DevStack) -> Iterator[AgentRuntimeClient]:
    with stack.client() as client:
        yield client
