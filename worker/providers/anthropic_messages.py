"""Anthropic's Messages API with tool use."""

import json
from collections.abc import Iterable, Mapping
from typing import Any, Literal

import anthropic
import httpx2
from anthropic import AsyncStream
from anthropic.types import (
    ContentBlockParam,
    InputJSONDelta,
    MessageParam,
    RawContentBlockDeltaEvent,
    RawContentBlockStartEvent,
    RawMessageDeltaEvent,
    RawMessageStartEvent,
    RawMessageStreamEvent,
    TextBlock,
    TextDelta,
    ToolParam,
    ToolUseBlock,
)
from anthropic.types import Message as AnthropicMessage

from core.models.agent_config import ModelSpec
from core.models.model_spec import AnthropicParameters
from worker.providers import common
from worker.providers.base import parameters_of
from worker.providers.common import (
    INVALID_JSON_KEY,
    HTTPProvider,
    json_arguments,
    request_parameters,
)
from worker.types import DeltaCallback, Message, ModelReply, ProviderError, ToolCall, ToolSpec

DEFAULT_MAX_TOKENS = 4096
"""The Messages API requires `max_tokens`; this applies when the agent's parameters omit it."""

RUNTIME_PARAMETERS = common.RUNTIME_PARAMETERS | {"max_tokens"}
"""Parameters not passed through as request fields (max_tokens has its own argument)."""

RESERVED_PARAMETERS = frozenset({"model", "messages", "system", "tools", "stream"})
"""Request fields this provider sets itself; a parameter with that name would override them."""

STREAM_ERROR_STATUSES = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "permission_error": 403,
    "not_found_error": 404,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "api_error": 500,
    "overloaded_error": 529,
}
"""The HTTP status each documented error type stands for, to judge an error event that arrives
inside a stream that began 200 OK."""

_LABEL = "Anthropic"


class AnthropicProvider(HTTPProvider[anthropic.AsyncAnthropic]):
    """One Messages call per model turn, with the SDK's own retries off."""

    temporary_note = "temporary failure or overload"

    def _connect(
        self, api_key: str, base_url: str | None, timeout: float
    ) -> anthropic.AsyncAnthropic:
        return anthropic.AsyncAnthropic(
            api_key=api_key, base_url=base_url, timeout=timeout, max_retries=0
        )

    async def complete(
        self,
        spec: ModelSpec,
        system_prompt: str,
        messages: list[Message],
        tools: list[ToolSpec],
        on_delta: DeltaCallback | None = None,
    ) -> ModelReply:
        parameters = parameters_of(spec, AnthropicParameters)
        extra_body = request_parameters(parameters, RUNTIME_PARAMETERS, RESERVED_PARAMETERS)
        max_tokens = _max_tokens(parameters)
        wire = _messages(messages)
        request_tools = [_tool(tool) for tool in tools]
        try:
            if on_delta is None:
                reply = await self._client.messages.create(
                    model=spec.name,
                    max_tokens=max_tokens,
                    messages=wire,
                    system=system_prompt or anthropic.omit,
                    tools=request_tools if request_tools else anthropic.omit,
                    extra_body=extra_body or None,
                )
                return _reply(reply)
            stream = await self._client.messages.create(
                model=spec.name,
                max_tokens=max_tokens,
                messages=wire,
                system=system_prompt or anthropic.omit,
                tools=request_tools if request_tools else anthropic.omit,
                extra_body=extra_body or None,
                stream=True,
            )
            # Inside the try: a stream can fail after the first event as well as before it.
            async with stream:
                return await _streamed_reply(stream, on_delta)
        # The SDK's stream lets the HTTP client's own errors through once the events have begun.
        except (anthropic.APITimeoutError, httpx2.TimeoutException):
            raise self._timeout_error(_LABEL, spec.name) from None
        except (anthropic.APIConnectionError, httpx2.TransportError) as exc:
            advice = "check the base URL and the network"
            raise self._connection_error(_LABEL, exc, advice) from None
        except anthropic.APIStatusError as exc:
            status = exc.status_code
            if status < 400:  # an error event inside a stream that began 200 OK
                status = STREAM_ERROR_STATUSES.get(_error_type(exc.body), 500)
            raise self._status_error(_LABEL, spec.name, status, exc.body) from None
        except anthropic.AnthropicError as exc:
            raise self._call_failed(_LABEL, exc) from None


def _max_tokens(parameters: AnthropicParameters) -> int:
    # A stored configuration of an earlier release may hold an untyped value: checked here.
    value = parameters.max_tokens or parameters.legacy().get("max_tokens", DEFAULT_MAX_TOKENS)
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
        raise _not_a_message()
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


async def _streamed_reply(
    events: AsyncStream[RawMessageStreamEvent], on_delta: DeltaCallback
) -> ModelReply:
    """What `_reply` makes of the whole message, assembled from its events.

    Content blocks are keyed by index; a tool_use block's input arrives as fragments of JSON.
    Input tokens come with message_start, the final output count with message_delta.
    """
    started = False
    texts: dict[int, list[str]] = {}
    uses: dict[int, tuple[ToolUseBlock, list[str]]] = {}
    input_tokens = output_tokens = 0
    async for event in events:
        if isinstance(event, RawMessageStartEvent):
            started = True
            input_tokens = event.message.usage.input_tokens or 0
            output_tokens = event.message.usage.output_tokens or 0
        elif isinstance(event, RawContentBlockStartEvent):
            block = event.content_block
            if isinstance(block, TextBlock):
                texts[event.index] = [block.text]
                if block.text:
                    await on_delta(block.text)
            elif isinstance(block, ToolUseBlock):
                uses[event.index] = (block, [])
        elif isinstance(event, RawContentBlockDeltaEvent):
            delta = event.delta
            if isinstance(delta, TextDelta) and event.index in texts:
                texts[event.index].append(delta.text)
                await on_delta(delta.text)
            elif isinstance(delta, InputJSONDelta) and event.index in uses:
                uses[event.index][1].append(delta.partial_json)
        elif isinstance(event, RawMessageDeltaEvent):
            # Counts here are running totals, so they replace those from message_start.
            output_tokens = event.usage.output_tokens or output_tokens
            input_tokens = event.usage.input_tokens or input_tokens
    if not started:
        raise _not_a_message()
    return ModelReply(
        text="".join("".join(texts[index]) for index in sorted(texts)) if texts else None,
        tool_calls=[
            ToolCall(id=block.id, name=block.name, arguments=_streamed_input(block, pieces))
            for block, pieces in (uses[index] for index in sorted(uses))
        ],
        input_tokens=input_tokens,
        output_tokens=output_tokens,
    )


def _streamed_input(block: ToolUseBlock, pieces: list[str]) -> dict[str, Any]:
    raw = "".join(pieces)
    return json_arguments(raw) if raw else _arguments(block.input)


def _error_type(body: object) -> str:
    error = body.get("error") if isinstance(body, Mapping) else None
    return str(error.get("type", "")) if isinstance(error, Mapping) else ""


def _not_a_message() -> ProviderError:
    return ProviderError(
        "Anthropic sent a reply that is not a message; is the base URL the Messages API?",
        retryable=False,
        code="provider_bad_response",
    )
