"""A run's part of a conversation, rebuilt from its record: the database is the transcript.

One rule for the worker (what the model is sent) and the API (a thread's state and history):
a run adds its input's messages, then each ended step in order (a model step's answer and tool
calls, a tool step's result). A tool call that never got its result (the run was cancelled or
failed before the tool ran) is answered with an error, so every call has its answer, as every
provider requires.
"""

import json
from dataclasses import dataclass, field
from typing import Any, Literal

from core.models import RunStep, StepKind, StepStatus

Role = Literal["user", "system", "assistant", "tool"]
UNANSWERED = "the tool did not run: the run ended first"


@dataclass
class Entry:
    role: Role
    content: str = ""
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    tool_call_id: str | None = None
    name: str | None = None
    is_error: bool = False
    run_id: str = ""
    step_seq: int | None = None


def input_entries(run_id: str, run_input: Any) -> list[Entry]:
    """A run's input: a string is one user message; a list holds `{role, content}` messages."""
    if isinstance(run_input, list):
        return [
            Entry(role=message["role"], content=str(message["content"]), run_id=run_id)
            for message in run_input
            if isinstance(message, dict) and message.get("role") in ("user", "system")
        ]
    return [Entry(role="user", content=str(run_input or ""), run_id=run_id)]


def step_entries(run_id: str, steps: list[RunStep], *, ended: bool) -> list[Entry]:
    """The ended steps' messages; `ended`: the run is over, so unanswered calls are closed."""
    entries: list[Entry] = []
    unanswered: dict[str, str] = {}
    for step in steps:
        if step.status == StepStatus.running:
            continue
        output = step.output or {}
        if step.kind == StepKind.model:
            if step.status != StepStatus.succeeded:
                continue  # a failed or cancelled model call said nothing
            calls = [dict(call) for call in output.get("tool_calls", [])]
            entries.append(
                Entry(
                    "assistant", output.get("text") or "", calls, run_id=run_id, step_seq=step.seq
                )
            )
            unanswered.update((call["id"], call["name"]) for call in calls)
        elif step.kind == StepKind.tool:
            call_id = (step.input or {}).get("call_id")
            if call_id is None:
                continue  # cut short before it ran (e.g. waiting for approval): no result
            failed = step.status != StepStatus.succeeded
            content = (step.error or {}).get("message", "") if failed else output.get("content")
            unanswered.pop(str(call_id), None)
            entries.append(
                Entry(
                    "tool",
                    content if isinstance(content, str) else json.dumps(content),
                    tool_call_id=call_id,
                    name=step.name,
                    is_error=failed,
                    run_id=run_id,
                    step_seq=step.seq,
                )
            )
    if ended:
        entries += [
            Entry("tool", UNANSWERED, tool_call_id=call_id, name=name, is_error=True, run_id=run_id)
            for call_id, name in unanswered.items()
        ]
    return entries


def instructions(system_prompt: str, context: dict[str, Any], entries: list[Entry]) -> str:
    """What the model is told before the conversation: the version's system prompt, the run's
    context, then the conversation's `system` messages in order."""
    base = system_prompt
    if context:
        base = f"{system_prompt}\n\nContext: {json.dumps(context, sort_keys=True)}".strip()
    additions = [entry.content for entry in entries if entry.role == "system"]
    return "\n\n".join([base, *additions]).strip() if additions else base


CHARACTERS_PER_TOKEN = 4


def estimated_tokens(text: str) -> int:
    return -(-len(text) // CHARACTERS_PER_TOKEN)


def _entry_tokens(entry: Entry) -> int:
    calls = json.dumps(entry.tool_calls) if entry.tool_calls else ""
    return estimated_tokens(entry.content) + estimated_tokens(calls)


def oldest_to_drop(instructions_text: str, entries: list[Entry], max_tokens: int) -> int:
    """How many of the conversation's oldest messages (`system` ones aside: they are
    instructions) to leave out so the rest fits `max_tokens`. Whole turns go, each a user
    message and what answered it, so no tool call loses its result; the newest turn stays
    even if it alone is too large."""
    conversation = [entry for entry in entries if entry.role != "system"]
    starts = [index for index, entry in enumerate(conversation) if entry.role == "user"]
    budget = max_tokens - estimated_tokens(instructions_text)
    total = sum(_entry_tokens(entry) for entry in conversation)
    dropped = 0
    for turn_start in starts[1:]:  # dropping up to the next turn's start
        if total <= budget:
            break
        total -= sum(_entry_tokens(entry) for entry in conversation[dropped:turn_start])
        dropped = turn_start
    return dropped


def without_oldest(entries: list[Entry], count: int) -> list[Entry]:
    """`entries` without the first `count` messages that are not `system` ones."""
    kept: list[Entry] = []
    for entry in entries:
        if entry.role != "system" and count > 0:
            count -= 1
            continue
        kept.append(entry)
    return kept
