"""Metrics and structured logs: what an operator scrapes and greps."""

import json
import re
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
