"""Threads: conversations that continue across runs, and what the API says about them."""

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

import sqlmodel
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlmodel import Column

from core.ids import new_id
from core.models.common import (
    CREATED_BY_HELP,
    CREATED_BY_NAME_HELP,
    CreatedByName,
    JSONType,
    TenantOwned,
    UTCDateTime,
    created_at_field,
)
from core.models.limits import MAX_CONTEXT_BYTES, json_size_at_most
from core.models.run import RunStatus, Usage, VersionReference, WebhookUrl

# A thread id a client chooses (LangGraph clients send UUIDs): letters, digits and `_-.:`.
THREAD_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$"
THREAD_ID_CHARS = 64
MAX_MESSAGES = 1000
MAX_MESSAGE_CHARS = 1_000_000
MAX_TTL_SECONDS = 10 * 365 * 24 * 3600


class ThreadStatus(StrEnum):
    """How a thread stands, from its runs: `busy` while one is queued, running or being
    cancelled; `interrupted` while one waits for an approval; `error` when the latest failed or
    timed out; `idle` otherwise (no run yet, or the latest succeeded or was cancelled)."""

    idle = "idle"
    busy = "busy"
    interrupted = "interrupted"
    error = "error"


ERROR_RUN_STATUSES = (RunStatus.failed, RunStatus.timed_out)


class MultitaskStrategy(StrEnum):
    """What a new run does when the thread already has an active run."""

    reject = "reject"
    enqueue = "enqueue"
    interrupt = "interrupt"
    rollback = "rollback"


class Thread(TenantOwned, table=True):
    id: str = sqlmodel.Field(
        default_factory=lambda: new_id("thr"), primary_key=True, max_length=THREAD_ID_CHARS
    )
    # The agent of its latest run (a thread may change agent or version between turns).
    agent_id: str | None = sqlmodel.Field(default=None, max_length=40, index=True)
    # `metadata` is taken by SQLAlchemy's declarative base; the column keeps the name.
    meta: dict[str, Any] = sqlmodel.Field(
        default_factory=dict, sa_column=Column("metadata", JSONType, nullable=False)
    )
    ttl_seconds: int | None = None
    created_by: str = sqlmodel.Field(max_length=200)
    created_by_name: str | None = sqlmodel.Field(default=None, max_length=200)
    created_at: datetime = created_at_field()
    # The last time a run was added; an idle thread's time to live counts from its last run.
    updated_at: datetime = created_at_field()
    last_run_at: datetime | None = sqlmodel.Field(default=None, sa_type=UTCDateTime)


Metadata = Annotated[dict[str, Any], json_size_at_most(MAX_CONTEXT_BYTES)]
TtlSeconds = Annotated[int, Field(ge=1, le=MAX_TTL_SECONDS)]


class ThreadCreate(BaseModel):
    """A conversation to start; runs continue it."""

    model_config = ConfigDict(extra="forbid")

    thread_id: str | None = Field(
        default=None,
        max_length=THREAD_ID_CHARS,
        pattern=THREAD_ID_PATTERN,
        description="An id of the client's choosing (e.g. a UUID); generated (`thr_...`) if unset.",
    )
    metadata: Metadata = Field(
        default_factory=dict, description="Free-form labels to find the thread by."
    )
    ttl_seconds: TtlSeconds | None = Field(
        default=None, description="Delete the thread once idle this long after its last run."
    )
    if_exists: Literal["reject", "return"] = Field(
        default="reject",
        description="When `thread_id` is taken: `reject` (409) or `return` the thread.",
    )


class ThreadUpdate(BaseModel):
    """What may change on a thread."""

    model_config = ConfigDict(extra="forbid")

    metadata: Metadata | None = Field(
        default=None, description="Keys to set; these replace the values of the same keys."
    )
    ttl_seconds: TtlSeconds | None = Field(
        default=None, description="A new time to live, counted from the last run."
    )


class InputMessage(BaseModel):
    """One message of a run's input."""

    model_config = ConfigDict(extra="forbid")

    role: Literal["user", "system"] = Field(
        description="`user` (what the person says) or `system` (added to the instructions)."
    )
    content: str = Field(min_length=1, max_length=MAX_MESSAGE_CHARS, description="Its text.")


class ThreadRunCreate(BaseModel):
    """A run that continues the thread: its agent, version and what it answers."""

    model_config = ConfigDict(extra="forbid")

    agent: str = Field(min_length=1, max_length=200, description="The agent's id or name.")
    version: VersionReference = Field(
        default="latest",
        description="A version number, `latest`, or an alias: resolved anew for each turn "
        "(a weighted alias keeps one version per thread).",
    )
    input: str | list[InputMessage] = Field(
        description="The user's message, or a list of messages (`user` or `system`)."
    )
    context: Annotated[dict[str, Any], json_size_at_most(MAX_CONTEXT_BYTES)] = Field(
        default_factory=dict, description="Free-form facts given to the model with the prompt."
    )
    metadata: Metadata = Field(
        default_factory=dict, description="Free-form labels kept on the run."
    )
    webhook: WebhookUrl | None = Field(
        default=None, description="A URL told (POST) when the run ends, as LangGraph's `webhook`."
    )
    multitask_strategy: MultitaskStrategy = Field(
        default=MultitaskStrategy.reject,
        description="If the thread has an active run: `reject` (409), `enqueue` (start after "
        "it), `interrupt` (cancel it, keep its steps), `rollback` (cancel it, drop its steps).",
    )

    @field_validator("input")
    @classmethod
    def _bounded_messages(cls, value: object) -> object:
        if isinstance(value, str) and len(value) > MAX_MESSAGE_CHARS:
            raise ValueError(f"at most {MAX_MESSAGE_CHARS} characters")
        if isinstance(value, list):
            if not value:
                raise ValueError("at least one message")
            if len(value) > MAX_MESSAGES:
                raise ValueError(f"at most {MAX_MESSAGES} messages")
            if not any(message.role == "user" for message in value):
                raise ValueError("at least one `user` message")
        return value


class ThreadPublic(BaseModel):
    """A conversation: its runs, in order, share one transcript."""

    id: str = Field(description="The thread's id.")
    agent_id: str | None = Field(description="The agent of its latest run; null before one.")
    status: ThreadStatus = Field(description="How the thread stands, from its runs.")
    metadata: dict[str, Any] = Field(description="Free-form labels.")
    ttl_seconds: int | None = Field(description="Deleted once idle this long; null: kept.")
    runs: int = Field(description="How many runs it has had.")
    active_run_id: str | None = Field(
        description="The run under way or waiting for approval, if any."
    )
    created_by: str = Field(description=CREATED_BY_HELP)
    created_by_name: CreatedByName = Field(description=CREATED_BY_NAME_HELP)
    created_at: datetime = Field(description="When it was created (UTC).")
    last_run_at: datetime | None = Field(description="When its latest run was created (UTC).")


class ThreadMessage(BaseModel):
    """One message of the conversation, with where it came from."""

    role: Literal["user", "system", "assistant", "tool"] = Field(description="Who says it.")
    content: str = Field(description="Its text (a tool's result as JSON text).")
    tool_calls: list[dict[str, Any]] = Field(
        description="An assistant message's tool calls: `id`, `name`, `arguments`."
    )
    tool_call_id: str | None = Field(description="A tool message: the call it answers.")
    name: str | None = Field(description="A tool message: the tool's name.")
    is_error: bool = Field(description="A tool message: the tool failed; `content` says why.")
    run_id: str = Field(description="The run that added it.")
    step_seq: int | None = Field(description="Its step in that run; null for the run's input.")


class ThreadState(BaseModel):
    """The conversation as the next run's model will see it (before any context window)."""

    thread_id: str = Field(description="The thread's id.")
    status: ThreadStatus = Field(description="How the thread stands.")
    messages: list[ThreadMessage] = Field(description="Every message, oldest first.")


class ThreadTurn(BaseModel):
    """One run of the thread and what it added to the conversation."""

    run_id: str = Field(description="The run's id.")
    agent_id: str = Field(description="The agent it ran.")
    version: int = Field(description="The version it was pinned to.")
    alias: str | None = Field(
        default=None, description="The alias the turn was started through, if any."
    )
    status: RunStatus = Field(description="Where the run stands.")
    rolled_back: bool = Field(
        description="Cancelled by a `rollback`: its messages are not in the conversation."
    )
    usage: Usage = Field(description="Its tokens.")
    cost_usd: float = Field(description="What it cost, in USD.")
    created_at: datetime = Field(description="When it was created (UTC).")
    ended_at: datetime | None = Field(description="When it ended (UTC).")
    messages: list[ThreadMessage] = Field(description="The messages it added.")
