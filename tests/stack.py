"""Real processes for tests: the Temporal dev server, workers, the API and `agent-runtime dev`,
on free ports, stopped by PID."""

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from cli.temporal_server import dev_server_command, wait_for_port
from client import AgentRuntimeClient
from tests.helpers import free_port

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parent.parent
# Scripted models named "priced" cost $0.10 per token, so budgets can be exercised.
TEST_PRICES = json.dumps({"scripted:priced": {"input": 100_000, "output": 100_000}})


def stop_process(process: subprocess.Popen[Any], grace: float = 15.0) -> None:
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def wait_ready(url: str, process: subprocess.Popen[Any], log: Path, timeout: float = 60) -> None:
    """Until the API at `url` answers /readyz; fails with the process's output otherwise."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"exited early ({process.returncode}):\n{log.read_text()}")
        try:
            if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"not ready in time:\n{log.read_text()}")


def start_temporal(data_dir: Path, port: int) -> subprocess.Popen[bytes]:
    data_dir.mkdir(parents=True, exist_ok=True)
    with (data_dir / f"temporal-{port}.log").open("ab") as log:
        process = subprocess.Popen(
            dev_server_command(data_dir, port),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_for_port(port, timeout=60)
    except TimeoutError:
        stop_process(process)
        raise
    return process


@contextmanager
def running_temporal(data_dir: Path) -> Iterator[str]:
    port = free_port()
    process = start_temporal(data_dir, port)
    try:
        yield f"127.0.0.1:{port}"
    finally:
        stop_process(process)


def start_worker(env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    with log_path.open("ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "worker"],
            env={**os.environ, "MODEL_PRICES": TEST_PRICES, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


@contextmanager
def running_worker(env: dict[str, str], log_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    process = start_worker(env, log_path)
    try:
        time.sleep(0.2)
        if process.poll() is not None:
            raise RuntimeError(f"the worker exited at once:\n{log_path.read_text()}")
        yield process
    finally:
        stop_process(process)


def start_api(env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    """`agent-runtime api` on 127.0.0.1:`port`, once it is ready."""
    with log.open("ab") as sink:
        process = subprocess.Popen(
            [str(BIN / "agent-runtime"), "api", "--host", "127.0.0.1", "--port", str(port)],
            env={**os.environ, **env},
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_ready(f"http://127.0.0.1:{port}", process, log)
    except AssertionError:
        stop_process(process)
        raise
    return process


# `agent-runtime dev`, as a new user starts it ----------------------------------------------------
# The embedded default: nothing of a full stack the developer may have configured.
NOT_EMBEDDED = frozenset(
    {
        *("DATABASE_URL", "TEMPORAL_ADDRESS", "REDIS_URL", "OIDC_ISSUER", "OIDC_AUDIENCE"),
        *("S3_ENDPOINT", "LANGFUSE_BASE_URL", "LANGFUSE_HOST"),
        *("AGENT_RUNTIME_URL", "AGENT_RUNTIME_TOKEN"),
    }
)


@dataclass
class DevStack:
    process: subprocess.Popen[str]
    url: str  # the API
    data_dir: Path
    output: Path
    ui_url: str = ""  # the workbench, when started with one

    @property
    def printed(self) -> str:
        return self.output.read_text(errors="replace")

    @property
    def admin_key(self) -> str:
        return (self.data_dir / "admin.key").read_text().strip()

    def client(self, token: str | None = None) -> AgentRuntimeClient:
        return AgentRuntimeClient(self.url, token or self.admin_key)


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in NOT_EMBEDDED}
    env.update(extra)
    return env


def _start_dev(
    data_dir: Path, ui_port: int | None, env: dict[str, str]
) -> tuple[subprocess.Popen[str], str, Path]:
    port = free_port()
    output = data_dir.parent / f"dev-{port}.log"
    # Without a UI port the workbench stays off: it has its own browser tests (e2e/).
    ui = ["--ui-port", str(ui_port)] if ui_port else ["--no-ui"]
    with output.open("w") as sink:
        process = subprocess.Popen(
            [
                *(str(BIN / "agent-runtime"), "dev", "--data-dir", str(data_dir)),
                *("--api-port", str(port), "--temporal-port", str(free_port()), *ui),
            ],
            stdout=sink,
            stderr=subprocess.STDOUT,
            text=True,
            env=clean_env(COLUMNS="200", **env),
            cwd=ROOT,
            start_new_session=True,
        )
    return process, f"http://127.0.0.1:{port}", output


@contextmanager
def dev_stack(
    data_dir: Path,
    env: dict[str, str] | None = None,
    *,
    ui_port: int | None = None,
    ready_timeout: float = 30.0,
) -> Iterator[DevStack]:
    """`agent-runtime dev` on free ports, until it says it is up; stopped by PID afterwards.

    `ready_timeout` bounds the wait after the API answers (a workbench's first build is slow).
    """
    env = env or {}
    process, url, output = _start_dev(data_dir, ui_port, env)
    try:
        try:
            wait_ready(url, process, output)
        except AssertionError:
            # A port chosen free can be taken before it is bound (the engine picks its own
            # internal ports too): that race, and only it, earns one more try.
            if "address already in use" not in output.read_text():
                raise
            stop_process(process, grace=20)
            process, url, output = _start_dev(data_dir, ui_port, env)
            wait_ready(url, process, output)
        ui_url = f"http://127.0.0.1:{ui_port}" if ui_port else ""
        stack = DevStack(process, url, data_dir, output, ui_url)
        deadline = time.monotonic() + ready_timeout
        while "Agent Runtime is up" not in stack.printed:
            assert time.monotonic() < deadline, stack.printed
            time.sleep(0.1)
        yield stack
    finally:
        stop_process(process, grace=20)
