"""A deterministic provider for demos and tests: it plays `parameters.script`, turn by turn."""

import asyncio
import json
import re

from core.models.agent_config import ModelSpec
from core.models.model_spec import ScriptedParameters
from core.models.parameters import ScriptTurn, ScriptUsage
from worker.providers.base import parameters_of
from worker.types import DeltaCallback, Message, ModelReply, ProviderError, ToolCall, ToolSpec


def count_tokens(text: str) -> int:
    """A simple, stable count (words), so budgets can be exercised without a tokenizer."""
    return len(text.split())


def text_chunks(text: str) -> list[str]:
    """Word by word, each with the whitespace after it, so the chunks join to `text` exactly."""
    return re.findall(r"\S+\s*|\s+", text)


def _transcript_text(system_prompt: str, messages: list[Message]) -> str:
    parts = [system_prompt]
    for message in messages:
        parts.append(message.content)
        parts.extend(json.dumps(call.arguments) for call in message.tool_calls)
    return " ".join(parts)


def from_conversation(text: str, messages: list[Message]) -> str:
    """`text` with `{last_user}` (the latest user message), `{user_messages}` (every user
    message, oldest first, joined by ` | `) and `{user_count}` filled in; other braces stay."""
    said = [message.content for message in messages if message.role == "user"]
    values = {
        "{last_user}": said[-1] if said else "",
        "{user_messages}": " | ".join(said),
        "{user_count}": str(len(said)),
    }
    return re.sub(
        "|".join(re.escape(field) for field in values), lambda m: values[m.group(0)], text
    )


class ScriptedProvider:
    """Turn N of the script answers the N-th model call of the conversation (a thread's earlier
    runs count); without a script, it echoes the latest user message.

    A turn (`core.models.parameters.ScriptTurn`) holds `text` (a final answer) and/or
    `tool_calls` (whose string arguments take the text's placeholders); `delay_seconds` makes
    it take time, `error` makes it fail, `usage` sets its token counts (else words are
    counted). Streamed, the text arrives word by word, `chunk_delay_seconds` apart, so tests
    can watch it arrive.
    """

    async def complete(
        self,
        spec: ModelSpec,
        system_prompt: str,
        messages: list[Message],
        tools: list[ToolSpec],
        on_delta: DeltaCallback | None = None,
    ) -> ModelReply:
        parameters = parameters_of(spec, ScriptedParameters)
        script = parameters.script
        turn_index = sum(1 for message in messages if message.role == "assistant")
        if script is None:
            turn = ScriptTurn(text="{last_user}")
        elif turn_index < len(script) or (parameters.repeat and script):
            turn = script[turn_index % len(script)]
        else:
            raise ProviderError(
                f"the script has {len(script)} turns and the run asked for turn {turn_index + 1}",
                retryable=False,
                code="script_exhausted",
            )
        if turn.delay_seconds > 0:
            await asyncio.sleep(turn.delay_seconds)
        if turn.error is not None:
            raise ProviderError(
                turn.error.message, retryable=turn.error.retryable, code=turn.error.code
            )
        calls = [
            ToolCall(
                f"call_{turn_index + 1}_{index}",
                call.name,
                {  # string arguments take the same placeholders as the text
                    key: from_conversation(value, messages) if isinstance(value, str) else value
                    for key, value in call.arguments.items()
                },
            )
            for index, call in enumerate(turn.tool_calls)
        ]
        text = from_conversation(turn.text, messages) if turn.text is not None else None
        if text is None and not calls:
            text = ""
        if on_delta is not None and text:
            await _stream(text, turn.chunk_delay_seconds, on_delta)
        output = (text or "") + " ".join(json.dumps(c.arguments) for c in calls)
        usage = turn.usage or ScriptUsage()
        return ModelReply(
            text=text,
            tool_calls=calls,
            input_tokens=_reported_or(
                usage.input_tokens, count_tokens(_transcript_text(system_prompt, messages))
            ),
            output_tokens=_reported_or(usage.output_tokens, max(1, count_tokens(output))),
        )


def _reported_or(reported: int | None, counted: int) -> int:
    return counted if reported is None else reported


async def _stream(text: str, chunk_delay: float, on_delta: DeltaCallback) -> None:
    for index, chunk in enumerate(text_chunks(text)):
        if index and chunk_delay > 0:
            await asyncio.sleep(chunk_delay)
        await on_delta(chunk)
