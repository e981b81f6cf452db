"""Following a run's events from a page's background event, in batches.

Events that arrive together (a burst of text deltas) come as one batch, so a page shows them
with one update; with `tick`, an empty batch comes that often while none arrive, so what
advances with the clock (durations) can advance too. A follow that fails ends with a
`workbench.error` event saying why.
"""

import asyncio
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import Any

from app import api
from client import AgentRuntimeClient

BATCH_SECONDS = 0.02  # events that arrive together are shown together


@dataclass
class Batch:
    events: list[dict[str, Any]]
    # The stream has ended: the run ended, or following it failed.
    last: bool


async def event_batches(
    client: AgentRuntimeClient, run_id: str, after: int = 0, tick: float | None = None
) -> AsyncGenerator[Batch, None]:
    queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()

    async def pump() -> None:
        try:
            async for event in client.follow_events_async(run_id, after=after):
                await queue.put(event)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            await queue.put({"type": "workbench.error", "message": api.describe(exc)})
        await queue.put(None)

    task = asyncio.create_task(pump())
    try:
        last = False
        while not last:
            batch: list[dict[str, Any] | None] = []
            try:
                batch.append(await asyncio.wait_for(queue.get(), tick))
                await asyncio.sleep(BATCH_SECONDS)
            except TimeoutError:
                pass
            while not queue.empty():
                batch.append(queue.get_nowait())
            events = [event for event in batch if event is not None]
            last = len(events) < len(batch) or any(e["type"] == "run.completed" for e in events)
            yield Batch(events, last)
    finally:
        task.cancel()
