"""The baseline: a bare temporalio workflow doing three trivial steps. Kept import-light for the
workflow sandbox, which re-imports this module."""

from dataclasses import dataclass
from datetime import timedelta

from temporalio import activity, workflow

STEPS = 3


@dataclass
class BareStep:
    seq: int


@dataclass
class BareResult:
    seq: int
    text: str


@activity.defn(name="bare_step")
async def bare_step(step: BareStep) -> BareResult:
    return BareResult(step.seq, "42" if step.seq == STEPS else "")


@workflow.defn(name="BareThreeSteps")
class BareThreeSteps:
    @workflow.run
    async def run(self, name: str) -> str:
        text = ""
        for seq in range(1, STEPS + 1):
            result = await workflow.execute_activity(
                bare_step,
                BareStep(seq),
                start_to_close_timeout=timedelta(seconds=30),
                result_type=BareResult,
            )
            text = result.text
        return text


@activity.defn(name="bare_first")
async def bare_first() -> float:
    import time  # inside: the workflow sandbox re-imports this module

    return time.time()


@workflow.defn(name="BareFirstStart")
class BareFirstStart:
    """When did the first activity start? The baseline of a run's first step event."""

    @workflow.run
    async def run(self) -> float:
        started_at: float = await workflow.execute_activity(
            bare_first, start_to_close_timeout=timedelta(seconds=30)
        )
        return started_at


async def serve(address: str, task_queue: str) -> None:
    """Run the baseline's worker in its own process, as our worker runs in its own."""
    import asyncio
    import signal

    from temporalio.client import Client
    from temporalio.worker import Worker

    client = await Client.connect(address)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    async with Worker(
        client,
        task_queue=task_queue,
        workflows=[BareThreeSteps, BareFirstStart],
        activities=[bare_step, bare_first],
    ):
        await stop.wait()


if __name__ == "__main__":
    import asyncio
    import sys

    asyncio.run(serve(sys.argv[1], sys.argv[2]))
