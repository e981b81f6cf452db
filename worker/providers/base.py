"""The provider interface."""

from typing import Protocol, TypeVar

from core.models.agent_config import ModelSpec
from core.models.parameters import Parameters
from worker.types import DeltaCallback, Message, ModelReply, ProviderError, ToolSpec

ParametersT = TypeVar("ParametersT", bound=Parameters)


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


def parameters_of(spec: ModelSpec, kind: type[ParametersT]) -> ParametersT:
    """The spec's typed parameters, as the provider serving it reads them."""
    if not isinstance(spec.parameters, kind):
        raise ProviderError(
            f"a {spec.provider} model cannot be called with {kind.__name__}",
            retryable=False,
            code="bad_config",
        )
    return spec.parameters
