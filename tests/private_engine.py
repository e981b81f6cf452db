"""A private task queue with workers a test may kill, and a tenant whose runs go to it."""

import secrets
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from fastapi.testclient import TestClient

from backend.main import create_app
from backend.services.bootstrap import ensure_admin_key
from tests.conftest import empty_all_tables, make_settings
from tests.helpers import Api
from tests.stack import start_worker, stop_process


class Engine:
    """A private task queue with workers this test may kill."""

    def __init__(
        self,
        database_url: str,
        temporal_address: str,
        directory: Path,
        extra_env: dict[str, str] | None = None,
    ) -> None:
        self.directory = directory
        self.env = {
            "DATABASE_URL": database_url,
            "TEMPORAL_ADDRESS": temporal_address,
            "AGENT_RUNTIME_TASK_QUEUE": f"durability-{secrets.token_hex(4)}",
            "TOOL_ALLOW_PRIVATE_NETWORKS": "true",
            # Shared with the API of `tenant_on`, as on one machine: the filesystem object store.
            "AGENT_RUNTIME_DATA_DIR": str(directory),
        }
        self.env.update(extra_env or {})
        self.workers: list[subprocess.Popen[bytes]] = []

    def start_worker(self) -> subprocess.Popen[bytes]:
        worker = start_worker(self.env, self.directory / f"worker-{len(self.workers)}.log")
        self.workers.append(worker)
        return worker

    def stop(self) -> None:
        for worker in self.workers:
            stop_process(worker)


@contextmanager
def tenant_on(engine: Engine, database_url: str, directory: Path) -> Iterator[Api]:
    """An API in this process, starting runs on the engine's private task queue."""
    object_store = {name: value for name, value in engine.env.items() if name.startswith("S3_")}
    settings = make_settings(
        database_url,
        directory,
        TEMPORAL_ADDRESS=engine.env["TEMPORAL_ADDRESS"],
        AGENT_RUNTIME_TASK_QUEUE=engine.env["AGENT_RUNTIME_TASK_QUEUE"],
        # As the workers: MCP servers the tests start on loopback are pinned at publish.
        TOOL_ALLOW_PRIVATE_NETWORKS=engine.env["TOOL_ALLOW_PRIVATE_NETWORKS"],
        **object_store,
    )
    app = create_app(settings)
    try:
        with TestClient(app) as client:
            admin = Api(client, ensure_admin_key(app.state.engine, settings.admin_key_file))
            yield admin.new_tenant_admin(f"durable-{secrets.token_hex(3)}")
    finally:
        empty_all_tables(app)
        app.state.engine.dispose()
