"""A worker whose polling fails is built again on a fresh connection and serves the queue."""

import asyncio
import secrets
from datetime import timedelta

from temporalio import workflow
from temporalio.client import Client
from temporalio.worker import Worker

from worker.main import serve_until_stopped
from worker.settings import WorkerSettings


@workflow.defn(sandboxed=False)  # the test module imports the whole worker
class Echo:
    @workflow.run
    async def run(self, text: str) -> str:
        return text


def test_a_failed_worker_is_rebuilt_and_serves_the_queue(temporal_address: str) -> None:
    task_queue = f"supervised-{secrets.token_hex(4)}"
    settings = WorkerSettings(TEMPORAL_ADDRESS=temporal_address)
    built: list[str] = []

    def start(client: Client) -> Worker:
        built.append(client.namespace)
        return Worker(
            client,
            task_queue=task_queue,
            workflows=[Echo],
            graceful_shutdown_timeout=timedelta(seconds=1),
        )

    async def scenario() -> str:
        # A namespace the engine does not have: the first worker fails as soon as it polls.
        broken = await Client.connect(temporal_address, namespace=f"gone-{secrets.token_hex(3)}")
        stop = asyncio.Event()
        serving = asyncio.create_task(serve_until_stopped(start, broken, settings, stop))
        try:
            client = await Client.connect(temporal_address)
            answer = await asyncio.wait_for(
                client.execute_workflow(
                    Echo.run, "still here", id=f"echo-{secrets.token_hex(4)}", task_queue=task_queue
                ),
                60,
            )
        finally:
            stop.set()
            await asyncio.wait_for(serving, 30)
        return answer

    assert asyncio.run(scenario()) == "still here"
    assert built[0].startswith("gone-")
    assert built[1:] == ["default"]
