"""A deterministic provider for demos and tests: it plays `parameters.script`, turn by turn."""

import asyncio
import json
import re
from typing import Any

from core.models.agent_config import ModelSpec
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


class ScriptedProvider:
    """Turn N of the script answers the N-th model call of the run; without a script, it echoes.

    A turn is `{"text": ...}` (a final answer) or `{"tool_calls": [{"name", "arguments"}]}`;
    `delay_seconds` makes the turn take time, `error` makes it fail
    (`{"error": {"message": ..., "retryable": false}}`). Streamed, the text arrives word by
    word, `chunk_delay_seconds` apart, so tests can watch it arrive.
    """

    async def complete(
        self,
        spec: ModelSpec,
        system_prompt: str,
        messages: list[Message],
        tools: list[ToolSpec],
        on_delta: DeltaCallback | None = None,
    ) -> ModelReply:
        turn_index = sum(1 for message in messages if message.role == "assistant")
        script: list[Any] | None = spec.parameters.get("script")
        if script is None:
            first_user = next((m.content for m in messages if m.role == "user"), "")
            turn: dict[str, Any] = {"text": first_user}
        elif turn_index < len(script):
            turn = script[turn_index] if isinstance(script[turn_index], dict) else {}
        else:
            raise ProviderError(
                f"the script has {len(script)} turns and the run asked for turn {turn_index + 1}",
                retryable=False,
                code="script_exhausted",
            )
        delay = float(turn.get("delay_seconds", 0))
        if delay > 0:
            await asyncio.sleep(delay)
        if "error" in turn:
            error = turn["error"] if isinstance(turn["error"], dict) else {}
            raise ProviderError(
                str(error.get("message", "scripted failure")),
                retryable=bool(error.get("retryable", False)),
                code=str(error.get("code", "scripted_error")),
            )
        calls = [
            ToolCall(
                id=f"call_{turn_index + 1}_{index}",
                name=str(call.get("name", "")),
                arguments=dict(call.get("arguments") or {}),
            )
            for index, call in enumerate(turn.get("tool_calls") or [])
        ]
        text = None if turn.get("text") is None else str(turn["text"])
        if text is None and not calls:
            text = ""
        if on_delta is not None and text:
            await _stream(text, float(turn.get("chunk_delay_seconds", 0)), on_delta)
        output = (text or "") + " ".join(json.dumps(c.arguments) for c in calls)
        return ModelReply(
            text=text,
            tool_calls=calls,
            input_tokens=count_tokens(_transcript_text(system_prompt, messages)),
            output_tokens=max(1, count_tokens(output)),
        )


async def _stream(text: str, chunk_delay: float, on_delta: DeltaCallback) -> None:
    for index, chunk in enumerate(text_chunks(text)):
        if index and chunk_delay > 0:
            await asyncio.sleep(chunk_delay)
        await on_delta(chunk)
