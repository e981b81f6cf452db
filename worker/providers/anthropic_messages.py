"""Anthropic's Messages API with tool use."""

import json
from collections.abc import Iterable, Mapping
from typing import Any, Literal

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
from worker.providers import common
from worker.providers.common import (
    INVALID_JSON_KEY,
    HTTPProvider,
    request_parameters,
)
from worker.types import Message, ModelReply, ProviderError, ToolCall, ToolSpec

DEFAULT_MAX_TOKENS = 4096
"""The Messages API requires `max_tokens`; this applies when the agent's parameters omit it."""

RUNTIME_PARAMETERS = common.RUNTIME_PARAMETERS | {"max_tokens"}
"""Keys of `ModelSpec.parameters` not passed through (max_tokens has its own argument)."""

RESERVED_PARAMETERS = frozenset({"model", "messages", "system", "tools", "stream"})
"""Request fields this provider sets itself; a parameter with that name would override them."""

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
    ) -> ModelReply:
        extra_body = request_parameters(spec.parameters, RUNTIME_PARAMETERS, RESERVED_PARAMETERS)
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
            raise self._timeout_error(_LABEL, spec.name) from None
        except anthropic.APIConnectionError as exc:
            advice = "check the base URL and the network"
            raise self._connection_error(_LABEL, exc, advice) from None
        except anthropic.APIStatusError as exc:
            raise self._status_error(_LABEL, spec.name, exc.status_code, exc.body) from None
        except anthropic.AnthropicError as exc:
            raise self._call_failed(_LABEL, exc) from None
        return _reply(reply)


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
