"""The control plane's ASGI app. This module only assembles the pieces; uvicorn serves `app`."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from backend.auth import Authenticator
from backend.errors import ERROR_RESPONSES, install_error_handlers
from backend.outages import install_outage_handlers
from backend.request_guard import RequestGuard
from backend.routes import (
    agents,
    aliases,
    approvals,
    artifacts,
    docs,
    events,
    health,
    mcp,
    me,
    meta,
    metrics,
    runs,
    schedules,
    stats,
    tenants,
    threads,
    versions,
    webhooks,
)
from backend.routes import langgraph as langgraph_api
from backend.services.engine import RunEngine
from backend.services.run_starter import RunStarter
from backend.services.thread_sweeper import ThreadSweeper
from backend.settings import Settings
from core.db import make_engine
from core.event_store import event_log_from_settings
from core.objectstore import object_store_from_settings
from core.observability import configure_logging

API_VERSION = "0.1.0"


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    engine = make_engine(settings.resolved_database_url)

    event_log = event_log_from_settings(settings, engine)
    run_engine = RunEngine(
        settings.temporal_target, settings.temporal_namespace, settings.task_queue
    )
    starter = RunStarter(
        engine, run_engine, settings.run_steps_per_execution, settings.run_start_retry_seconds
    )
    object_store = object_store_from_settings(settings)
    sweeper = ThreadSweeper(engine, object_store, event_log, settings.thread_sweep_seconds)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if not settings.database_url:
            settings.data_dir.mkdir(parents=True, exist_ok=True)
        stop = asyncio.Event()
        starting = asyncio.create_task(starter.run_forever(stop))
        sweeping = asyncio.create_task(sweeper.run_forever(stop))
        async with mcp.sessions(_app):  # MCP sessions end before what their calls use
            yield
        stop.set()
        await starting
        await sweeping
        await event_log.close()
        engine.dispose()

    app = FastAPI(
        title="Agent Runtime",
        version=API_VERSION,
        description="Control plane of Agent Runtime: tenants, agents, versions and runs.",
        lifespan=lifespan,
        docs_url=None,  # served by routes.docs from the API's own assets
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.authenticator = Authenticator(settings, engine)
    app.state.object_store = object_store
    app.state.event_log = event_log
    app.state.run_engine = run_engine
    install_error_handlers(app)
    install_outage_handlers(app)
    app.add_middleware(RequestGuard, max_bytes=settings.max_request_bytes)
    app.include_router(health.router)
    app.include_router(docs.router)
    app.mount(docs.ASSETS_URL, docs.ASSETS, name="docs-assets")
    app.include_router(metrics.router, responses=ERROR_RESPONSES)
    resources = (
        *(me, meta, tenants, agents, versions, aliases, runs, threads, events, approvals),
        *(artifacts, schedules, webhooks),
    )
    for resource in resources:
        app.include_router(resource.router, responses=ERROR_RESPONSES)
    app.include_router(stats.router, responses=ERROR_RESPONSES)
    app.include_router(
        langgraph_api.router, prefix=settings.langgraph_api_prefix, responses=ERROR_RESPONSES
    )
    app.add_route(mcp.PATH, mcp.ENDPOINT, include_in_schema=False)
    return app


def serve() -> FastAPI:
    """The app as `uvicorn --factory backend.main:serve` runs it: structured logs first."""
    settings = Settings()
    configure_logging("api", settings.log_format)
    return create_app(settings)


app = create_app()
