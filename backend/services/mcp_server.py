"""The caller's agents as MCP tools: one tool per agent that can run (not archived, with a
version), named after the agent. A call is a run of the agent, on a thread or on its own; its
answer is the run's output once the run has ended.

Tool names allow `[A-Za-z0-9_.-]` (at most 128): other characters of an agent's name become
`_`. Should two agents come out with one name, an agent whose own name it is keeps it, else the
older one; the other is not listed.
"""

import asyncio
import json
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from mcp_types import CallToolResult, TextContent, Tool
from pydantic import ValidationError
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from backend.services.events import run_status
from backend.services.runs import get_run
from core.db import TenantScope, scoped_session
from core.events import EventLog
from core.models import Agent, RunCreate, RunStatus, ThreadRunCreate

INPUT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "input": {"type": "string"},
        "thread_id": {"type": "string"},
        "version": {"description": "a version number, 'latest' or an alias (e.g. 'prod')"},
    },
    "required": ["input"],
}
ARGUMENTS = frozenset(INPUT_SCHEMA["properties"])
MAX_NAME = 128
_NOT_IN_NAMES = re.compile(r"[^A-Za-z0-9_.-]")
# Without news for this long, the run's row is read: it may have ended without its
# `run.completed` event in the log (the event could not be written).
QUIET_SECONDS = 5.0


class ToolCallError(Exception):
    """A call this server cannot make (unknown tool, bad arguments): a tool error for the
    client's model to read and correct."""


def tool_name(agent_name: str) -> str:
    """The agent's name as MCP allows tool names."""
    return _NOT_IN_NAMES.sub("_", agent_name)[:MAX_NAME]


def _agents_by_tool(session: Session) -> dict[str, Agent]:
    runnable = session.exec(
        select(Agent)
        .where(col(Agent.archived).is_(False), col(Agent.latest_version).is_not(None))
        .order_by(col(Agent.created_at), col(Agent.id))
    ).all()
    # Agents whose names are tool names already come first (the sort is stable).
    ordered = sorted(runnable, key=lambda agent: tool_name(agent.name) != agent.name)
    by_tool: dict[str, Agent] = {}
    for agent in ordered:
        by_tool.setdefault(tool_name(agent.name), agent)
    return by_tool


def list_tools(engine: Engine, tenant_id: str) -> list[Tool]:
    """The tenant's agents that can run, as tools, oldest first."""
    with scoped_session(engine, TenantScope(tenant_id)) as session:
        by_tool = _agents_by_tool(session)
    listed = sorted(by_tool.items(), key=lambda item: (item[1].created_at, item[1].id))
    return [
        Tool(
            name=name,
            description=agent.description or f"Runs the agent {agent.name!r}.",
            input_schema=INPUT_SCHEMA,
        )
        for name, agent in listed
    ]


@dataclass(frozen=True)
class Call:
    """The run a tools/call asks for: of which agent, on which thread (or none), with what."""

    agent_id: str
    thread_id: str | None
    body: RunCreate | ThreadRunCreate


def _problems(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(part) for part in error['loc']) or 'arguments'}: {error['msg']}"
        for error in exc.errors()
    )


def call_of(session: Session, name: str, arguments: Mapping[str, Any] | None) -> Call:
    """The run a call of tool `name` asks for; a `ToolCallError` says what is wrong with it."""
    agent = _agents_by_tool(session).get(name)
    if agent is None:
        raise ToolCallError(f"Unknown tool: {name}")
    given = dict(arguments or {})
    unknown = sorted(set(given) - ARGUMENTS)
    if unknown:
        takes = ", ".join(sorted(ARGUMENTS))
        raise ToolCallError(f"unknown arguments: {', '.join(unknown)} (it takes {takes})")
    if "input" in given and not isinstance(given["input"], str):
        raise ToolCallError("input: a string")  # a thread run would take a list of messages
    thread_id = given.pop("thread_id", None)
    if thread_id is not None and not isinstance(thread_id, str):
        raise ToolCallError("thread_id: a string")
    try:
        if thread_id is None:
            return Call(agent.id, None, RunCreate.model_validate(given))
        turn = ThreadRunCreate.model_validate({**given, "agent": agent.id})
        return Call(agent.id, thread_id, turn)
    except ValidationError as exc:
        raise ToolCallError(_problems(exc)) from None


# The steps finished so far, and what the latest was: `step 2 (tool calculator) succeeded`.
OnProgress = Callable[[int, str], Awaitable[None]]


async def wait_for_end(
    event_log: EventLog, engine: Engine, tenant_id: str, run_id: str, progress: OnProgress
) -> None:
    """Follow the run's events until it ends, telling `progress` of each finished step."""
    after, finished = 0, 0
    while True:
        events = await event_log.wait(tenant_id, run_id, after, QUIET_SECONDS)
        for event in events:
            after = event.id
            if event.type == "step.completed":
                finished += 1
                step = event.data
                about = f"({step.get('kind')} {step.get('name')}) {step.get('status')}"
                await progress(finished, f"step {step.get('seq')} {about}")
            elif event.type == "run.completed":
                return
        if not events:
            status = await asyncio.to_thread(run_status, engine, tenant_id, run_id)
            if status.is_terminal:
                return


def tool_error(message: str, structured: dict[str, Any] | None = None) -> CallToolResult:
    """A result saying why the call gave no answer (`isError`), for the client's model to read."""
    return CallToolResult(
        content=[TextContent(type="text", text=message)],
        structured_content=structured,
        is_error=True,
    )


def outcome(engine: Engine, tenant_id: str, run_id: str) -> CallToolResult:
    """The ended run as a tool result: its output, or (`isError`) why it has none."""
    with scoped_session(engine, TenantScope(tenant_id)) as session:
        run = get_run(session, run_id)
    status = RunStatus(run.status)
    structured: dict[str, Any] = {
        "run_id": run.id,
        "status": status.value,
        "output": run.output,
        "usage": {"input_tokens": run.input_tokens, "output_tokens": run.output_tokens},
        "cost_usd": run.cost_usd,
    }
    if status == RunStatus.succeeded:
        output = run.output
        text = output if isinstance(output, str) else json.dumps(output, default=str)
        return CallToolResult(
            content=[TextContent(type="text", text=text)], structured_content=structured
        )
    message = str((run.error or {}).get("message") or "")
    about = f"the run ended {status.value}" + (f": {message}" if message else "")
    return tool_error(about, {**structured, "error": run.error})
