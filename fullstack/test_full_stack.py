"""`make test-full`: the product with every external part real, or its closest stand-in here,
all at once: Postgres, Redis, SeaweedFS as S3, nanoidp as the OIDC issuer, a LangFuse receiver,
a separately started Temporal dev server reached via TEMPORAL_ADDRESS, an API process and two
workers. The smoke signs in through the issuer and goes author -> run -> approve -> live trace
-> artifact.
"""

import secrets
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis

from backend.services.bootstrap import ensure_admin_key
from client import AgentRuntimeClient
from core.db import make_engine
from tests.conftest import fresh_postgres_database, require_postgres
from tests.helpers import free_port
from tests.langfuse_receiver import LangfuseReceiver, running_receiver
from tests.oidc_provider import AUDIENCE, OidcProvider, running_oidc_provider
from tests.s3_server import S3Server, running_seaweedfs
from tests.stack import BIN, start_api, start_temporal, start_worker, stop_process
from tests.tool_endpoint import ToolEndpoint, running_tool_endpoint
from worker.tracing import trace_id_for

REDIS_URL = "redis://127.0.0.1:6379/0"


@dataclass
class FullStack:
    url: str
    env: dict[str, str]
    admin_key: str
    oidc: OidcProvider
    s3: S3Server
    langfuse: LangfuseReceiver
    endpoint: ToolEndpoint
    workers: list[subprocess.Popen[bytes]]
    directory: Path


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FullStack]:
    require_postgres()
    directory = tmp_path_factory.mktemp("full")
    processes: list[subprocess.Popen[bytes]] = []
    with (
        fresh_postgres_database() as database_url,
        running_seaweedfs(tmp_path_factory.mktemp("s3")) as s3,
        running_oidc_provider(tmp_path_factory.mktemp("oidc")) as oidc,
        running_receiver() as langfuse,
        running_tool_endpoint() as endpoint,
    ):
        try:
            temporal_port = free_port()
            processes.append(start_temporal(directory / "temporal", temporal_port))
            env = {
                "DATABASE_URL": database_url,
                "TEMPORAL_ADDRESS": f"127.0.0.1:{temporal_port}",
                "AGENT_RUNTIME_TASK_QUEUE": f"full-{secrets.token_hex(4)}",
                "AGENT_RUNTIME_DATA_DIR": str(directory / "data"),
                "REDIS_URL": REDIS_URL,
                **s3.env(f"full-{secrets.token_hex(4)}"),
                "OIDC_ISSUER": oidc.issuer,
                "OIDC_AUDIENCE": AUDIENCE,
                "LANGFUSE_BASE_URL": langfuse.base_url,
                "LANGFUSE_PUBLIC_KEY": langfuse.public_key,
                "LANGFUSE_SECRET_KEY": langfuse.secret_key,
                "LANGFUSE_EXPORT_INTERVAL_SECONDS": "0.2",
                "TOOL_ALLOW_PRIVATE_NETWORKS": "true",  # the tool endpoint is on loopback
            }
            run_env = {"PATH": f"{BIN}:/usr/bin:/bin", **env}
            migrated = subprocess.run(
                [str(BIN / "agent-runtime"), "migrate"], env=run_env, capture_output=True
            )
            assert migrated.returncode == 0, migrated.stdout + migrated.stderr
            api_port = free_port()
            processes.append(start_api(env, api_port, directory / "api.log"))
            url = f"http://127.0.0.1:{api_port}"
            workers = [start_worker(env, directory / f"worker-{n}.log") for n in (1, 2)]
            processes.extend(workers)
            engine = make_engine(database_url)
            admin_key = ensure_admin_key(engine, directory / "data" / "admin.key")
            engine.dispose()
            yield FullStack(url, env, admin_key, oidc, s3, langfuse, endpoint, workers, directory)
        finally:
            for process in reversed(processes):
                stop_process(process)


def test_a_signed_in_user_authors_runs_approves_watches_and_downloads(stack: FullStack) -> None:
    with AgentRuntimeClient(stack.url, stack.admin_key) as admin:
        if not any(t["name"] == "acme" for t in admin.list_tenants()):
            admin.create_tenant("acme")  # the tenant the issuer puts in its users' tokens
    token = stack.oidc.password_token("alice")  # a developer of acme, signed in at the issuer
    script = [
        {"tool_calls": [{"name": "notify", "arguments": {"message": "release 1.2 is out"}}]},
        {
            "tool_calls": [
                {
                    "name": "artifact_write",
                    "arguments": {"name": "notes.md", "content": "# Release 1.2\n\nShipped."},
                }
            ]
        },
        {"text": "Announced and wrote the notes.", "chunk_delay_seconds": 0.02},
    ]
    with AgentRuntimeClient(stack.url, token) as alice:
        agent = alice.create_agent(f"announcer-{secrets.token_hex(3)}")
        alice.publish_version(
            agent["id"],
            {
                "model": {"provider": "scripted", "name": "demo", "parameters": {"script": script}},
                "tools": [
                    {
                        "type": "http",
                        "name": "notify",
                        "url": f"{stack.endpoint.base_url}/notify",
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
        run = alice.start_run(agent["id"], "announce the release", idempotency_key="full-1")
        assert (
            alice.start_run(agent["id"], "announce the release", idempotency_key="full-1")["id"]
            == run["id"]
        )

        events: list[dict[str, Any]] = []

        def follow() -> None:
            with AgentRuntimeClient(stack.url, token) as follower:
                events.extend(follower.follow_events(run["id"]))

        watcher = threading.Thread(target=follow)
        watcher.start()
        waiting = alice.wait_for_run(run["id"], until={"awaiting_approval"}, timeout=60)
        assert waiting["status"] == "awaiting_approval"
        (pending,) = alice.list_approvals(status="pending")
        assert stack.endpoint.calls == []  # nothing ran before the decision
        alice.decide_approval(run["id"], pending["id"], "approve", comment="ship it")
        finished = alice.wait_for_run(run["id"], timeout=60)
        watcher.join(timeout=60)
        assert (finished["status"], finished["output"]) == (
            "succeeded",
            "Announced and wrote the notes.",
        )

        # Live: the follower saw every step, the decision and the streamed answer, in order.
        assert [e["id"] for e in events] == list(range(1, len(events) + 1))
        kinds = [e["type"] for e in events]
        assert kinds.index("approval.requested") < kinds.index("approval.decided")
        assert kinds[-1] == "run.completed"
        streamed = "".join(e["text"] for e in events if e["type"] == "model.delta")
        assert streamed == finished["output"]
        assert redis.Redis.from_url(REDIS_URL).xlen(f"run:{run['id']}") == len(events)

        # The tool ran once; the artifact is in the S3 bucket and downloads.
        assert [call["body"] for call in stack.endpoint.calls] == [
            {"message": "release 1.2 is out"}
        ]
        assert alice.download_artifact(run["id"], "notes.md") == b"# Release 1.2\n\nShipped."
        bucket = stack.env["S3_BUCKET"]
        keys = [o.object_name for o in stack.s3.client().list_objects(bucket, recursive=True)]
        assert any(key.endswith(f"/runs/{run['id']}/artifacts/notes.md") for key in keys)

        # The trace reached LangFuse, and the run links to it.
        trace = trace_id_for(run["id"])
        deadline = time.monotonic() + 30
        while True:
            spans = [s for s in stack.langfuse.observations().values() if s["trace_id"] == trace]
            linked = alice.get_run(run["id"])["trace_url"]
            if (len(spans) >= 8 and linked) or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        types = sorted(s["attributes"]["langfuse.observation.type"] for s in spans)
        assert types == [
            *("event", "event", "generation", "generation", "generation", "span", "tool", "tool")
        ]
        assert linked.endswith(f"/traces/{trace}")

    assert all(worker.poll() is None for worker in stack.workers)  # both workers still serving


def test_a_viewer_cannot_decide_and_other_tenants_see_nothing(stack: FullStack) -> None:
    with AgentRuntimeClient(stack.url, stack.oidc.password_token("victor")) as viewer:
        agents = viewer.list_agents()
        assert agents  # the smoke's agent, in the viewer's tenant
    with AgentRuntimeClient(stack.url, stack.admin_key) as admin:
        assert all(a["name"] != agents[0]["name"] for a in admin.list_agents())
