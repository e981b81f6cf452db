"""Real processes for tests: the Temporal dev server and workers, on free ports, stopped by PID."""

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from cli.temporal_server import dev_server_command, wait_for_port
from tests.helpers import free_port

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
    with log.open("ab") as sink:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "backend.main:app",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
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
