"""What a tool call runs with: its run and step, the tool's configuration, secrets, artifacts."""

import os
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from core.models.agent_config import CallableTool


class ArtifactSink(Protocol):
    """Where `artifact_write` saves a run's named files (the object store, recorded in the DB)."""

    async def save(self, name: str, data: bytes, content_type: str) -> dict[str, Any]: ...


@dataclass(frozen=True)
class ToolContext:
    run_id: str
    seq: int
    tool: CallableTool
    # The activity's attempt: above 1, an earlier attempt may already have sent the call.
    attempt: int = 1
    allow_private_networks: bool = False
    # MCP servers over stdio may be started (MCP_ALLOW_STDIO).
    allow_stdio: bool = False
    # Where `{"secret": NAME}` header values are read from: the worker's environment.
    secrets: Mapping[str, str] = field(default_factory=lambda: os.environ)
    artifacts: ArtifactSink | None = None

    @property
    def idempotency_key(self) -> str:
        """Stable across retries of the same step, so a target can drop duplicates."""
        return f"{self.run_id}:{self.seq}"


ToolFunction = Callable[[dict[str, Any], ToolContext], Awaitable[Any]]
REGISTRY: dict[str, ToolFunction] = {}
