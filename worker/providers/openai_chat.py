"""OpenAI Chat Completions with function calling, for OpenAI and servers that speak its protocol.

Ollama, vLLM, LM Studio and most gateways expose the same `/v1/chat/completions` endpoint, so
one provider serves both `openai` and `openai_compatible`; only the base URL and key differ.
"""

import json
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit
from uuid import uuid4

import openai
from openai.types.chat import (
    ChatCompletion,
    ChatCompletionFunctionToolParam,
    ChatCompletionMessageFunctionToolCall,
    ChatCompletionMessageFunctionToolCallParam,
    ChatCompletionMessageParam,
)

from backend.models.agent_config import ModelSpec
from worker.types import Message, ModelReply, ProviderError, ToolCall, ToolSpec

NO_KEY_PLACEHOLDER = "not-needed"
"""Sent when no key is configured: the SDK insists on one, local servers ignore it."""

RUNTIME_PARAMETERS = frozenset({"base_url", "api_key_env", "script"})
"""Keys of `ModelSpec.parameters` that configure the runtime, never sent to the provider."""

RESERVED_PARAMETERS = frozenset({"model", "messages", "tools", "stream"})
"""Request fields this provider sets itself; a parameter with that name would override them."""

RETRYABLE_STATUSES = frozenset({408, 409})
MAX_DETAIL_CHARS = 500
INVALID_JSON_KEY = "__invalid_json__"


class OpenAIChatProvider:
    """One Chat Completions call per model turn, with the SDK's own retries off.

    The durable engine retries failed activities itself, so every attempt stays visible in the
    run's history instead of disappearing inside the SDK.
    """

    def __init__(
        self, api_key: str | None, base_url: str | None = None, timeout: float = 120.0
    ) -> None:
        self._key_configured = bool(api_key)
        self._secret = api_key or ""
        self._timeout = timeout
        self._client = openai.AsyncOpenAI(
            api_key=api_key or NO_KEY_PLACEHOLDER,
            base_url=base_url,
            timeout=timeout,
            max_retries=0,
        )
        self._where = _without_userinfo(str(self._client.base_url))

    async def aclose(self) -> None:
        """Close pooled connections; call once the worker stops using this provider."""
        await self._client.close()

    async def __aenter__(self) -> "OpenAIChatProvider":
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.aclose()

    async def complete(
        self,
        spec: ModelSpec,
        system_prompt: str,
        messages: list[Message],
        tools: list[ToolSpec],
    ) -> ModelReply:
        label = "OpenAI" if spec.provider == "openai" else "the OpenAI-compatible server"
        extra_body = _request_parameters(spec.parameters)
        request_tools = [_tool(tool) for tool in tools]
        try:
            completion = await self._client.chat.completions.create(
                model=spec.name,
                messages=_messages(system_prompt, messages),
                tools=request_tools if request_tools else openai.omit,
                extra_body=extra_body or None,
            )
        except openai.APITimeoutError:
            raise ProviderError(
                f"{label} at {self._where} did not answer within {self._timeout:g}s "
                f"(model {spec.name!r})",
                retryable=True,
                code="provider_unavailable",
            ) from None
        except openai.APIConnectionError as exc:
            raise ProviderError(
                f"could not connect to {label} at {self._where}: {self._redact(_cause(exc))}; "
                "check the base URL and that the server is running",
                retryable=True,
                code="provider_unavailable",
            ) from None
        except openai.APIStatusError as exc:
            raise self._status_error(label, spec.name, exc) from None
        except openai.OpenAIError as exc:
            raise ProviderError(
                f"{label} call failed: {self._redact(str(exc))}",
                retryable=False,
                code="provider_rejected",
            ) from None
        return _reply(completion, label)

    def _status_error(self, label: str, model: str, exc: openai.APIStatusError) -> ProviderError:
        status = exc.status_code
        detail = self._redact(_provider_message(exc.body))
        said = f"{label} answered HTTP {status}: {detail}"
        if status == 429 and exc.code == "insufficient_quota":
            return ProviderError(
                f"{said} (the account's quota is used up; retrying will not help until it is "
                "raised)",
                retryable=False,
                code="rate_limited",
            )
        if status == 429:
            return ProviderError(f"{said} (rate limited)", retryable=True, code="rate_limited")
        if status >= 500 or status in RETRYABLE_STATUSES:
            return ProviderError(
                f"{said} (temporary failure)", retryable=True, code="provider_unavailable"
            )
        if status in (401, 403):
            hint = (
                f"check that the API key (parameters.api_key_env) is valid and may use {model!r}"
                if self._key_configured
                else "no API key is configured; set parameters.api_key_env to a worker env var"
            )
            return ProviderError(f"{said} ({hint})", retryable=False, code="provider_auth")
        hint = (
            f"check the model name {model!r} and the base URL {self._where}"
            if status == 404
            else "check the model name, parameters and tool schemas"
        )
        return ProviderError(f"{said} ({hint})", retryable=False, code="provider_rejected")

    def _redact(self, text: str) -> str:
        return text.replace(self._secret, "[redacted]") if self._secret else text


def _request_parameters(parameters: Mapping[str, Any]) -> dict[str, Any]:
    """Everything not ours goes to the provider verbatim; it rejects what it doesn't know."""
    clash = sorted(RESERVED_PARAMETERS.intersection(parameters))
    if clash:
        raise ProviderError(
            f"model parameters {', '.join(clash)} are set by the runtime; "
            "remove them from the agent's model parameters",
            retryable=False,
            code="provider_rejected",
        )
    return {key: value for key, value in parameters.items() if key not in RUNTIME_PARAMETERS}


def _messages(system_prompt: str, messages: Iterable[Message]) -> list[ChatCompletionMessageParam]:
    wire: list[ChatCompletionMessageParam] = []
    if system_prompt:
        wire.append({"role": "system", "content": system_prompt})
    for message in messages:
        if message.role == "user":
            wire.append({"role": "user", "content": message.content})
        elif message.role == "assistant":
            calls: list[ChatCompletionMessageFunctionToolCallParam] = [
                {
                    "id": call.id,
                    "type": "function",
                    "function": {"name": call.name, "arguments": json.dumps(call.arguments)},
                }
                for call in message.tool_calls
            ]
            if calls:
                wire.append(
                    {"role": "assistant", "content": message.content or None, "tool_calls": calls}
                )
            else:
                wire.append({"role": "assistant", "content": message.content})
        else:
            content = f"ERROR: {message.content}" if message.is_error else message.content
            wire.append(
                {"role": "tool", "tool_call_id": message.tool_call_id or "", "content": content}
            )
    return wire


def _tool(tool: ToolSpec) -> ChatCompletionFunctionToolParam:
    return {
        "type": "function",
        "function": {
            "name": tool.name,
            "description": tool.description,
            "parameters": tool.parameters,
        },
    }


def _reply(completion: ChatCompletion, label: str) -> ModelReply:
    choices = getattr(completion, "choices", None)
    if not isinstance(completion, ChatCompletion) or not choices:
        raise ProviderError(
            f"{label} sent a reply without choices; is the base URL an OpenAI-compatible /v1?",
            retryable=False,
            code="provider_bad_response",
        )
    message = choices[0].message
    calls = [
        ToolCall(
            id=getattr(call, "id", None) or f"call_{uuid4().hex[:24]}",
            name=call.function.name,
            arguments=_arguments(call.function.arguments),
        )
        for call in message.tool_calls or []
        if isinstance(call, ChatCompletionMessageFunctionToolCall)
    ]
    usage = completion.usage
    return ModelReply(
        text=message.content,
        tool_calls=calls,
        input_tokens=(usage.prompt_tokens or 0) if usage else 0,
        output_tokens=(usage.completion_tokens or 0) if usage else 0,
    )


def _arguments(raw: object) -> dict[str, Any]:
    """Invalid JSON is kept, not raised: the caller tells the model and lets it try again."""
    if isinstance(raw, dict):
        return raw
    if raw is None or raw == "":
        return {}
    text = raw if isinstance(raw, str) else str(raw)
    try:
        parsed = json.loads(text)
    except json.JSONDecodeError:
        return {INVALID_JSON_KEY: text}
    return parsed if isinstance(parsed, dict) else {INVALID_JSON_KEY: text}


def _provider_message(body: object) -> str:
    """The provider's own explanation, whichever error shape the server uses."""
    error = body.get("error", body) if isinstance(body, Mapping) else body
    if isinstance(error, Mapping):
        message = error.get("message") or error.get("detail") or json.dumps(error, default=str)
    elif error is None:
        message = "no error details"
    else:
        message = str(error)
    text = str(message).strip()
    return text if len(text) <= MAX_DETAIL_CHARS else text[:MAX_DETAIL_CHARS] + "..."


def _cause(exc: BaseException) -> str:
    cause = exc.__cause__ or exc.__context__
    return str(cause) if cause is not None and str(cause) else str(exc)


def _without_userinfo(url: str) -> str:
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment)).rstrip("/")
