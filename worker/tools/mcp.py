"""Calling the pinned tools of MCP servers: one session per server entry, kept open by the
worker and opened again when it drops; a call refused when the server's definition of the tool
differs from the one the version pinned; results (text, structured content, images and other
files saved as the run's artifacts) returned for the model to read.
"""

import asyncio
import base64
import contextlib
import hashlib
import json
import mimetypes
from dataclasses import dataclass, field
from typing import Any

from mcp import Client

from core.mcp_client import McpUnavailableError, connected, current_definitions, differences, reason
from core.models.mcp_tools import McpServer, McpTool
from worker.tools.context import ToolContext
from worker.types import ToolError


@dataclass
class _Session:
    """A session kept open by a task of its own (the SDK's sessions live in a task group)."""

    client: Client
    closed: asyncio.Event
    owner: asyncio.Task[None]


def _key(server: McpServer, context: ToolContext) -> str:
    # The entry's configuration with its secrets resolved: a rotated secret is a new session.
    secrets = {
        value.secret: context.secrets.get(value.secret, "")
        for value in [*server.headers.values(), *server.env.values()]
        if not isinstance(value, str)
    }
    material = json.dumps(
        [server.model_dump(mode="json", exclude={"tools"}), secrets], sort_keys=True
    )
    return hashlib.sha256(material.encode()).hexdigest()


@dataclass
class McpSessions:
    """The worker's open MCP sessions, by server entry."""

    _open: dict[str, _Session] = field(default_factory=dict)
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def session(self, server: McpServer, context: ToolContext) -> tuple[str, Client]:
        key = _key(server, context)
        async with self._lock:
            known = self._open.get(key)
            if known is not None and not known.owner.done():
                return key, known.client
            ready: asyncio.Future[Client] = asyncio.get_running_loop().create_future()
            closed = asyncio.Event()
            owner = asyncio.create_task(self._hold(server, context, ready, closed))
            try:
                client = await asyncio.wait_for(asyncio.shield(ready), server.timeout_seconds)
            except TimeoutError:
                owner.cancel()
                raise McpUnavailableError(
                    f"no session within {server.timeout_seconds:g} s"
                ) from None
            self._open[key] = _Session(client, closed, owner)
            return key, client

    async def _hold(
        self,
        server: McpServer,
        context: ToolContext,
        ready: "asyncio.Future[Client]",
        closed: asyncio.Event,
    ) -> None:
        try:
            async with connected(
                server,
                allow_private_networks=context.allow_private_networks,
                allow_stdio=context.allow_stdio,
                secrets=context.secrets,
            ) as client:
                ready.set_result(client)
                await closed.wait()
        except BaseException as exc:
            if not ready.done():
                ready.set_exception(exc)
            if isinstance(exc, asyncio.CancelledError):
                raise

    async def drop(self, key: str) -> None:
        """Close a session that failed; the next call opens a new one."""
        async with self._lock:
            known = self._open.pop(key, None)
        if known is not None:
            known.closed.set()
            with contextlib.suppress(BaseException):
                await asyncio.wait_for(known.owner, timeout=5)

    async def close(self) -> None:
        for key in list(self._open):
            await self.drop(key)


SESSIONS = McpSessions()


async def _checked(client: Client, tool: McpTool) -> None:
    """Refuse the call if the server's definition is not the one the version pinned."""
    current = {d.name: d for d in await current_definitions(client)}
    changed = differences(tool.definition, current.get(tool.definition.name))
    if changed:
        raise ToolError(
            f"mcp_tool_changed: refused to call {tool.name}: the server's definition differs "
            f"from the one this version pinned ({'; '.join(changed)}); a person must review it "
            "and publish a new version (mcp-refresh)"
        )


async def _call(client: Client, tool: McpTool, arguments: dict[str, Any]) -> Any:
    await _checked(client, tool)
    return await client.call_tool(
        tool.definition.name, arguments, read_timeout_seconds=tool.server.timeout_seconds
    )


async def call_mcp_tool(
    tool: McpTool, arguments: dict[str, Any], context: ToolContext, sessions: McpSessions = SESSIONS
) -> Any:
    """Call the tool on its server; every failure is a `ToolError` for the model to read.

    A dropped session is opened again and the call repeated only when the tool is safe to
    repeat (the server marks it read-only or idempotent); a step retried after a worker died
    mid-call is refused for the same reason otherwise."""
    if context.attempt > 1 and not tool.retry_safe:
        raise ToolError(
            f"{tool.name} was not called again: an earlier attempt of this step may already "
            "have run it, and the server does not mark it read-only or idempotent"
        )
    attempts = 2 if tool.retry_safe else 1
    for attempt in range(1, attempts + 1):
        try:
            key, client = await sessions.session(tool.server, context)
        except McpUnavailableError as exc:
            raise ToolError(f"the MCP server {tool.server.name} is unavailable: {exc}") from None
        except Exception as exc:
            raise ToolError(
                f"could not reach the MCP server {tool.server.name}: {reason(exc)}"
            ) from None
        try:
            result = await asyncio.wait_for(
                _call(client, tool, arguments), timeout=tool.server.timeout_seconds
            )
        except ToolError:
            raise
        except TimeoutError:
            raise ToolError(
                f"{tool.name} took longer than {tool.server.timeout_seconds:g} s"
            ) from None
        except Exception as exc:
            await sessions.drop(key)
            if attempt == attempts:
                raise ToolError(f"{tool.name} failed: {reason(exc)}") from None
            continue
        return await _result(tool, result, context)
    raise AssertionError("unreachable")


_FILE_BLOCKS = ("image", "audio")


async def _result(tool: McpTool, result: Any, context: ToolContext) -> Any:
    texts: list[str] = []
    files: list[dict[str, Any]] = []
    others: list[Any] = []
    for index, block in enumerate(result.content):
        if block.type == "text":
            texts.append(block.text)
        elif block.type in _FILE_BLOCKS and context.artifacts is not None:
            extension = mimetypes.guess_extension(block.mime_type) or ".bin"
            name = f"{tool.server.name}-{context.seq}-{index}{extension}"
            data = base64.b64decode(block.data)
            files.append(await context.artifacts.save(name, data, block.mime_type))
        else:
            others.append(block.model_dump(mode="json", by_alias=True, exclude_none=True))
    if result.is_error:
        raise ToolError("\n".join(texts) or f"{tool.name} reported an error")
    answer: dict[str, Any] = {"text": "\n".join(texts)}
    if result.structured_content is not None:
        answer["structured"] = result.structured_content
    if files:
        answer["files"] = files
    if others:
        answer["content"] = others
    return answer
