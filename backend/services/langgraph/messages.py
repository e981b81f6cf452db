"""Messages in LangChain's shape, as LangGraph clients send and read them.

A run's messages come from `core.transcript` (the rule the worker sends the model), so what a
LangGraph client reads is what the model saw. Ids are stable: a run's input messages are
`<run id>-input-<n>`, a step's message `<run id>-<seq>`, so the chunks streamed while a model
step runs and the message in `values` afterwards share one id.
"""

from typing import Any

from backend.errors import invalid
from core.models import RunStep
from core.transcript import Entry, input_entries, step_entries

MODEL_NODE = "model"  # the graph node a model step reports as (LangChain's agent calls it so)
TOOLS_NODE = "tools"
TYPES = {"user": "human", "system": "system", "assistant": "ai", "tool": "tool"}
ROLES = {"human": "user", "user": "user", "system": "system"}


def step_message_id(run_id: str, seq: int) -> str:
    return f"{run_id}-{seq}"


def _base(kind: str, content: str, message_id: str) -> dict[str, Any]:
    return {
        "type": kind,
        "content": content,
        "id": message_id,
        "name": None,
        "additional_kwargs": {},
        "response_metadata": {},
    }


def tool_calls(calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "name": call["name"],
            "args": call.get("arguments", {}),
            "id": call["id"],
            "type": "tool_call",
        }
        for call in calls
    ]


def usage(step: RunStep | None) -> dict[str, int] | None:
    if step is None:
        return None
    return {
        "input_tokens": step.input_tokens,
        "output_tokens": step.output_tokens,
        "total_tokens": step.input_tokens + step.output_tokens,
    }


def _message(entry: Entry, message_id: str, step: RunStep | None) -> dict[str, Any]:
    message = _base(TYPES[entry.role], entry.content, message_id)
    if entry.role == "assistant":
        message.update(
            tool_calls=tool_calls(entry.tool_calls),
            invalid_tool_calls=[],
            usage_metadata=usage(step),
            example=False,
        )
        if step is not None:
            message["response_metadata"] = {"model_name": step.name}
    elif entry.role == "tool":
        message.update(
            tool_call_id=entry.tool_call_id,
            name=entry.name,
            status="error" if entry.is_error else "success",
            artifact=None,
        )
    else:
        message["example"] = False
    return message


def input_messages(run_id: str, run_input: Any) -> list[dict[str, Any]]:
    return [
        _message(entry, f"{run_id}-input-{index}", None)
        for index, entry in enumerate(input_entries(run_id, run_input))
    ]


def step_messages(run_id: str, steps: list[RunStep], *, ended: bool) -> list[dict[str, Any]]:
    """The messages of a run's ended steps; once the run is over, a tool call that never ran
    is answered with an error (as the model is told in the next turn)."""
    by_seq = {step.seq: step for step in steps}
    messages = []
    for entry in step_entries(run_id, steps, ended=ended):
        if entry.step_seq is None:
            message_id = f"{run_id}-unanswered-{entry.tool_call_id}"
        else:
            message_id = step_message_id(run_id, entry.step_seq)
        messages.append(_message(entry, message_id, by_seq.get(entry.step_seq or 0)))
    return messages


def _text(content: Any, field: str) -> str:
    """A message's content: text, or LangChain's content blocks (text ones only)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for block in content:
            if isinstance(block, str):
                parts.append(block)
            elif isinstance(block, dict) and block.get("type") == "text":
                parts.append(str(block.get("text", "")))
            else:
                raise invalid(field, "body", "only text content blocks are supported")
        return "".join(parts)
    raise invalid(field, "body", "a string or a list of text content blocks")


def run_input(raw: Any) -> list[dict[str, str]]:
    """`input` as LangGraph clients send it (`{"messages": [...]}`, each a LangChain message
    dict, a `[role, content]` pair or a string) as our run input: user and system messages."""
    if not isinstance(raw, dict):
        raise invalid("input", "body", 'an object such as {"messages": [...]}')
    unknown = sorted(set(raw) - {"messages"})
    if unknown:
        raise invalid(f"input.{unknown[0]}", "body", "agents take only `messages` as input")
    listed = raw.get("messages")
    if not isinstance(listed, list) or not listed:
        raise invalid("input.messages", "body", "a non-empty list of messages")
    messages = []
    for index, message in enumerate(listed):
        field = f"input.messages.{index}"
        content: Any
        if isinstance(message, str):
            kind, content = "human", message
        elif isinstance(message, list) and len(message) == 2:
            kind, content = str(message[0]), message[1]
        elif isinstance(message, dict):
            kind = str(message.get("type") or message.get("role") or "")
            content = message.get("content")
        else:
            raise invalid(field, "body", "a message object, a [role, content] pair or a string")
        role = ROLES.get(kind)
        if role is None:
            raise invalid(
                field, "body", f"a run takes human (user) and system messages, not {kind!r}"
            )
        text = _text(content, f"{field}.content")
        if not text:
            raise invalid(f"{field}.content", "body", "a message needs some text")
        messages.append({"role": role, "content": text})
    if not any(message["role"] == "user" for message in messages):
        raise invalid("input.messages", "body", "at least one human (user) message")
    return messages
