"""Metrics and structured logs: what an operator scrapes and greps."""

import json
import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.helpers import Api, agent_with, calc, free_port, run_agent, script, wait_for_run
from tests.private_engine import Engine, tenant_on


def sample(text: str, name: str, **labels: str) -> float:
    """The value of one series in Prometheus' text format (0 when absent)."""
    wanted = ",".join(f'{key}="{value}"' for key, value in sorted(labels.items()))
    pattern = re.compile(rf"^{re.escape(name)}(?:\{{(.*)\}})? (\S+)$")
    for line in text.splitlines():
        match = pattern.match(line)
        if match and ",".join(sorted((match.group(1) or "").split(","))) == wanted:
            return float(match.group(2))
    return 0.0


@pytest.mark.usefixtures("engine_env")
def test_the_api_counts_runs_for_platform_admins_only(admin: Api, tenant_a: Api) -> None:
    assert admin.client.get("/metrics").status_code == 401
    assert tenant_a.get("/metrics").status_code == 403
    before = sample(admin.ok_text("/metrics"), "agent_runtime_runs_started_total")
    run = run_agent(tenant_a, agent_with(tenant_a, script({"text": "hi"})))
    wait_for_run(tenant_a, run["id"])
    after = admin.ok_text("/metrics")
    assert sample(after, "agent_runtime_runs_started_total") == before + 1
    assert "agent_runtime_event_lag_seconds_bucket" in after


def test_a_worker_serves_metrics_and_logs_json_lines_with_run_and_tenant(
    database_url: str, temporal_address: str, tmp_path: Path
) -> None:
    port = free_port()
    engine = Engine(database_url, temporal_address, tmp_path, {"WORKER_METRICS_PORT": str(port)})
    try:
        with tenant_on(engine, database_url, tmp_path) as tenant:
            engine.start_worker()
            run = run_agent(tenant, agent_with(tenant, script(calc("1+1"), {"text": "two"})))
            assert wait_for_run(tenant, run["id"])["status"] == "succeeded"
            metrics = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
            finished = sample(metrics, "agent_runtime_runs_finished_total", status="succeeded")
            assert finished == 1
            model_steps = sample(
                metrics,
                "agent_runtime_step_duration_seconds_count",
                kind="model",
                status="succeeded",
            )
            assert model_steps == 2
            tool_steps = sample(
                metrics,
                "agent_runtime_step_duration_seconds_count",
                kind="tool",
                status="succeeded",
            )
            assert tool_steps == 1
    finally:
        engine.stop()
    lines = [json.loads(line) for line in (tmp_path / "worker-0.log").read_text().splitlines()]
    about_run = [line for line in lines if line.get("run_id") == run["id"]]
    assert len(about_run) >= 4  # three steps and the ending
    assert {line["tenant_id"] for line in about_run} == {tenant.tenant_id}
    assert {line["service"] for line in lines} == {"worker"}
    assert any(line["message"] == "run ended succeeded" for line in about_run)


# A process that logs as the API does: its settings pick the format, its stderr is the stream.
LOGGING_PROCESS = """
import logging
from pydantic import SecretStr
from backend.settings import Settings
from core.observability import configure_logging, run_id_var, tenant_id_var
configure_logging("api", Settings().log_format)
run_id_var.set("run_0001")
tenant_id_var.set("ten_0001")
logging.getLogger("agent_runtime.api").info(
    "run ended %s", "succeeded", extra={"api_key": SecretStr("ark_do_not_print")}
)
"""
TEXT_LINE = re.compile(
    r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} INFO +agent_runtime\.api  run ended succeeded  "
    r"run_id=run_0001 tenant_id=ten_0001 service=api api_key=\*+"
)


def logged_by_a_process(on_a_terminal: bool, log_format: str | None = None) -> tuple[int, str]:
    """The exit code and stderr of LOGGING_PROCESS, its stderr a terminal (a pty) or a pipe."""
    env = {name: value for name, value in os.environ.items() if name != "LOG_FORMAT"}
    if log_format is not None:
        env["LOG_FORMAT"] = log_format
    argv = [sys.executable, "-c", LOGGING_PROCESS]
    root = Path(__file__).resolve().parent.parent
    if not on_a_terminal:
        done = subprocess.run(argv, env=env, cwd=root, capture_output=True, text=True, timeout=60)
        return done.returncode, done.stderr
    controller, terminal = pty.openpty()
    try:
        process = subprocess.Popen(argv, env=env, cwd=root, stderr=terminal)
        os.close(terminal)
        output = b""
        while True:
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # EIO: the process closed its end of the terminal
                break
            if not chunk:
                break
            output += chunk
        code = process.wait(timeout=60)
    finally:
        os.close(controller)
    return code, output.decode().replace("\r\n", "\n")


@pytest.mark.parametrize(
    ("on_a_terminal", "log_format", "expected"),
    [
        (True, None, "text"),
        (False, None, "json"),
        (True, "json", "json"),
        (False, "text", "text"),
    ],
    ids=["terminal", "pipe", "terminal-json", "pipe-text"],
)
def test_logs_are_text_on_a_terminal_and_json_elsewhere_unless_log_format_says(
    on_a_terminal: bool, log_format: str | None, expected: str
) -> None:
    code, output = logged_by_a_process(on_a_terminal, log_format)
    assert code == 0, output
    (line,) = output.splitlines()
    assert "ark_do_not_print" not in output
    if expected == "text":
        assert TEXT_LINE.fullmatch(line), line
        return
    record = json.loads(line)
    assert (record["level"], record["logger"], record["message"]) == (
        "INFO",
        "agent_runtime.api",
        "run ended succeeded",
    )
    assert (record["service"], record["run_id"], record["tenant_id"]) == (
        "api",
        "run_0001",
        "ten_0001",
    )
    assert set(record["api_key"]) == {"*"}


def test_an_unknown_log_format_stops_the_process_naming_it() -> None:
    code, output = logged_by_a_process(False, "xml")
    assert code != 0
    assert "LOG_FORMAT" in output
