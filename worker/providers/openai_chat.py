"""OpenAI Chat Completions with function calling, for OpenAI and servers that speak its protocol.

Ollama, vLLM, LM Studio and most gateways expose the same `/v1/chat/completions` endpoint, so
one provider serves both `openai` and `openai_compatible`; only the base URL and key differ.
"""

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from uuid import uuid4

import openai
from openai import AsyncStream
from openai.types import CompletionUsage
from openai.types.chat import (
    ChatCompletion,
    ChatCompletionChunk,
    ChatCompletionFunctionToolParam,
    ChatCompletionMessageFunctionToolCall,
    ChatCompletionMessageFunctionToolCallParam,
    ChatCompletionMessageParam,
)

from core.models.agent_config import ModelSpec
from core.models.model_spec import OpenAIParameters
from worker.providers.base import parameters_of
from worker.providers.common import (
    RUNTIME_PARAMETERS,
    HTTPProvider,
    json_arguments,
    request_parameters,
)
from worker.types import DeltaCallback, Message, ModelReply, ProviderError, ToolCall, ToolSpec

RESERVED_PARAMETERS = frozenset({"model", "messages", "tools", "stream"})
"""Request fields this provider sets itself; a parameter with that name would override them."""


class OpenAIChatProvider(HTTPProvider[openai.AsyncOpenAI]):
    """One Chat Completions call per model turn, with the SDK's own retries off."""

    detail_keys = ("message", "detail")
    """Compatible servers may explain errors in `detail` rather than `message`."""

    def _connect(self, api_key: str, base_url: str | None, timeout: float) -> openai.AsyncOpenAI:
        return openai.AsyncOpenAI(
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
        label = "OpenAI" if spec.provider == "openai" else "the OpenAI-compatible server"
        parameters = parameters_of(spec, OpenAIParameters)
        extra_body = request_parameters(parameters, RUNTIME_PARAMETERS, RESERVED_PARAMETERS)
        wire = _messages(system_prompt, messages)
        request_tools = [_tool(tool) for tool in tools]
        try:
            if on_delta is None:
                completion = await self._client.chat.completions.create(
                    model=spec.name,
                    messages=wire,
                    tools=request_tools if request_tools else openai.omit,
                    extra_body=extra_body or None,
                )
                return _reply(completion, label)
            stream = await self._client.chat.completions.create(
                model=spec.name,
                messages=wire,
                tools=request_tools if request_tools else openai.omit,
                extra_body=extra_body or None,
                stream=True,
                stream_options={"include_usage": True},
            )
            # Inside the try: a stream can fail after the first chunk as well as before it.
            async with stream:
                return await _streamed_reply(stream, on_delta, label)
        except openai.OpenAIError as exc:
            raise self._failure(label, spec.name, exc) from None

    def _failure(self, label: str, model: str, exc: openai.OpenAIError) -> ProviderError:
        if isinstance(exc, openai.APITimeoutError):
            return self._timeout_error(label, model)
        if isinstance(exc, openai.APIConnectionError):
            advice = "check the base URL and that the server is running"
            return self._connection_error(label, exc, advice)
        if isinstance(exc, openai.APIStatusError):
            status = exc.status_code
        elif type(exc) is openai.APIError:
            # The SDK raises the bare class for an error event inside a stream that began 200 OK.
            status = _status_of_stream_error(exc)
        else:
            return self._call_failed(label, exc)
        if status == 429 and exc.code == "insufficient_quota":
            return self._answered(
                label,
                status,
                exc.body,
                "the account's quota is used up; retrying will not help until it is raised",
                retryable=False,
                code="rate_limited",
            )
        return self._status_error(label, model, status, exc.body)


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
        raise _without_choices(label)
    message = choices[0].message
    calls = [
        ToolCall(
            id=getattr(call, "id", None) or f"call_{uuid4().hex[:24]}",
            name=call.function.name,
            arguments=json_arguments(call.function.arguments),
        )
        for call in message.tool_calls or []
        if isinstance(call, ChatCompletionMessageFunctionToolCall)
    ]
    input_tokens, output_tokens = _tokens(completion.usage)
    return ModelReply(
        text=message.content,
        tool_calls=calls,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
    )


@dataclass
class _PartialCall:
    """A streamed tool call so far."""

    id: str = ""
    name: str = ""
    arguments: list[str] = field(default_factory=list)


async def _streamed_reply(
    chunks: AsyncStream[ChatCompletionChunk], on_delta: DeltaCallback, label: str
) -> ModelReply:
    """What `_reply` makes of the whole completion, assembled from its chunks.

    Tool calls arrive in pieces keyed by index: the first piece names the call, the rest carry
    fragments of its JSON arguments. Usage comes last, in a chunk without choices.
    """
    answered = has_text = False
    text: list[str] = []
    calls: dict[int, _PartialCall] = {}
    usage: CompletionUsage | None = None
    async for chunk in chunks:
        usage = getattr(chunk, "usage", None) or usage
        for choice in getattr(chunk, "choices", None) or []:
            if choice.index != 0:
                continue
            answered = True
            delta = choice.delta
            if delta.content is not None:
                has_text = True
                if delta.content:
                    text.append(delta.content)
                    await on_delta(delta.content)
            for piece in delta.tool_calls or []:
                call = calls.setdefault(piece.index, _PartialCall())
                # Some servers repeat the id and name in every piece; the first one counts.
                call.id = call.id or piece.id or ""
                if piece.function is not None:
                    call.name = call.name or piece.function.name or ""
                    call.arguments.append(piece.function.arguments or "")
    if not answered:
        raise _without_choices(label)
    input_tokens, output_tokens = _tokens(usage)
    return ModelReply(
        text="".join(text) if has_text else None,
        tool_calls=[
            ToolCall(
                id=call.id or f"call_{uuid4().hex[:24]}",
                name=call.name,
                arguments=json_arguments("".join(call.arguments)),
            )
            for _, call in sorted(calls.items())
        ],
        input_tokens=input_tokens,
        output_tokens=output_tokens,
    )


def _tokens(usage: CompletionUsage | None) -> tuple[int, int]:
    if usage is None:
        return 0, 0
    return usage.prompt_tokens or 0, usage.completion_tokens or 0


def _without_choices(label: str) -> ProviderError:
    return ProviderError(
        f"{label} sent a reply without choices; is the base URL an OpenAI-compatible /v1?",
        retryable=False,
        code="provider_bad_response",
    )


def _status_of_stream_error(error: openai.APIError) -> int:
    """The HTTP status an error event inside a stream stands for; it has none of its own.

    Compatible servers (vLLM, LiteLLM) put the status in `code`; OpenAI names the kind of error.
    """
    code = error.code or ""
    if code.isdigit() and 400 <= int(code) < 600:
        return int(code)
    if code in ("rate_limit_exceeded", "insufficient_quota"):
        return 429
    if code == "invalid_api_key":
        return 401
    if error.type == "invalid_request_error":
        return 400
    return 500  # the server failed after it had accepted the request
