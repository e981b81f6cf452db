"""HTTP tools, approvals, large payloads and artifacts, end to end through the REST API.

Real parts throughout: Temporal dev server, worker processes, a local tool endpoint that counts
its calls, and both object stores (a directory, and S3 served by SeaweedFS).
"""

import base64
import json
import os
import secrets
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import Api, agent_with, run_agent, script, steps_of, wait_for_run
from tests.private_engine import Engine, tenant_on
from tests.s3_server import S3Server
from tests.stack import start_worker
from tests.tool_endpoint import ToolEndpoint, running_tool_endpoint

TOKEN = "tkt-" + secrets.token_hex(8)  # what the worker's environment holds; no one else may see it
FIVE_MB = 5 * 1024 * 1024


@pytest.fixture
def endpoint() -> Iterator[ToolEndpoint]:
    with running_tool_endpoint() as running:
        yield running


def http_tool(endpoint: ToolEndpoint, name: str, path: str, **fields: Any) -> dict[str, Any]:
    return {
        "type": "http",
        "name": name,
        "description": f"{name} at the test endpoint",
        "url": f"{endpoint.base_url}{path}",
        **fields,
    }


def call(tool: str, /, **arguments: Any) -> dict[str, Any]:
    return {"tool_calls": [{"name": tool, "arguments": arguments}]}


TICKET_SCHEMA = {
    "type": "object",
    "properties": {"title": {"type": "string"}, "priority": {"enum": ["low", "high"]}},
    "required": ["title"],
    "additionalProperties": False,
}


def test_an_approved_http_tool_runs_once_even_after_a_worker_dies_during_the_wait(
    database_url: str, temporal_address: str, tmp_path: Path, endpoint: ToolEndpoint
) -> None:
    engine = Engine(database_url, temporal_address, tmp_path, {"TICKET_TOKEN": TOKEN})
    try:
        with tenant_on(engine, database_url, tmp_path) as tenant:
            first_worker = engine.start_worker()
            ticket = http_tool(
                endpoint,
                "create_ticket",
                "/tickets",
                method="POST",
                parameters=TICKET_SCHEMA,
                headers={"X-Api-Token": {"secret": "TICKET_TOKEN"}, "X-Team": "support"},
                requires_approval=True,
            )
            config = script(
                call("create_ticket", title="Printer on fire", priority="high"),
                {"text": "Ticket filed."},
                tools=[ticket],
            )
            agent_id = agent_with(tenant, config)
            run = run_agent(tenant, agent_id)
            wait_for_run(tenant, run["id"], until={"awaiting_approval"})
            inbox = tenant.ok(tenant.get("/v1/approvals", params={"status": "pending"}))["items"]
            (approval,) = [item for item in inbox if item["run_id"] == run["id"]]
            assert approval["tool_name"] == "create_ticket"
            assert approval["arguments"] == {"title": "Printer on fire", "priority": "high"}

            # The worker dies while the run waits; a new one takes over the durable wait.
            os.kill(first_worker.pid, signal.SIGKILL)
            first_worker.wait()
            engine.start_worker()
            url = f"/v1/runs/{run['id']}/approvals/{approval['id']}"
            tenant.ok(tenant.post(url, json={"decision": "approve", "comment": "go"}))
            finished = wait_for_run(tenant, run["id"])
            assert (finished["status"], finished["output"]) == ("succeeded", "Ticket filed.")

            (sent,) = endpoint.calls_to("/tickets")  # exactly once
            assert sent["method"] == "POST"
            assert sent["body"] == {"title": "Printer on fire", "priority": "high"}
            assert sent["headers"]["idempotency-key"] == f"{run['id']}:2"
            assert sent["headers"]["x-api-token"] == TOKEN
            assert sent["headers"]["x-team"] == "support"
            tool_step = steps_of(tenant, run["id"])[1]
            assert tool_step["output"]["content"]["received"] == sent["body"]

            # The secret is a reference everywhere the API shows the agent or the run.
            seen = [
                tenant.get(f"/v1/agents/{agent_id}/versions/1").text,
                tenant.get(f"/v1/runs/{run['id']}").text,
                tenant.get(f"/v1/runs/{run['id']}/steps").text,
                tenant.get(f"/v1/runs/{run['id']}/approvals").text,
            ]
            assert all(TOKEN not in text for text in seen)
            assert '"secret":"TICKET_TOKEN"' in seen[0].replace(" ", "")
    finally:
        engine.stop()
    assert all(TOKEN not in path.read_text() for path in tmp_path.glob("worker-*.log"))


@pytest.fixture(params=["filesystem", "s3"])
def store_env(request: pytest.FixtureRequest) -> dict[str, str]:
    if request.param == "filesystem":
        return {}
    server: S3Server = request.getfixturevalue("s3_server")
    return server.env(f"runs-{secrets.token_hex(4)}")


def test_a_5_mb_tool_result_travels_by_reference(
    database_url: str,
    temporal_address: str,
    tmp_path: Path,
    endpoint: ToolEndpoint,
    store_env: dict[str, str],
    request: pytest.FixtureRequest,
) -> None:
    endpoint.large_size = FIVE_MB
    engine = Engine(database_url, temporal_address, tmp_path, store_env)
    try:
        with tenant_on(engine, database_url, tmp_path) as tenant:
            engine.start_worker()
            fetch = http_tool(endpoint, "fetch_dump", "/large", method="GET")
            config = script(call("fetch_dump"), {"text": "Got it."}, tools=[fetch])
            run = wait_for_run(tenant, run_agent(tenant, agent_with(tenant, config))["id"])
            assert (run["status"], run["output"]) == ("succeeded", "Got it."), run

            listed = steps_of(tenant, run["id"])[1]
            assert listed["status"] == "succeeded"
            assert listed["output"]["size"] > FIVE_MB  # a stub in lists ...
            assert listed["output_url"] == f"/v1/runs/{run['id']}/steps/2/output"
            assert listed["input_url"] is None  # ... only for what is large

            step = tenant.ok(tenant.get(f"/v1/runs/{run['id']}/steps/2"))  # resolved when read
            assert len(step["output"]["content"]["blob"]) == FIVE_MB - len('{"blob":""}')
            downloaded = tenant.get(listed["output_url"])
            assert downloaded.status_code == 200
            assert json.loads(downloaded.content) == step["output"]
            assert len(downloaded.content) == listed["output"]["size"]
    finally:
        engine.stop()
    key = listed["output"]["$ref"]
    if store_env:  # the payload is in the bucket, not in the database
        server: S3Server = request.getfixturevalue("s3_server")
        stat = server.client().stat_object(store_env["S3_BUCKET"], key)
        assert stat.size == listed["output"]["size"]
    else:
        assert (tmp_path / "objects" / key).stat().st_size >= listed["output"]["size"]


@pytest.mark.usefixtures("engine_env")
def test_an_agent_saves_artifacts_that_only_its_tenant_can_download(
    tenant_a: Api, tenant_b: Api
) -> None:
    report = "# Findings\n\n" + "All good. " * 20_000  # large: its tool call travels by reference
    png = bytes(range(256)) * 4
    config = script(
        call("artifact_write", name="report.md", content=report, content_type="text/markdown"),
        call(
            "artifact_write",
            name="chart.png",
            content=base64.b64encode(png).decode(),
            encoding="base64",
            content_type="image/png",
        ),
        call("artifact_write", name="../escape", content="x"),
        {"text": "Saved."},
        tools=[{"type": "builtin", "name": "artifact_write"}],
        limits={"max_tokens": 10_000_000},  # the scripted model counts words
    )
    run = wait_for_run(tenant_a, run_agent(tenant_a, agent_with(tenant_a, config))["id"])
    assert run["status"] == "succeeded", run["error"]
    steps = steps_of(tenant_a, run["id"])
    assert steps[0]["output_url"]  # the model's 200 KB tool call was offloaded, and still ran
    assert [s["status"] for s in steps if s["kind"] == "tool"] == [
        "succeeded",
        "succeeded",
        "failed",
    ]
    assert "name" in steps[5]["error"]["message"]

    artifacts = tenant_a.ok(tenant_a.get(f"/v1/runs/{run['id']}/artifacts"))["items"]
    assert [(a["name"], a["size"], a["content_type"]) for a in artifacts] == [
        ("chart.png", len(png), "image/png"),
        ("report.md", len(report.encode()), "text/markdown"),
    ]
    markdown = tenant_a.get(artifacts[1]["download_url"])
    assert markdown.status_code == 200
    assert markdown.text == report
    assert markdown.headers["content-type"].startswith("text/markdown")
    assert 'filename="report.md"' in markdown.headers["content-disposition"]
    image = tenant_a.get(f"/v1/runs/{run['id']}/artifacts/chart.png")
    assert (image.content, image.headers["content-type"]) == (png, "image/png")

    assert tenant_a.get(f"/v1/runs/{run['id']}/artifacts/missing.txt").status_code == 404
    assert tenant_b.get(f"/v1/runs/{run['id']}/artifacts").status_code == 404
    assert tenant_b.get(artifacts[1]["download_url"]).status_code == 404
    assert tenant_b.get(f"/v1/runs/{run['id']}/steps/1").status_code == 404


def test_a_worker_with_wrong_s3_credentials_refuses_to_start(
    s3_server: S3Server, tmp_path: Path
) -> None:
    wrong = secrets.token_hex(12)
    env = {
        **s3_server.env("never-made"),
        "S3_SECRET_KEY": wrong,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'unused.db'}",
        "TEMPORAL_ADDRESS": "127.0.0.1:1",
    }
    log = tmp_path / "worker.log"
    worker = start_worker(env, log)
    assert worker.wait(timeout=60) != 0
    output = log.read_text()
    assert "S3_SECRET_KEY" in output  # it says what to check ...
    assert wrong not in output  # ... without printing it
