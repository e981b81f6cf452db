"""The control plane's handle on the durable engine: start and cancel run workflows by name."""

import asyncio
from collections import OrderedDict

from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from core.contract import (
    APPROVAL_SIGNAL,
    TASK_QUEUE,
    WORKFLOW_NAME,
    AgentRunInput,
    ApprovalDecided,
)

# The client retries an unreachable engine for many seconds; a request waits this long at most
# (the run stays queued and is started later: see services/run_starter.py).
START_TIMEOUT_SECONDS = 3.0
# Runs this process knows have a workflow, so the starter does not ask again.
REMEMBERED_STARTS = 10_000


class EngineUnavailableError(RuntimeError):
    pass


class RunEngine:
    """Connects lazily, so the API starts (and serves reads) while the engine is still coming up."""

    def __init__(self, address: str, namespace: str = "default", task_queue: str = TASK_QUEUE):
        self.address = address
        self.namespace = namespace
        self.task_queue = task_queue
        self._client: Client | None = None
        self._lock: asyncio.Lock | None = None
        self._started: OrderedDict[str, None] = OrderedDict()

    def known_started(self, run_id: str) -> bool:
        return run_id in self._started

    def _remember_started(self, run_id: str) -> None:
        self._started[run_id] = None
        if len(self._started) > REMEMBERED_STARTS:
            self._started.popitem(last=False)

    async def client(self) -> Client:
        if self._client is None:
            self._lock = self._lock or asyncio.Lock()
            async with self._lock:
                if self._client is None:
                    try:
                        # Bounded: an engine that accepts the connection but does not answer
                        # (starting up, shutting down) must not hold every start behind this lock.
                        self._client = await asyncio.wait_for(
                            Client.connect(self.address, namespace=self.namespace),
                            START_TIMEOUT_SECONDS,
                        )
                    except TimeoutError:
                        raise EngineUnavailableError(
                            f"the durable engine at {self.address} did not answer in time"
                        ) from None
                    except RuntimeError as exc:
                        raise EngineUnavailableError(
                            f"the durable engine at {self.address} is unreachable: {exc}"
                        ) from None
        return self._client

    async def start(self, run_input: AgentRunInput) -> None:
        """Start the run's workflow; a workflow already started for this run is success.

        Idempotent by run id (the workflow id), so a start repeated after a lost answer or by
        another API process never makes a second workflow.
        """
        client = await self.client()
        try:
            await asyncio.wait_for(
                client.start_workflow(
                    WORKFLOW_NAME, run_input, id=run_input.run_id, task_queue=self.task_queue
                ),
                START_TIMEOUT_SECONDS,
            )
        except WorkflowAlreadyStartedError:
            pass
        except TimeoutError:
            raise EngineUnavailableError(
                f"the durable engine at {self.address} did not answer in time"
            ) from None
        except RPCError as exc:
            raise EngineUnavailableError(f"the durable engine refused the run: {exc}") from None
        self._remember_started(run_input.run_id)

    async def cancel(self, run_id: str) -> bool:
        """Ask the run's workflow to cancel; False if no such workflow is running."""
        client = await self.client()
        handle = client.get_workflow_handle(run_id)
        try:
            description = await handle.describe()
            if description.status != WorkflowExecutionStatus.RUNNING:
                return False
            await handle.cancel()
        except RPCError as exc:
            if exc.status == RPCStatusCode.NOT_FOUND:
                return False
            raise EngineUnavailableError(f"the durable engine refused the cancel: {exc}") from None
        return True

    async def signal_approval(self, run_id: str, decided: ApprovalDecided) -> None:
        """Wake the run waiting for this approval. A run that has ended needs no wake-up."""
        client = await self.client()
        try:
            await client.get_workflow_handle(run_id).signal(APPROVAL_SIGNAL, decided)
        except RPCError as exc:
            if exc.status == RPCStatusCode.NOT_FOUND:
                return
            raise EngineUnavailableError(f"the durable engine refused the signal: {exc}") from None
