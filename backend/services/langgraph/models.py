"""Request bodies of the LangGraph-compatible API, as LangGraph's SDK sends them.

Fields a newer SDK adds are ignored (as LangGraph's server does); a field we cannot honour is
a 422 naming it, never silently dropped.
"""

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from core.models.limits import DB_INT_MAX, MAX_CONTEXT_BYTES, json_size_at_most
from core.models.thread import THREAD_ID_CHARS, THREAD_ID_PATTERN, MultitaskStrategy

Metadata = Annotated[dict[str, Any], json_size_at_most(MAX_CONTEXT_BYTES)]
Limit = Annotated[int, Field(ge=1, le=1000)]
Offset = Annotated[int, Field(ge=0, le=DB_INT_MAX)]
SortOrder = Literal["asc", "desc"]
MAX_TTL_MINUTES = 10 * 365 * 24 * 60
StreamMode = Literal["values", "updates", "messages-tuple", "custom"]
LANGGRAPH = ConfigDict(extra="ignore")


class AssistantSearch(BaseModel):
    """A search of the tenant's assistants (agents that can run)."""

    model_config = LANGGRAPH

    metadata: Metadata | None = Field(default=None, description="Assistants with these labels.")
    graph_id: str | None = Field(default=None, max_length=200, description="The agent's name.")
    name: str | None = Field(default=None, max_length=200, description="Part of the name.")
    limit: Limit = Field(default=10, description="At most this many.")
    offset: Offset = Field(default=0, description="Skip this many.")
    sort_by: Literal["assistant_id", "graph_id", "name", "created_at", "updated_at"] | None = Field(
        default=None, description="The order (default: `created_at`)."
    )
    sort_order: SortOrder | None = Field(default=None, description="Default `desc`.")


class VersionSearch(BaseModel):
    """A page of an assistant's versions."""

    model_config = LANGGRAPH

    metadata: Metadata | None = Field(default=None, description="Versions with these labels.")
    limit: Limit = Field(default=10, description="At most this many.")
    offset: Offset = Field(default=0, description="Skip this many.")


class Ttl(BaseModel):
    """A thread's time to live, in LangGraph's terms (minutes)."""

    model_config = LANGGRAPH

    ttl: Annotated[float, Field(gt=0, le=MAX_TTL_MINUTES)] = Field(
        description="Minutes after its last run before the thread is deleted."
    )
    strategy: Literal["delete"] = Field(default="delete", description="Only `delete`.")


class NewThread(BaseModel):
    """A thread to create, as LangGraph's SDK sends it."""

    model_config = LANGGRAPH

    thread_id: str | None = Field(
        default=None, max_length=THREAD_ID_CHARS, pattern=THREAD_ID_PATTERN, description="Its id."
    )
    metadata: Metadata | None = Field(default=None, description="Free-form labels.")
    if_exists: Literal["raise", "do_nothing"] = Field(
        default="raise", description="When `thread_id` is taken: 409, or return that thread."
    )
    ttl: Ttl | None = Field(default=None, description="Delete it once idle this long.")
    supersteps: list[Any] | None = Field(default=None, description="Not supported.")


class ThreadPatch(BaseModel):
    """What may change on a thread: metadata keys and the time to live."""

    model_config = LANGGRAPH

    metadata: Metadata | None = Field(default=None, description="Keys to set.")
    ttl: Ttl | None = Field(default=None, description="A new time to live.")


class ThreadSearch(BaseModel):
    """A search of the tenant's threads."""

    model_config = LANGGRAPH

    metadata: Metadata | None = Field(default=None, description="Threads with these labels.")
    values: dict[str, Any] | None = Field(default=None, description="Not supported.")
    ids: (
        Annotated[list[Annotated[str, Field(max_length=THREAD_ID_CHARS)]], Field(max_length=1000)]
        | None
    ) = Field(default=None, description="Only these threads.")
    status: Literal["idle", "busy", "interrupted", "error"] | None = Field(
        default=None, description="Only threads in this status."
    )
    limit: Limit = Field(default=10, description="At most this many.")
    offset: Offset = Field(default=0, description="Skip this many.")
    sort_by: Literal["thread_id", "status", "created_at", "updated_at"] | None = Field(
        default=None, description="The order (default: `created_at`)."
    )
    sort_order: SortOrder | None = Field(default=None, description="Default `desc`.")


class ThreadCount(BaseModel):
    """Which threads to count."""

    model_config = LANGGRAPH

    metadata: Metadata | None = Field(default=None, description="Threads with these labels.")
    status: Literal["idle", "busy", "interrupted", "error"] | None = Field(
        default=None, description="Only threads in this status."
    )


class HistoryQuery(BaseModel):
    """Which states of a thread's history to list."""

    model_config = LANGGRAPH

    limit: Limit = Field(default=10, description="At most this many states, newest first.")
    before: dict[str, Any] | None = Field(
        default=None, description="Only states older than this checkpoint."
    )
    metadata: Metadata | None = Field(default=None, description="Not supported.")
    checkpoint: dict[str, Any] | None = Field(default=None, description="Not supported.")


class Command(BaseModel):
    """What a run does instead of taking input: `resume` an interrupt."""

    model_config = LANGGRAPH

    resume: Any = Field(
        default=None,
        description='The decision on the waiting tool call: `{"decision": "approve" | "reject", '
        '"comment", "arguments"}`, or such decisions by interrupt id.',
    )
    update: Any = Field(default=None, description="Not supported.")
    goto: Any = Field(default=None, description="Not supported.")


class RunRequest(BaseModel):
    """A run as LangGraph's SDK creates it (background, streamed or waited for)."""

    model_config = LANGGRAPH

    assistant_id: str = Field(min_length=1, max_length=200, description="Agent id or name.")
    input: Any = Field(default=None, description='`{"messages": [...]}`.')
    command: Command | None = Field(default=None, description="Resume an interrupt.")
    config: dict[str, Any] | None = Field(
        default=None, description="`configurable.version` pins a version (default: latest)."
    )
    context: Annotated[dict[str, Any], json_size_at_most(MAX_CONTEXT_BYTES)] | None = Field(
        default=None, description="Facts given to the model with the prompt."
    )
    metadata: Metadata | None = Field(default=None, description="Labels kept on the run.")
    stream_mode: StreamMode | list[StreamMode] | None = Field(
        default=None, description="What a stream sends (default `values`)."
    )
    multitask_strategy: MultitaskStrategy | None = Field(
        default=None, description="If the thread has an active run (default `reject`)."
    )
    if_not_exists: Literal["reject", "create"] | None = Field(
        default=None, description="A missing thread: 404, or create it."
    )
    on_completion: Literal["delete", "keep"] | None = Field(
        default=None, description="A stateless run's thread: deleted after it (default) or kept."
    )
    on_disconnect: Literal["cancel", "continue"] | None = Field(
        default=None, description="A stream's client goes away: cancel the run, or not (default)."
    )
    interrupt_before: Any = Field(default=None, description="Not supported.")
    interrupt_after: Any = Field(default=None, description="Not supported.")
    checkpoint: Any = Field(default=None, description="Not supported.")
    checkpoint_id: Any = Field(default=None, description="Not supported.")
    webhook: str | None = Field(
        default=None,
        max_length=2000,
        description="A URL told (POST) when the run ends; the body is a Standard Webhooks "
        "event (`run.completed`, `run.failed`, ...), not LangGraph's run object.",
    )
    after_seconds: Annotated[int, Field(ge=0, le=0)] | None = Field(
        default=None, description="Only 0: runs start at once."
    )


class CronRequest(BaseModel):
    """A cron as LangGraph's SDK creates or changes it (`crons.create`, `crons.update`)."""

    model_config = LANGGRAPH

    assistant_id: str | None = Field(
        default=None, min_length=1, max_length=200, description="Agent id or name (creating)."
    )
    schedule: str | None = Field(
        default=None, max_length=200, description="A 5-field cron expression."
    )
    timezone: str | None = Field(default=None, max_length=64, description="An IANA time zone.")
    input: Any = Field(default=None, description='`{"messages": [one user message]}`.')
    config: dict[str, Any] | None = Field(
        default=None, description="`configurable.version` pins a version or alias."
    )
    context: Annotated[dict[str, Any], json_size_at_most(MAX_CONTEXT_BYTES)] | None = Field(
        default=None, description="Facts given to the model with the prompt."
    )
    metadata: Metadata | None = Field(default=None, description="Labels on every run it fires.")
    enabled: bool | None = Field(default=None, description="`false` pauses it.")
    end_time: str | None = Field(default=None, description="No fire after this time.")
    multitask_strategy: Literal["reject", "enqueue"] | None = Field(
        default=None, description="A fire while its last run goes on: skipped, or queued."
    )
    on_run_completed: Literal["delete", "keep"] | None = Field(
        default=None, description="Accepted: fires make runs of their own, on no thread."
    )
    webhook: Any = Field(default=None, description="Not supported on crons.")
    interrupt_before: Any = Field(default=None, description="Not supported.")
    interrupt_after: Any = Field(default=None, description="Not supported.")


class CronSearch(BaseModel):
    """A search of the tenant's crons (schedules)."""

    model_config = LANGGRAPH

    assistant_id: str | None = Field(default=None, max_length=200, description="Agent id/name.")
    thread_id: str | None = Field(default=None, max_length=200, description="None match.")
    enabled: bool | None = Field(default=None, description="Only enabled, or disabled, ones.")
    limit: Limit = Field(default=10, description="At most this many.")
    offset: Offset = Field(default=0, description="Skip this many.")
    sort_order: SortOrder | None = Field(default=None, description="By creation; `desc` default.")
