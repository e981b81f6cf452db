"""Anthropic's Messages API with tool use."""

import json
from collections.abc import Iterable, Mapping
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

import anthropic
from anthropic.types import (
    ContentBlockParam,
    MessageParam,
    TextBlock,
    ToolParam,
    ToolUseBlock,
)
from anthropic.types import Message as AnthropicMessage

from backend.models.agent_config import ModelSpec
from worker.types import Message, ModelReply, ProviderError, ToolCall, ToolSpec

NO_KEY_PLACEHOLDER = "not-needed"
"""Sent when no key is configured, so the SDK never reads keys from the worker's env or disk."""

DEFAULT_MAX_TOKENS = 4096
"""The Messages API requires `max_tokens`; this applies when the agent's parameters omit it."""

RUNTIME_PARAMETERS = frozenset({"base_url", "api_key_env", "script", "max_tokens"})
"""Keys of `ModelSpec.parameters` not passed through (max_tokens has its own argument)."""

RESERVED_PARAMETERS = frozenset({"model", "messages", "system", "tools", "stream"})
"""Request fields this provider sets itself; a parameter with that name would override them."""

RETRYABLE_STATUSES = frozenset({408, 409})
MAX_DETAIL_CHARS = 500
INVALID_JSON_KEY = "__invalid_json__"


class AnthropicProvider:
    """One Messages call per model turn, with the SDK's own retries off.

    The durable engine retries failed activities itself, so every attempt stays visible in the
    run's history instead of disappearing inside the SDK.
    """

    def __init__(
        self, api_key: str | None, base_url: str | None = None, timeout: float = 120.0
    ) -> None:
        self._key_configured = bool(api_key)
        self._secret = api_key or ""
        self._timeout = timeout
        self._client = anthropic.AsyncAnthropic(
            api_key=api_key or NO_KEY_PLACEHOLDER,
            base_url=base_url,
            timeout=timeout,
            max_retries=0,
        )
        self._where = _without_userinfo(str(self._client.base_url))

    async def aclose(self) -> None:
        """Close pooled connections; call once the worker stops using this provider."""
        await self._client.close()

    async def __aenter__(self) -> "AnthropicProvider":
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
        extra_body = _request_parameters(spec.parameters)
        max_tokens = _max_tokens(spec.parameters)
        request_tools = [_tool(tool) for tool in tools]
        try:
            reply = await self._client.messages.create(
                model=spec.name,
                max_tokens=max_tokens,
                messages=_messages(messages),
                system=system_prompt or anthropic.omit,
                tools=request_tools if request_tools else anthropic.omit,
                extra_body=extra_body or None,
            )
        except anthropic.APITimeoutError:
            raise ProviderError(
                f"Anthropic at {self._where} did not answer within {self._timeout:g}s "
                f"(model {spec.name!r})",
                retryable=True,
                code="provider_unavailable",
            ) from None
        except anthropic.APIConnectionError as exc:
            raise ProviderError(
                f"could not connect to Anthropic at {self._where}: {self._redact(_cause(exc))}; "
                "check the base URL and the network",
                retryable=True,
                code="provider_unavailable",
            ) from None
        except anthropic.APIStatusError as exc:
            raise self._status_error(spec.name, exc) from None
        except anthropic.AnthropicError as exc:
            raise ProviderError(
                f"Anthropic call failed: {self._redact(str(exc))}",
                retryable=False,
                code="provider_rejected",
            ) from None
        return _reply(reply)

    def _status_error(self, model: str, exc: anthropic.APIStatusError) -> ProviderError:
        status = exc.status_code
        detail = self._redact(_provider_message(exc.body))
        said = f"Anthropic answered HTTP {status}: {detail}"
        if status == 429:
            return ProviderError(f"{said} (rate limited)", retryable=True, code="rate_limited")
        if status >= 500 or status in RETRYABLE_STATUSES:
            return ProviderError(
                f"{said} (temporary failure or overload)",
                retryable=True,
                code="provider_unavailable",
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


def _max_tokens(parameters: Mapping[str, Any]) -> int:
    value = parameters.get("max_tokens", DEFAULT_MAX_TOKENS)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ProviderError(
            f"parameters.max_tokens must be a positive integer, not {value!r}",
            retryable=False,
            code="provider_rejected",
        )
    return value


def _messages(messages: Iterable[Message]) -> list[MessageParam]:
    """Neutral transcript to Messages turns, merging neighbours that share a role.

    Tool results travel as user turns; several in a row (one per parallel call) must form a
    single user turn, and so must a user message that follows them.
    """
    turns: list[tuple[Literal["user", "assistant"], list[ContentBlockParam]]] = []
    for message in messages:
        role: Literal["user", "assistant"]
        blocks: list[ContentBlockParam] = []
        if message.role == "tool":
            role = "user"
            blocks.append(
                {
                    "type": "tool_result",
                    "tool_use_id": message.tool_call_id or "",
                    "content": message.content,
                    "is_error": message.is_error,
                }
            )
        else:
            role = message.role
            if message.content:
                blocks.append({"type": "text", "text": message.content})
            blocks.extend(
                {"type": "tool_use", "id": call.id, "name": call.name, "input": call.arguments}
                for call in message.tool_calls
            )
        if not blocks:
            continue
        if turns and turns[-1][0] == role:
            turns[-1][1].extend(blocks)
        else:
            turns.append((role, blocks))
    return [_turn(role, blocks) for role, blocks in turns]


def _turn(role: Literal["user", "assistant"], blocks: list[ContentBlockParam]) -> MessageParam:
    if role == "user":
        return {"role": "user", "content": blocks}
    return {"role": "assistant", "content": blocks}


def _tool(tool: ToolSpec) -> ToolParam:
    return {"name": tool.name, "description": tool.description, "input_schema": tool.parameters}


def _reply(reply: AnthropicMessage) -> ModelReply:
    if not isinstance(reply, AnthropicMessage) or not isinstance(reply.content, list):
        raise ProviderError(
            "Anthropic sent a reply that is not a message; is the base URL the Messages API?",
            retryable=False,
            code="provider_bad_response",
        )
    texts = [block.text for block in reply.content if isinstance(block, TextBlock)]
    calls = [
        ToolCall(id=block.id, name=block.name, arguments=_arguments(block.input))
        for block in reply.content
        if isinstance(block, ToolUseBlock)
    ]
    usage = reply.usage
    return ModelReply(
        text="".join(texts) if texts else None,
        tool_calls=calls,
        input_tokens=(usage.input_tokens or 0) if usage else 0,
        output_tokens=(usage.output_tokens or 0) if usage else 0,
    )


def _arguments(raw: object) -> dict[str, Any]:
    """A non-object input is kept, not raised: the caller tells the model and lets it retry."""
    if isinstance(raw, dict):
        return raw
    return {INVALID_JSON_KEY: raw if isinstance(raw, str) else json.dumps(raw, default=str)}


def _provider_message(body: object) -> str:
    """The provider's own explanation, whichever error shape the server uses."""
    error = body.get("error", body) if isinstance(body, Mapping) else body
    if isinstance(error, Mapping):
        message = error.get("message") or json.dumps(error, default=str)
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
