"""The product as a new user runs it: `agent-runtime dev`, then plain HTTP with the printed key."""

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from client import AgentRuntimeClient, ApiError
from tests.conftest import fresh_postgres_database, require_postgres
from tests.helpers import (
    Api,
    error_fields,
    free_port,
    run_agent,
    scripted_config,
    steps_of,
    wait_for_run,
)
from tests.stack import BIN, ROOT, clean_env, dev_stack, stop_process, wait_ready
from tests.tool_endpoint import running_tool_endpoint


def children_of(pid: int) -> dict[int, str]:
    """Child pid -> its command line."""
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
                command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found[int(entry.name)] = command
    return found


@contextmanager
def database_for(kind: str) -> Iterator[dict[str, str]]:
    if kind == "sqlite":
        yield {}
        return
    require_postgres()
    with fresh_postgres_database() as url:
        yield {"DATABASE_URL": url}


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_a_new_user_session(kind: str, tmp_path: Path) -> None:
    with database_for(kind) as env, dev_stack(tmp_path / "data", env) as stack:
        key = (stack.data_dir / "admin.key").read_text().strip()
        assert key in stack.printed
        assert oct((stack.data_dir / "admin.key").stat().st_mode)[-3:] == "600"
        with httpx.Client(base_url=stack.url, timeout=10) as http:
            admin = Api(http, key)
            a = admin.new_tenant_admin("tenant-a")
            b = admin.new_tenant_admin("tenant-b")
            agent = a.new_agent("support-bot")
            v1 = a.publish(agent["id"])
            v2 = a.publish(agent["id"], scripted_config(system_prompt="Be brief."))
            assert (v1["number"], v2["number"]) == (1, 2)

            base = f"/v1/agents/{agent['id']}"
            for response in (
                b.get(base),
                b.get(f"{base}/versions"),
                b.get(f"{base}/versions/1"),
                b.patch(base, json={"name": "mine"}),
            ):
                assert response.status_code == 404
            assert b.ok(b.get("/v1/agents"))["items"] == []

            assert a.put(f"{base}/versions/1", json=scripted_config()).status_code == 405
            assert a.patch(f"{base}/versions/2", json={"notes": "x"}).status_code == 405
            bad = a.post(f"{base}/versions", json=scripted_config(limits={"max_steps": -1}))
            assert bad.status_code == 422
            assert error_fields(bad) == ["limits.max_steps"]

            with AgentRuntimeClient(stack.url, a.token) as client_a:
                assert [x["id"] for x in client_a.list_agents()] == [agent["id"]]
                assert [v["number"] for v in client_a.list_versions(agent["id"])] == [1, 2]
            with AgentRuntimeClient(stack.url, b.token) as client_b:
                with pytest.raises(ApiError) as refused:
                    client_b.get_agent(agent["id"])
                assert (refused.value.status, refused.value.code) == (404, "not_found")

            # The demo agent seeded on first start runs without any model key.
            listed = admin.ok(admin.get("/v1/agents", params={"q": "demo"}))["items"]
            seeded = {agent["name"]: agent for agent in listed}
            assert set(seeded) == {"demo-calculator", "demo-chat", "demo-mcp"}
            run = run_agent(admin, seeded["demo-calculator"]["id"], "What is 6 times 7?")
            finished = wait_for_run(admin, run["id"])
            assert finished["status"] == "succeeded"
            assert "42" in finished["output"]
            # The demo chat answers from its thread's conversation.
            thread = admin.ok(admin.post("/v1/threads", json={}), 201)
            for said in ("Hi, I am Ada", "And then?"):
                body = {"agent": "demo-chat", "input": said}
                turn = admin.ok(admin.post(f"/v1/threads/{thread['id']}/runs", json=body), 202)
                answered = wait_for_run(admin, turn["id"])
            assert answered["output"] == "You have said 2 things so far: Hi, I am Ada | And then?"
            # The MCP demo calls the bundled MCP server (stdio), whose tools its version pins.
            pinned = admin.ok(admin.get(f"/v1/agents/{seeded['demo-mcp']['id']}/versions/1"))
            assert [t["name"] for t in pinned["tools"][0]["tools"]] == ["reverse", "word_count"]
            mcp_run = wait_for_run(
                admin, run_agent(admin, seeded["demo-mcp"]["id"], "stressed")["id"]
            )
            assert mcp_run["status"] == "succeeded"
            (reversed_step,) = [s for s in steps_of(admin, mcp_run["id"]) if s["kind"] == "tool"]
            assert reversed_step["output"]["content"]["text"] == "desserts"

            openapi = http.get("/openapi.json").json()
            assert "/v1/agents/{agent_id}/versions/{number}" in openapi["paths"]


def test_the_admin_key_survives_a_restart(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    with dev_stack(data_dir) as stack:
        first = (data_dir / "admin.key").read_text().strip()
    assert stack.process.returncode == 0
    with dev_stack(data_dir) as stack:
        assert first in stack.printed
        assert (
            httpx.get(
                f"{stack.url}/v1/agents", headers={"Authorization": f"Bearer {first}"}
            ).status_code
            == 200
        )


def test_sigterm_stops_every_child(tmp_path: Path) -> None:
    with dev_stack(tmp_path / "data") as stack:
        children = children_of(stack.process.pid)
        commands = " ".join(children.values())
        assert len(children) == 3, children
        assert "start-dev" in commands
        assert "uvicorn" in commands
        assert "-m worker" in commands
        os.kill(stack.process.pid, signal.SIGTERM)
        assert stack.process.wait(timeout=20) == 0
    for pid in children:
        assert (
            not Path(f"/proc/{pid}").exists()
            or "Z" in Path(f"/proc/{pid}/stat").read_text().split()[2]
        )


def test_a_child_that_dies_is_reported(tmp_path: Path) -> None:
    with dev_stack(tmp_path / "data") as stack:
        children = children_of(stack.process.pid)
        (api_pid,) = [pid for pid, command in children.items() if "uvicorn" in command]
        os.kill(api_pid, signal.SIGKILL)
        assert stack.process.wait(timeout=20) != 0
        assert "api exited unexpectedly" in stack.printed


def test_dev_uses_the_engine_named_by_temporal_address(
    tmp_path: Path, temporal_address: str
) -> None:
    with dev_stack(tmp_path / "data", {"TEMPORAL_ADDRESS": temporal_address}) as stack:
        commands = " ".join(children_of(stack.process.pid).values())
        assert "start-dev" not in commands
        assert temporal_address in stack.printed
        key = (stack.data_dir / "admin.key").read_text().strip()
        with httpx.Client(base_url=stack.url, timeout=10) as http:
            admin = Api(http, key)
            listed = admin.ok(admin.get("/v1/agents", params={"q": "demo-calculator"}))["items"]
            (demo,) = listed
            finished = wait_for_run(admin, run_agent(admin, demo["id"])["id"])
            assert finished["status"] == "succeeded"


def test_plain_entry_points(tmp_path: Path) -> None:
    """`python scripts/migrate.py` and `uvicorn backend.main:app` work without the CLI."""
    env = clean_env(AGENT_RUNTIME_DATA_DIR=str(tmp_path / "plain"))
    migrate = subprocess.run(
        [sys.executable, "scripts/migrate.py"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert migrate.returncode == 0, migrate.stderr
    port = free_port()
    log = tmp_path / "uvicorn.log"
    with log.open("w") as sink:
        server = subprocess.Popen(
            [str(BIN / "uvicorn"), "backend.main:app", "--host", "127.0.0.1", "--port", str(port)],
            cwd=tmp_path,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
    try:
        wait_ready(f"http://127.0.0.1:{port}", server, log)
    finally:
        stop_process(server, grace=20)


def test_the_embedded_stack_gates_http_tools_and_keeps_artifacts(tmp_path: Path) -> None:
    """Approve a gated HTTP tool and download the file the agent saved, via the REST client."""
    script = [
        {"tool_calls": [{"name": "notify", "arguments": {"message": "deploy done"}}]},
        {
            "tool_calls": [
                {"name": "artifact_write", "arguments": {"name": "log.txt", "content": "ok"}}
            ]
        },
        {"text": "Notified and logged."},
    ]
    with (
        running_tool_endpoint() as endpoint,
        dev_stack(tmp_path / "data", {"TOOL_ALLOW_PRIVATE_NETWORKS": "true"}) as stack,
    ):
        key = (stack.data_dir / "admin.key").read_text().strip()
        with AgentRuntimeClient(stack.url, key) as client:
            agent = client.create_agent("notifier")
            client.publish_version(
                agent["id"],
                {
                    "model": {"provider": "scripted", "parameters": {"script": script}},
                    "tools": [
                        {
                            "type": "http",
                            "name": "notify",
                            "url": f"{endpoint.base_url}/notify",
                            "parameters": {
                                "type": "object",
                                "properties": {"message": {"type": "string"}},
                                "required": ["message"],
                            },
                            "requires_approval": True,
                        },
                        {"type": "builtin", "name": "artifact_write"},
                    ],
                },
            )
            run = client.start_run(agent["id"], "tell the team")
            client.wait_for_run(run["id"], until={"awaiting_approval"}, timeout=60)
            (pending,) = client.list_approvals(status="pending")
            assert endpoint.calls == []
            client.decide_approval(run["id"], pending["id"], "approve", comment="fine")
            finished = client.wait_for_run(run["id"], timeout=60)
            assert (finished["status"], finished["output"]) == ("succeeded", "Notified and logged.")
            assert [call["body"] for call in endpoint.calls] == [{"message": "deploy done"}]
            assert client.download_artifact(run["id"], "log.txt") == b"ok"
            assert (stack.data_dir / "objects").is_dir()  # the embedded object store
