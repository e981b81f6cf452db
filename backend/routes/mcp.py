"""MCP at `/mcp` (the streamable HTTP transport, served by the `mcp` SDK): the caller's agents as
tools. A tool call starts a run of the agent, sends a progress notification per finished step,
and answers with the run's output once it has ended; a call the client cancels cancels its run.

Every HTTP request is authenticated as the rest of the API is (`Authorization: Bearer` or
`x-api-key`) before the SDK sees it, and the handlers act as the caller of the request that
carried the message, in its tenant. A session (the handshake era's `Mcp-Session-Id`) belongs
to the tenant and subject that opened it, and lives in the API process that opened it.
"""

import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import anyio
from anyio import to_thread
from fastapi import FastAPI, Request
from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from mcp.server.auth.provider import AccessToken
from mcp.server.context import ServerRequestContext
from mcp.server.lowlevel import Server
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp_types import (
    CallToolRequestParams,
    CallToolResult,
    ListToolsResult,
    PaginatedRequestParams,
)
from starlette.types import Receive, Scope, Send

from backend.auth import Authenticator, Principal
from backend.errors import ApiError
from backend.routes.run_actions import add_thread_run, cancel_abandoned, start_if_its_turn
from backend.services import mcp_server as service
from backend.services import runs
from backend.settings import Settings
from core.db import TenantScope, scoped_session
from core.models import Role, Run, ThreadRunCreate
from core.observability import RUNS_STARTED

log = logging.getLogger("agent_runtime.api")
PATH = "/mcp"

Context = ServerRequestContext[Any, Any]


def _caller(ctx: Context) -> tuple[Request, Principal]:
    request = ctx.request
    assert isinstance(request, Request)  # the streamable HTTP transport always attaches it
    principal: Principal = request.state.principal
    return request, principal


async def _list_tools(ctx: Context, _params: PaginatedRequestParams | None) -> ListToolsResult:
    request, principal = _caller(ctx)  # every role may list: viewer is the least
    tools = await to_thread.run_sync(
        service.list_tools, request.app.state.engine, principal.tenant_id
    )
    return ListToolsResult(tools=tools)


def _start(
    request: Request, principal: Principal, name: str, arguments: Mapping[str, Any] | None
) -> Run:
    """Start the run the call asks for, as `POST /v1/agents/{id}/runs` or (with a `thread_id`)
    `POST /v1/threads/{id}/runs` would."""
    settings: Settings = request.app.state.settings
    steps = settings.run_steps_per_execution
    engine = request.app.state.engine
    with scoped_session(engine, TenantScope(principal.tenant_id)) as session:
        call = service.call_of(session, name, arguments)
        if isinstance(call.body, ThreadRunCreate):
            assert call.thread_id is not None
            return add_thread_run(request, session, principal, call.thread_id, call.body, steps)
        run, _created = runs.create_run(
            session,
            call.agent_id,
            call.body,
            principal.subject,
            None,
            created_by_name=principal.display_name or None,
        )
        start_if_its_turn(request, session, run, steps)
        RUNS_STARTED.inc()
        return run


async def _call_tool(ctx: Context, params: CallToolRequestParams) -> CallToolResult:
    request, principal = _caller(ctx)
    if not principal.may(Role.developer):
        return service.tool_error(
            f"running an agent needs the developer role; you have {principal.role.value}"
        )
    engine, tenant_id = request.app.state.engine, principal.tenant_id

    async def progress(finished: int, about: str) -> None:
        # Sent only if the client asked for progress (its request carried a progress token).
        await ctx.session.report_progress(finished, None, about)

    run: Run | None = None
    try:
        run = await to_thread.run_sync(_start, request, principal, params.name, params.arguments)
        await service.wait_for_end(request.app.state.event_log, engine, tenant_id, run.id, progress)
        return await to_thread.run_sync(service.outcome, engine, tenant_id, run.id)
    except (service.ToolCallError, ApiError) as exc:
        message = exc.message if isinstance(exc, ApiError) else str(exc)
        return service.tool_error(message, {"run_id": run.id} if run is not None else None)
    except anyio.get_cancelled_exc_class():
        # The client cancelled the call (or left): nobody waits for the run any more.
        if run is not None:
            with anyio.CancelScope(shield=True):
                await to_thread.run_sync(cancel_abandoned, request, tenant_id, run.id)
        raise


SERVER: Server[Any] = Server(
    "agent-runtime",
    title="Agent Runtime",
    description="The agents of the caller's tenant, as tools: a call is a run of the agent.",
    on_list_tools=_list_tools,
    on_call_tool=_call_tool,
    # Every tool takes the same arguments: no listing is needed to validate a call's headers.
    get_tool_input_schema=lambda _name: service.INPUT_SCHEMA,
)


def _token(request: Request) -> str | None:
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip()
    return request.headers.get("x-api-key")


class McpEndpoint:
    """The ASGI app at `/mcp`: authenticates the request, then hands it to the SDK's session
    manager (a missing or bad credential is the API's own 401, never an MCP message)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        authenticator: Authenticator = request.app.state.authenticator
        principal = await to_thread.run_sync(authenticator.authenticate, _token(request), None)
        request.state.principal = principal
        # The SDK binds a session to who opened it: another caller presenting its id gets a 404.
        scope["user"] = AuthenticatedUser(
            AccessToken(
                token="", client_id=principal.tenant_id, scopes=[], subject=principal.subject
            )
        )
        manager: StreamableHTTPSessionManager = request.app.state.mcp_sessions
        await manager.handle_request(scope, receive, send)


# Starlette's `Route` serves a class instance as an ASGI app; FastAPI's `add_route` is typed for
# request handlers only.
ENDPOINT: Any = McpEndpoint()


@asynccontextmanager
async def sessions(app: FastAPI) -> AsyncIterator[None]:
    """The SDK's session manager, running (its task group holds the sessions) while the app
    serves; a new one each time, since a manager runs only once."""
    manager = StreamableHTTPSessionManager(SERVER)
    app.state.mcp_sessions = manager
    async with manager.run():
        yield
