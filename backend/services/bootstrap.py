"""First start: the `default` tenant and a platform admin key written to a file."""

import asyncio
import os
import sys
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import select

from backend.security import key_material
from backend.services.agents import create_agent, publish_version
from backend.services.mcp_pinning import Reach, pinned
from backend.services.tenants import create_api_key
from core.db import AllTenants, TenantScope, scoped_session
from core.models import Agent, AgentCreate, ApiKey, Role, Tenant, VersionCreate
from core.models.api_key import ApiKeyCreate

DEFAULT_TENANT = "default"
ADMIN_KEY_NAME = "platform admin (bootstrap)"


DEMO_AGENT = "demo-calculator"
DEMO_CONFIG = {
    "model": {
        "provider": "scripted",
        "name": "demo",
        "parameters": {
            "script": [
                {"tool_calls": [{"name": "calculator", "arguments": {"expression": "6 * 7"}}]},
                {"text": "6 * 7 = 42. (This demo agent plays a fixed script: no API key needed.)"},
            ]
        },
    },
    "system_prompt": "You are a demo agent that shows a model step and a tool step.",
    "tools": [{"type": "builtin", "name": "calculator"}],
    "limits": {"max_steps": 10, "timeout_seconds": 120},
    "notes": "Seeded on first start.",
}


DEMO_CHAT_AGENT = "demo-chat"
DEMO_CHAT_CONFIG = {
    "model": {
        "provider": "scripted",
        "name": "demo-chat",
        "parameters": {
            "script": [
                {"text": "Hello! You said: {last_user}. (A scripted demo: no API key needed.)"},
                {"text": "You have said {user_count} things so far: {user_messages}"},
                {"tool_calls": [{"name": "calculator", "arguments": {"expression": "6 * 7"}}]},
                {"text": "I asked the calculator: 6 * 7 = 42. It remembers the whole thread."},
            ],
            "repeat": True,
        },
    },
    "system_prompt": "You are a demo chat agent that answers from the conversation.",
    "tools": [{"type": "builtin", "name": "calculator"}],
    "limits": {"max_steps": 10, "timeout_seconds": 120},
    "notes": "Seeded on first start: try it in a thread (`agent-runtime chat demo-chat`).",
}
DEMO_MCP_AGENT = "demo-mcp"
DEMO_MCP_CONFIG = {
    "model": {
        "provider": "scripted",
        "name": "demo-mcp",
        "parameters": {
            "script": [
                {"tool_calls": [{"name": "demo__reverse", "arguments": {"text": "{last_user}"}}]},
                {"text": "The demo MCP server reversed your message: see its tool step."},
            ],
            "repeat": True,
        },
    },
    "system_prompt": "You are a demo agent whose tools come from an MCP server.",
    # The bundled server over stdio (`make dev` allows stdio MCP servers); its tools are
    # pinned into the version when it is published.
    "tools": [
        {
            "type": "mcp",
            "name": "demo",
            "transport": "stdio",
            "command": [sys.executable, "-m", "cli.demo_mcp_server"],
        }
    ],
    "limits": {"max_steps": 10, "timeout_seconds": 120},
    "notes": "Seeded on first start: tools from the bundled MCP server.",
}
DEMO_AGENTS = (
    (DEMO_AGENT, "Scripted demo: one tool call, one answer.", DEMO_CONFIG),
    (DEMO_CHAT_AGENT, "Scripted demo chat: answers from the conversation.", DEMO_CHAT_CONFIG),
    (DEMO_MCP_AGENT, "Scripted demo: a tool from an MCP server.", DEMO_MCP_CONFIG),
)


def ensure_default_tenant(engine: Engine) -> tuple[Tenant, bool]:
    """The `default` tenant, and whether this call created it (the first start)."""
    with scoped_session(engine, AllTenants()) as session:
        tenant = session.exec(select(Tenant).where(Tenant.name == DEFAULT_TENANT)).first()
        if tenant is not None:
            return tenant, False
        tenant = Tenant(name=DEFAULT_TENANT)
        session.add(tenant)
        session.commit()
        return tenant, True


def seed_demo_agents(engine: Engine, tenant: Tenant, reach: Reach) -> list[Agent]:
    """Scripted agents (a calculator run, a chat, tools from an MCP server), so a new user can
    try runs, threads and MCP without any key. `reach`: what pinning MCP tools may start."""
    seeded = []
    with scoped_session(engine, TenantScope(tenant.id)) as session:
        for name, description, config in DEMO_AGENTS:
            existing = session.exec(select(Agent).where(Agent.name == name)).first()
            if existing is not None:
                seeded.append(existing)
                continue
            agent = create_agent(
                session, AgentCreate(name=name, description=description), created_by="bootstrap"
            )
            body = asyncio.run(pinned(VersionCreate.model_validate(config), reach))
            publish_version(session, agent.id, body, created_by="bootstrap")
            seeded.append(agent)
    return seeded


def ensure_admin_key(engine: Engine, key_file: Path) -> str:
    """Return the platform admin key, creating it (and its file, mode 0600) on first start.

    A key file whose key the database does not hold (a fresh database) is registered again,
    so the printed key always works.
    """
    tenant, _first_start = ensure_default_tenant(engine)
    held = key_material(key_file.read_text().strip()) if key_file.exists() else None
    admin_key = ApiKeyCreate(name=ADMIN_KEY_NAME, role=Role.admin)
    with scoped_session(engine, AllTenants()) as session:
        if held is not None:
            row = session.exec(select(ApiKey).where(ApiKey.lookup == held.lookup)).first()
            if row is None:  # a fresh database: the key in the file is registered again
                create_api_key(
                    session, tenant, admin_key, "bootstrap", platform_admin=True, generated=held
                )
                return held.key
            if row.revoked_at is None and row.platform_admin:
                return held.key
        created = create_api_key(session, tenant, admin_key, "bootstrap", platform_admin=True)
    key_file.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(created.key + "\n")
    return created.key
