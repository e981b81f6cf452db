"""Which provider serves which `model.provider`, with credentials from the worker's environment.

The SDK-backed providers are built on first use: their SDKs take seconds to import, which a
worker that only ever runs scripted models should not pay at start-up.
"""

from collections.abc import Callable

from core.models.agent_config import ModelSpec
from core.models.model_spec import OpenAICompatibleParameters
from worker.providers.base import Provider, parameters_of
from worker.providers.scripted import ScriptedProvider
from worker.settings import WorkerSettings
from worker.types import DeltaCallback, Message, ModelReply, ProviderError, ToolSpec


def _secret(value: object) -> str | None:
    get = getattr(value, "get_secret_value", None)
    return get() if get else None


class _OnFirstUse:
    def __init__(self, build: Callable[[], Provider]) -> None:
        self.build = build
        self.provider: Provider | None = None

    async def complete(
        self,
        spec: ModelSpec,
        system_prompt: str,
        messages: list[Message],
        tools: list[ToolSpec],
        on_delta: DeltaCallback | None = None,
    ) -> ModelReply:
        if self.provider is None:
            self.provider = self.build()
        return await self.provider.complete(spec, system_prompt, messages, tools, on_delta)


class _MissingCredentials:
    def __init__(self, variable: str) -> None:
        self.variable = variable

    async def complete(
        self,
        spec: ModelSpec,
        system_prompt: str,
        messages: list[Message],
        tools: list[ToolSpec],
        on_delta: DeltaCallback | None = None,
    ) -> ModelReply:
        raise ProviderError(
            f"{self.variable} is not set on the worker, so {spec.provider} models cannot be called",
            retryable=False,
            code="provider_auth",
        )


class _OpenAICompatible:
    """One client per base URL (Ollama, vLLM, LM Studio...), named in the version's parameters."""

    def __init__(self, api_key: str | None, timeout: float) -> None:
        self.api_key = api_key
        self.timeout = timeout
        self.clients: dict[str, Provider] = {}

    async def complete(
        self,
        spec: ModelSpec,
        system_prompt: str,
        messages: list[Message],
        tools: list[ToolSpec],
        on_delta: DeltaCallback | None = None,
    ) -> ModelReply:
        from worker.providers.openai_chat import OpenAIChatProvider

        base_url = parameters_of(spec, OpenAICompatibleParameters).base_url
        if not base_url:
            raise ProviderError(
                "openai_compatible models need model.parameters.base_url",
                retryable=False,
                code="bad_config",
            )
        if base_url not in self.clients:
            self.clients[base_url] = OpenAIChatProvider(self.api_key, base_url, self.timeout)
        provider = self.clients[base_url]
        return await provider.complete(spec, system_prompt, messages, tools, on_delta)


def _openai(api_key: str, base_url: str | None, timeout: float) -> Provider:
    from worker.providers.openai_chat import OpenAIChatProvider

    return OpenAIChatProvider(api_key, base_url, timeout)


def _anthropic(api_key: str, base_url: str | None, timeout: float) -> Provider:
    from worker.providers.anthropic_messages import AnthropicProvider

    return AnthropicProvider(api_key, base_url, timeout)


def build_providers(settings: WorkerSettings) -> dict[str, Provider]:
    timeout = settings.model_timeout_seconds
    openai_key = _secret(settings.openai_api_key)
    anthropic_key = _secret(settings.anthropic_api_key)
    return {
        "scripted": ScriptedProvider(),
        "openai": (
            _OnFirstUse(lambda: _openai(openai_key, settings.openai_base_url, timeout))
            if openai_key
            else _MissingCredentials("OPENAI_API_KEY")
        ),
        "openai_compatible": _OpenAICompatible(
            _secret(settings.openai_compatible_api_key), timeout
        ),
        "anthropic": (
            _OnFirstUse(lambda: _anthropic(anthropic_key, settings.anthropic_base_url, timeout))
            if anthropic_key
            else _MissingCredentials("ANTHROPIC_API_KEY")
        ),
    }
