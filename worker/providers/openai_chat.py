"""OpenAI Chat Completions with function calling, for OpenAI and servers that speak its protocol.

Ollama, vLLM, LM Studio and most gateways expose the same `/v1/chat/completions` endpoint, so
one provider serves both `openai` and `openai_compatible`; only the base URL and key differ.
"""

import json
from collections.abc import Iterable
from typing import Any
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
from worker.providers.common import (
    INVALID_JSON_KEY,
    RUNTIME_PARAMETERS,
    HTTPProvider,
    request_parameters,
)
from worker.types import Message, ModelReply, ProviderError, ToolCall, ToolSpec

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
    ) -> ModelReply:
        label = "OpenAI" if spec.provider == "openai" else "the OpenAI-compatible server"
        extra_body = request_parameters(spec.parameters, RUNTIME_PARAMETERS, RESERVED_PARAMETERS)
        request_tools = [_tool(tool) for tool in tools]
        try:
            completion = await self._client.chat.completions.create(
                model=spec.name,
                messages=_messages(system_prompt, messages),
                tools=request_tools if request_tools else openai.omit,
                extra_body=extra_body or None,
            )
        except openai.APITimeoutError:
            raise self._timeout_error(label, spec.name) from None
        except openai.APIConnectionError as exc:
            advice = "check the base URL and that the server is running"
            raise self._connection_error(label, exc, advice) from None
        except openai.APIStatusError as exc:
            if exc.status_code == 429 and exc.code == "insufficient_quota":
                raise self._answered(
                    label,
                    exc.status_code,
                    exc.body,
                    "the account's quota is used up; retrying will not help until it is raised",
                    retryable=False,
                    code="rate_limited",
                ) from None
            raise self._status_error(label, spec.name, exc.status_code, exc.body) from None
        except openai.OpenAIError as exc:
            raise self._call_failed(label, exc) from None
        return _reply(completion, label)


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
