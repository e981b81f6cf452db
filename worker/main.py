"""A worker process: polls the run task queue and executes workflows and activities."""

import asyncio
import contextlib
import hashlib
import importlib.metadata
import logging
import signal
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from prometheus_client import start_http_server
from sqlalchemy.engine import Engine
from temporalio.client import Client
from temporalio.worker import Worker

import core.contract as contract_module
import worker.schedule_workflow as schedule_workflow_module
import worker.workflows as workflows_module
from core.db import make_engine
from core.event_store import event_log_from_settings
from core.events import EventLog
from core.objectstore import ObjectStore, ObjectStoreError, object_store_from_settings
from core.observability import configure_logging
from worker.activities import RunActivities
from worker.pricing import PriceTable
from worker.providers.registry import build_providers
from worker.schedule_workflow import ScheduledRunWorkflow
from worker.settings import WorkerSettings
from worker.tracing import OutboxSender, tracing_enabled
from worker.webhooks import WebhookSender
from worker.workflows import AgentRunWorkflow

log = logging.getLogger("agent_runtime.worker")
# Heartbeats reach the engine at least this often (the SDK's default is 0.8 x the heartbeat
# timeout), so a slow moment never passes for a dead worker.
HEARTBEAT_THROTTLE = timedelta(seconds=2)
# A workflow task waits this long for the worker that holds the run in its cache before any
# worker takes it: a dead worker's runs move on quickly.
STICKY_TIMEOUT = timedelta(seconds=3)
# A worker that starts before the engine answers tries again after 0.5 s, 1 s, ... up to 5 s.
CONNECT_RETRY_FIRST_SECONDS = 0.5
CONNECT_RETRY_MAX_SECONDS = 5.0


def workflow_build_id() -> str:
    """Identify the workflow code by the files that define it.

    The SDK's default hashes every loaded module, which takes seconds with the provider SDKs
    loaded; this keeps worker start-up fast.
    """
    digest = hashlib.sha256()
    for module in (workflows_module, schedule_workflow_module, contract_module):
        digest.update(Path(str(module.__file__)).read_bytes())
    return f"agent-runtime-{digest.hexdigest()[:16]}"


def worker_build_id(settings: WorkerSettings) -> str:
    """What every step this worker executes records as its `worker_build`: WORKER_BUILD_ID
    (a release tag or image digest), else the package version and a digest of the code it
    runs (the `core` and `worker` sources), so two workers of different code never look alike."""
    if settings.worker_build_id:
        return settings.worker_build_id
    digest = hashlib.sha256()
    for package in ("core", "worker"):
        root = Path(__file__).resolve().parent.parent / package
        for source in sorted(root.rglob("*.py")):
            digest.update(str(source.relative_to(root)).encode())
            digest.update(source.read_bytes())
    return f"{package_version()}+{digest.hexdigest()[:12]}"


def package_version() -> str:
    try:
        return importlib.metadata.version("agent-runtime")
    except importlib.metadata.PackageNotFoundError:
        return "0+unknown"


def build_worker(
    client: Client, settings: WorkerSettings, engine: Engine, store: ObjectStore, events: EventLog
) -> Worker:
    activities = RunActivities(
        engine,
        build_providers(settings),
        PriceTable.from_json(settings.model_prices),
        object_store=store,
        events=events,
        inline_limit=settings.payload_inline_limit_bytes,
        allow_private_networks=settings.tool_allow_private_networks,
        mcp_allow_stdio=settings.mcp_allow_stdio,
        max_response_bytes=settings.tool_max_response_bytes,
        tracing=tracing_enabled(settings),
        steps_per_execution=settings.run_steps_per_execution,
        build_id=worker_build_id(settings),
    )
    return Worker(
        client,
        task_queue=settings.task_queue,
        workflows=[AgentRunWorkflow, ScheduledRunWorkflow],
        activities=activities.all(),
        max_concurrent_activities=settings.max_concurrent_activities,
        build_id=workflow_build_id(),
        max_heartbeat_throttle_interval=HEARTBEAT_THROTTLE,
        sticky_queue_schedule_to_start_timeout=STICKY_TIMEOUT,
        # On SIGTERM: stop polling, let the steps under way finish, then cancel what is left.
        graceful_shutdown_timeout=timedelta(seconds=settings.worker_shutdown_grace_seconds),
    )


async def connect_when_reachable(settings: WorkerSettings, stop: asyncio.Event) -> Client | None:
    """The engine's client, once the engine answers; None if told to stop first.

    A worker started while the engine is down (a restart of both, a rolling deploy) waits for
    it instead of exiting: the runs it would serve are delayed, never lost.
    """
    delay = CONNECT_RETRY_FIRST_SECONDS
    while not stop.is_set():
        try:
            return await Client.connect(
                settings.temporal_target, namespace=settings.temporal_namespace
            )
        except RuntimeError as exc:  # the SDK's bridge reports an unreachable engine so
            log.warning("waiting for the durable engine at %s: %s", settings.temporal_target, exc)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), delay)
        delay = min(delay * 2, CONNECT_RETRY_MAX_SECONDS)
    return None


async def serve_until_stopped(
    start: Callable[[Client], Worker], client: Client, settings: WorkerSettings, stop: asyncio.Event
) -> None:
    """Poll until told to stop; a worker that fails (the engine gone longer than the SDK's own
    retries last) is built again on a fresh connection, so its runs are delayed, never stranded."""
    delay = CONNECT_RETRY_FIRST_SECONDS
    while True:
        worker = start(client)
        polling = asyncio.create_task(worker.run())
        stopping = asyncio.create_task(stop.wait())
        await asyncio.wait({polling, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if stop.is_set():
            log.info(
                "worker stopping: no new work; steps under way have %g s to finish",
                settings.worker_shutdown_grace_seconds,
            )
            if not polling.done():
                await worker.shutdown()
            with contextlib.suppress(Exception):
                await polling
            return
        stopping.cancel()
        failure = polling.exception()
        log.error("the worker stopped polling (%s); it starts again", failure or "no error")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), delay)
        delay = min(delay * 2, CONNECT_RETRY_MAX_SECONDS)
        reconnected = await connect_when_reachable(settings, stop)
        if reconnected is None:
            return
        client = reconnected


async def run_worker(settings: WorkerSettings) -> None:
    # A misconfigured store fails the worker at start, not its first large step.
    store = object_store_from_settings(settings)
    await asyncio.to_thread(store.ensure_ready)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    client = await connect_when_reachable(settings, stop)
    if client is None:
        return
    engine = make_engine(settings.resolved_database_url)
    events = event_log_from_settings(settings, engine)
    sender = OutboxSender.from_settings(engine, settings)
    exporting = asyncio.create_task(sender.run_forever(stop)) if sender else None
    delivering = asyncio.create_task(
        WebhookSender.from_settings(engine, settings).run_forever(stop)
    )
    log.info("worker polling %s on %s", settings.task_queue, settings.temporal_target)
    try:
        await serve_until_stopped(
            lambda connected: build_worker(connected, settings, engine, store, events),
            client,
            settings,
            stop,
        )
    finally:
        stop.set()
        if exporting is not None:
            await exporting
        await delivering
        await events.close()
        engine.dispose()


def main() -> None:
    settings = WorkerSettings()
    configure_logging("worker", settings.log_format)
    if settings.worker_metrics_port:
        # Prometheus scrapes the worker here; bound to loopback unless told otherwise.
        start_http_server(settings.worker_metrics_port, addr=settings.worker_metrics_host)
    try:
        asyncio.run(run_worker(settings))
    except ObjectStoreError as exc:
        log.error("the object store is not usable: %s", exc)
        raise SystemExit(1) from None
