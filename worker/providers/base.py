"""The provider interface."""

from typing import Protocol

from backend.models.agent_config import ModelSpec
from worker.types import Message, ModelReply, ToolSpec


class Provider(Protocol):
    async def complete(
        self,
        spec: ModelSpec,
        system_prompt: str,
        messages: list[Message],
        tools: list[ToolSpec],
    ) -> ModelReply:
        """One model turn. Raises `ProviderError` (retryable or not) on failure."""
        ...
