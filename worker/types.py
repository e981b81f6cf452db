"""The neutral shapes that flow between activities, model providers and tools."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal


@dataclass
class ToolCall:
    id: str
    name: str
    arguments: dict[str, Any]


@dataclass
class Message:
    """One transcript entry, provider-neutral. Providers convert to their own wire format."""

    role: Literal["user", "assistant", "tool"]
    content: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)
    tool_call_id: str | None = None  # role == "tool": which call this answers
    name: str | None = None  # role == "tool": the tool's name
    is_error: bool = False  # role == "tool": the tool failed; content explains


@dataclass
class ToolSpec:
    name: str
    description: str
    parameters: dict[str, Any]  # JSON schema, type object


@dataclass
class ModelReply:
    text: str | None
    tool_calls: list[ToolCall]
    input_tokens: int
    output_tokens: int


DeltaCallback = Callable[[str], Awaitable[None]]
"""Receives a chunk of the answer's text as it arrives; the chunks join to `ModelReply.text`."""


class ProviderError(Exception):
    """A model call failed. `retryable` says whether trying again may help (429, 5xx, timeouts)."""

    def __init__(self, message: str, *, retryable: bool, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.retryable = retryable
        self.code = code


class ToolError(Exception):
    """A tool call failed in a way the model should see and may recover from."""
