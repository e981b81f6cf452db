"""The provider interface."""

from typing import Protocol

from core.models.agent_config import ModelSpec
from worker.types import DeltaCallback, Message, ModelReply, ToolSpec


class Provider(Protocol):
    async def complete(
        self,
        spec: ModelSpec,
        system_prompt: str,
        messages: list[Message],
        tools: list[ToolSpec],
        on_delta: DeltaCallback | None = None,
    ) -> ModelReply:
        """One model turn. Raises `ProviderError` (retryable or not) on failure.

        With `on_delta`, a provider that can stream awaits it with each chunk of the answer's
        text, in order, and still returns the whole reply, the same as without it.
        """
        ...
