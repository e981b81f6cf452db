"""The control plane's handle on the durable engine: start and cancel run workflows by name."""

import asyncio

from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from backend.workflow_contract import (
    APPROVAL_SIGNAL,
    TASK_QUEUE,
    WORKFLOW_NAME,
    AgentRunInput,
    ApprovalDecided,
)


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

    async def client(self) -> Client:
        if self._client is None:
            self._lock = self._lock or asyncio.Lock()
            async with self._lock:
                if self._client is None:
                    try:
                        self._client = await Client.connect(self.address, namespace=self.namespace)
                    except RuntimeError as exc:
                        raise EngineUnavailableError(
                            f"the durable engine at {self.address} is unreachable: {exc}"
                        ) from None
        return self._client

    async def start(self, run_input: AgentRunInput) -> None:
        """Start the run's workflow; a workflow already started for this run is success."""
        client = await self.client()
        try:
            await client.start_workflow(
                WORKFLOW_NAME, run_input, id=run_input.run_id, task_queue=self.task_queue
            )
        except WorkflowAlreadyStartedError:
            pass
        except RPCError as exc:
            raise EngineUnavailableError(f"the durable engine refused the run: {exc}") from None

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
