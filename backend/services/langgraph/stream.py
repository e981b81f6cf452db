"""A run's events as LangGraph's stream modes: a fold, with no I/O, fed in event order.

`values` sends the thread's messages after every step, `updates` what each step added (node
`model` or `tools`), `messages-tuple` the model's text as `[chunk, metadata]` while it streams
(then the rest of the message, with its tool calls and usage, when the step ends; tool
results whole), `custom` our own events as they are. A waiting approval is an interrupt
(`__interrupt__`), after which the stream ends, as LangGraph's does.

A retried model call streams again from its start; only text beyond what the failed attempt
already streamed is sent, so a client concatenating chunks never gets the text twice.
"""

import json
from dataclasses import dataclass, field
from typing import Any

from backend.services.langgraph.messages import (
    MODEL_NODE,
    TOOLS_NODE,
    step_message_id,
    step_messages,
    tool_calls,
    usage,
)
from backend.services.langgraph.state import interrupt, values
from core.events import RunEvent
from core.models import Approval, RunStep

Part = tuple[str, Any]
ERROR_STATUSES = ("failed", "timed_out")
# The SSE event each stream mode sends (the others send their own name).
MODE_EVENTS = {"messages-tuple": "messages"}
# A run's ending as the `end` event's status (a cancelled run ends `interrupted`).
RUN_END_STATUSES = {"succeeded": "success", "timed_out": "timeout", "failed": "error"}
# Sent whatever the modes: what starts, fails and ends a stream.
STREAM_EVENTS = frozenset({"metadata", "error", "end"})


@dataclass(frozen=True)
class StreamSubject:
    """The run a stream follows and what the client asked to be sent."""

    run_id: str
    thread_id: str
    assistant_id: str
    modes: frozenset[str]

    @property
    def events(self) -> frozenset[str]:
        """The SSE events the modes send."""
        return frozenset(MODE_EVENTS.get(mode, mode) for mode in self.modes) | STREAM_EVENTS


@dataclass
class Translator:
    subject: StreamSubject
    earlier: list[dict[str, Any]]  # the thread's messages before this run
    inputs: list[dict[str, Any]]  # this run's input messages
    steps: dict[int, RunStep] = field(default_factory=dict)  # ended steps, by seq
    ended: bool = False
    waiting: bool = False  # an approval waits: the stream ends
    _streamed: dict[int, str] = field(default_factory=dict)  # text sent, per seq
    _attempts: dict[int, tuple[int, str]] = field(default_factory=dict)  # (attempt, its text)
    _models: dict[int, str] = field(default_factory=dict)
    _interrupts: list[dict[str, Any]] = field(default_factory=list)

    def run_messages(self) -> list[dict[str, Any]]:
        ended_steps = [self.steps[seq] for seq in sorted(self.steps)]
        run_id = self.subject.run_id
        return [*self.inputs, *step_messages(run_id, ended_steps, ended=self.ended)]

    def values(self) -> dict[str, Any]:
        return values([*self.earlier, *self.run_messages()], self._interrupts)

    def prelude(self) -> list[Part]:
        parts: list[Part] = [("metadata", {"run_id": self.subject.run_id, "attempt": 1})]
        if "values" in self.subject.modes:
            parts.append(("values", self.values()))
        return parts

    def apply(
        self, event: RunEvent, step: RunStep | None = None, waiting: Approval | None = None
    ) -> list[Part]:
        """The parts one event makes. `step`: the ended step's record, for `step.completed`;
        `waiting`: the approval, for `approval.requested`, if it still waits."""
        parts: list[Part] = []
        data = event.data
        if event.type == "step.started":
            if data.get("kind") == "model":
                self._models[int(data["seq"])] = str(data.get("name", ""))
        elif event.type == "model.delta":
            parts += self._delta(int(data["seq"]), int(data.get("attempt", 1)), str(data["text"]))
        elif event.type == "step.completed" and step is not None:
            parts += self._step_ended(step, data)
        elif event.type == "approval.requested" and waiting is not None:
            parts += self._interrupted(waiting)
        elif event.type == "run.completed":
            parts += self._run_ended(data)
        parts.append(("custom", event.as_json()))
        failed = any(name == "error" for name, _ in parts)
        if (self.ended and not failed) or self.waiting:
            status = (
                "interrupted"
                if self.waiting
                else RUN_END_STATUSES.get(str(data.get("status")), "interrupted")
            )
            parts.append(("end", {"run_id": self.subject.run_id, "status": status}))
        wanted = self.subject.events
        return [part for part in parts if part[0] in wanted]

    def _metadata(self, seq: int) -> dict[str, Any]:
        return {
            "run_id": self.subject.run_id,
            "thread_id": self.subject.thread_id,
            "assistant_id": self.subject.assistant_id,
            "langgraph_node": MODEL_NODE,
            "langgraph_step": seq,
            "langgraph_checkpoint_ns": "",
            "ls_model_name": self._models.get(seq, ""),
        }

    def _chunk(self, seq: int, text: str, **more: Any) -> Part:
        chunk = {
            "type": "AIMessageChunk",
            "content": text,
            "id": step_message_id(self.subject.run_id, seq),
            "name": None,
            "tool_calls": [],
            "tool_call_chunks": [],
            "invalid_tool_calls": [],
            "usage_metadata": None,
            "additional_kwargs": {},
            "response_metadata": {},
            **more,
        }
        return ("messages", [chunk, self._metadata(seq)])

    def _delta(self, seq: int, attempt: int, text: str) -> list[Part]:
        current_attempt, so_far = self._attempts.get(seq, (attempt, ""))
        so_far = (so_far if current_attempt == attempt else "") + text
        self._attempts[seq] = (attempt, so_far)
        streamed = self._streamed.get(seq, "")
        if len(so_far) <= len(streamed) or not so_far.startswith(streamed):
            return []  # a retry repeating (or departing from) what was already sent
        self._streamed[seq] = so_far
        return [self._chunk(seq, so_far[len(streamed) :])]

    def _step_ended(self, step: RunStep, data: dict[str, Any]) -> list[Part]:
        if (step.attempt, str(step.status)) != (data.get("attempt"), data.get("status")):
            return []  # an attempt a later one replaced: the record is of that one
        before = {message["id"] for message in self.run_messages()}
        self.steps[step.seq] = step
        return self._added(before, step)

    def _added(self, before: set[str], step: RunStep | None) -> list[Part]:
        added = [m for m in self.run_messages() if m["id"] not in before]
        parts: list[Part] = []
        for message in added:
            node = MODEL_NODE if message["type"] == "ai" else TOOLS_NODE
            parts.append(("updates", {node: {"messages": [message]}}))
            parts.append(self._message_part(message, step))
        if added:
            parts.append(("values", self.values()))
        return parts

    def _message_part(self, message: dict[str, Any], step: RunStep | None) -> Part:
        if message["type"] != "ai" or step is None:
            seq = step.seq if step is not None else 0
            return ("messages", [message, {**self._metadata(seq), "langgraph_node": TOOLS_NODE}])
        text = str(message["content"])
        streamed = self._streamed.get(step.seq, "")
        rest = text[len(streamed) :] if text.startswith(streamed) else ""
        self._streamed[step.seq] = text if text.startswith(streamed) else streamed
        calls = tool_calls(((step.output or {}).get("tool_calls")) or [])
        return self._chunk(
            step.seq,
            rest,
            tool_calls=calls,
            tool_call_chunks=[
                {
                    "name": call["name"],
                    "args": json.dumps(call["args"], separators=(",", ":")),
                    "id": call["id"],
                    "index": index,
                    "type": "tool_call_chunk",
                }
                for index, call in enumerate(calls)
            ],
            usage_metadata=usage(step),
            response_metadata={
                "model_name": step.name,
                "finish_reason": "tool_calls" if calls else "stop",
            },
        )

    def _interrupted(self, approval: Approval) -> list[Part]:
        self.waiting = True
        messages = [*self.earlier, *self.run_messages()]
        self._interrupts = [interrupt(approval, messages)]
        return [
            ("updates", {"__interrupt__": self._interrupts}),
            ("values", self.values()),
        ]

    def _run_ended(self, data: dict[str, Any]) -> list[Part]:
        before = {message["id"] for message in self.run_messages()}
        self.ended = True
        parts = self._added(before, None)
        if data.get("status") in ERROR_STATUSES:
            error = data.get("error") or {}
            parts.append(
                (
                    "error",
                    {
                        "error": str(error.get("code", data.get("status"))),
                        "message": str(error.get("message", "the run failed")),
                    },
                )
            )
        return parts
