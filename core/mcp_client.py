"""Talking to the MCP servers a version names, with the official `mcp` SDK: connecting (the SSRF
guard on every streamable-HTTP connection, secrets resolved from the environment at connect
time, stdio only where allowed), listing a server's tools as definitions to pin, and telling
what changed between a pinned definition and the server's current one.

Shared by the API (which pins the tools when a version is published) and the worker (which
calls them).
"""

import asyncio
import json
import os
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

from core.models.agent_config import SecretRef
from core.models.mcp_tools import McpServer, McpToolDefinition
from core.netguard import guarded_client2

LIST_PAGES = 20
# Listing a server's tools (at publish) takes at most this long, whatever the entry's timeout.
LIST_TIMEOUT_SECONDS = 15.0


class McpUnavailableError(Exception):
    """The server could not be reached, refused us, or answered what is not MCP."""


def _resolved(values: Mapping[str, str | SecretRef], secrets: Mapping[str, str]) -> dict[str, str]:
    resolved = {}
    for name, value in values.items():
        if isinstance(value, SecretRef):
            if value.secret not in secrets:
                raise McpUnavailableError(f"the secret {value.secret} is not set")
            resolved[name] = secrets[value.secret]
        else:
            resolved[name] = value
    return resolved


@asynccontextmanager
async def connected(
    server: McpServer,
    *,
    allow_private_networks: bool,
    allow_stdio: bool,
    secrets: Mapping[str, str] | None = None,
) -> AsyncIterator[Client]:
    """An initialized session with the server, closed at the end of the block."""
    secrets = os.environ if secrets is None else secrets
    if server.transport == "stdio":
        if not allow_stdio:
            raise McpUnavailableError("stdio MCP servers are off here (MCP_ALLOW_STDIO)")
        assert server.command
        env = {"PATH": os.environ.get("PATH", ""), **_resolved(server.env, secrets)}
        target: Any = StdioServerParameters(
            command=server.command[0], args=server.command[1:], env=env
        )
        async with Client(
            target, cache=None, read_timeout_seconds=server.timeout_seconds
        ) as client:
            yield client
        return
    assert server.url
    headers = _resolved(server.headers, secrets)
    http = guarded_client2(allow_private_networks, server.timeout_seconds, headers)
    async with http:
        transport = streamable_http_client(server.url, http_client=http)
        async with Client(
            transport, cache=None, read_timeout_seconds=server.timeout_seconds
        ) as client:
            yield client


def definition(tool: Any) -> McpToolDefinition:
    """A tool the server listed, as a version pins it."""
    hints = tool.annotations
    return McpToolDefinition(
        name=tool.name,
        description=tool.description or "",
        input_schema=dict(tool.input_schema or {"type": "object"}),
        read_only=bool(hints and hints.read_only_hint),
        idempotent=bool(hints and hints.idempotent_hint),
    )


async def current_definitions(client: Client) -> list[McpToolDefinition]:
    """Every tool the server lists now (all pages)."""
    found: list[McpToolDefinition] = []
    cursor: str | None = None
    for _page in range(LIST_PAGES):
        listed = await client.list_tools(cursor=cursor, cache_mode="bypass")
        found += [definition(tool) for tool in listed.tools]
        cursor = listed.next_cursor
        if not cursor:
            break
    return found


async def list_definitions(
    server: McpServer, *, allow_private_networks: bool, allow_stdio: bool
) -> list[McpToolDefinition]:
    """What to pin: the tools the entry offers (its `include` patterns), as listed now."""
    try:
        async with asyncio.timeout(LIST_TIMEOUT_SECONDS):
            async with connected(
                server, allow_private_networks=allow_private_networks, allow_stdio=allow_stdio
            ) as client:
                listed = await current_definitions(client)
    except McpUnavailableError:
        raise
    except TimeoutError:
        raise McpUnavailableError(f"no answer within {LIST_TIMEOUT_SECONDS:g} s") from None
    except Exception as exc:  # the SDK's and transport's errors alike: unreachable for us
        raise McpUnavailableError(reason(exc)) from None
    return [tool for tool in listed if server.offers(tool.name)]


def reason(exc: BaseException) -> str:
    """A readable cause, digging through the task groups the SDK raises from."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def differences(pinned: McpToolDefinition, current: McpToolDefinition | None) -> list[str]:
    """What changed in a tool since it was pinned, for people (and the model) to read."""
    if current is None:
        return ["the server no longer lists it"]
    changed = []
    if pinned.description != current.description:
        changed.append(f"description was {pinned.description!r}, is now {current.description!r}")
    if json.dumps(pinned.input_schema, sort_keys=True) != json.dumps(
        current.input_schema, sort_keys=True
    ):
        changed.append("its input schema changed")
    return changed
