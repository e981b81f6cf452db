"""Runs and their durable steps, and the run status machine."""

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any
from urllib.parse import urlsplit, urlunsplit

from pydantic import BeforeValidator, ConfigDict
from sqlalchemy import ForeignKey, Index, UniqueConstraint
from sqlmodel import Column, Field, SQLModel, String

from core.ids import new_id
from core.models.alias import version_reference
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
from core.models.webhook import WebhookTarget

VERSION_REFERENCE_HELP = (
    "A version number of the agent, `latest`, or one of its aliases (e.g. `prod`): resolved "
    "once, when the run is created."
)
# A number, `latest` or an alias, with one clear error for anything else.
VersionReference = Annotated[int | str, BeforeValidator(version_reference)]
# A run's own webhook: checked as a subscription's URL is.
WebhookUrl = WebhookTarget


class RunStatus(StrEnum):
    """Where a run stands: `queued -> running -> (awaiting_approval -> running)* -> succeeded |
    failed | cancelled | timed_out`, and `cancelling` while a cancel reaches the running step."""

    queued = "queued"
    running = "running"
    awaiting_approval = "awaiting_approval"
    cancelling = "cancelling"
    succeeded = "succeeded"
    failed = "failed"
    cancelled = "cancelled"
    timed_out = "timed_out"

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL_STATUSES


TERMINAL_STATUSES = frozenset(
    {RunStatus.succeeded, RunStatus.failed, RunStatus.cancelled, RunStatus.timed_out}
)


class StepKind(StrEnum):
    """What a step did: `model` called the model, `tool` ran a tool call (`approval` is not
    recorded as a step: approvals are their own resource)."""

    model = "model"
    tool = "tool"
    approval = "approval"


class StepStatus(StrEnum):
    """How a step stands: `running`, then `succeeded` or `failed`, or `cancelled` when the run
    was cancelled while it ran (a timeout or failure cutting it short leaves it `failed`)."""

    running = "running"
    succeeded = "succeeded"
    failed = "failed"
    cancelled = "cancelled"


class Run(TenantOwned, table=True):
    __table_args__ = (
        UniqueConstraint("tenant_id", "idempotency_key", name="uq_run_idempotency_key"),
        # Quotas count a tenant's runs of the last minute.
        Index("ix_run_tenant_created", "tenant_id", "created_at"),
    )

    id: str = Field(default_factory=lambda: new_id("run"), primary_key=True, max_length=40)
    agent_id: str = Field(
        sa_column=Column(
            String(40), ForeignKey("agent.id", ondelete="RESTRICT"), nullable=False, index=True
        )
    )
    version_id: str = Field(
        sa_column=Column(
            String(40), ForeignKey("agent_version.id", ondelete="RESTRICT"), nullable=False
        )
    )
    version_number: int
    status: RunStatus = Field(default=RunStatus.queued, sa_type=String(20), index=True)
    input: Any = Field(default=None, sa_type=JSONType, nullable=True)
    context: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    output: Any = Field(default=None, sa_type=JSONType, nullable=True)
    error: dict[str, Any] | None = Field(default=None, sa_type=JSONType)
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    idempotency_key: str | None = Field(default=None, max_length=255)
    request_hash: str | None = Field(default=None, max_length=64)
    trace_url: str | None = Field(default=None, max_length=2000)
    # The last event number given out (the embedded event log): one row lock orders them.
    event_count: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    created_by: str = Field(max_length=200)
    created_by_name: str | None = Field(default=None, max_length=200)
    created_at: datetime = created_at_field()
    started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The conversation it continues; its earlier runs' messages come before its input.
    thread_id: str | None = Field(
        default=None,
        sa_column=Column(
            String(64), ForeignKey("thread.id", ondelete="CASCADE"), nullable=True, index=True
        ),
    )
    # Cancelled by a `rollback`: its messages leave the thread's conversation.
    rolled_back: bool = Field(default=False, sa_column_kwargs={"server_default": "0"})
    # Free-form labels given when it was created (`metadata` is taken by SQLAlchemy's base).
    meta: dict[str, Any] = Field(
        default_factory=dict,
        sa_column=Column("metadata", JSONType, nullable=False, server_default="{}"),
    )
    # The alias it was started through (its version resolved once, at creation), if any.
    version_alias: str | None = Field(default=None, max_length=40)
    # The schedule whose fire created it, if any.
    schedule_id: str | None = Field(default=None, max_length=40, index=True)
    # Told of the run's ending (given at creation, as LangGraph's `webhook`).
    webhook_url: str | None = Field(default=None, max_length=2000)


class RunStep(TenantOwned, table=True):
    __tablename__ = "run_step"
    __table_args__ = (
        UniqueConstraint("run_id", "seq", name="uq_run_step_seq"),
        # Daily usage sums a tenant's steps since midnight.
        Index("ix_run_step_tenant_started", "tenant_id", "started_at"),
    )

    id: str = Field(default_factory=lambda: new_id("stp"), primary_key=True, max_length=40)
    run_id: str = Field(
        sa_column=Column(
            String(40), ForeignKey("run.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    seq: int
    kind: StepKind = Field(sa_type=String(20))
    name: str = Field(max_length=200)
    status: StepStatus = Field(default=StepStatus.running, sa_type=String(20))
    input: Any = Field(default=None, sa_type=JSONType, nullable=True)
    output: Any = Field(default=None, sa_type=JSONType, nullable=True)
    # Object-store keys for payloads too large to keep inline.
    input_ref: str | None = Field(default=None, max_length=500)
    output_ref: str | None = Field(default=None, max_length=500)
    attempt: int = 1
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    error: dict[str, Any] | None = Field(default=None, sa_type=JSONType)
    started_at: datetime = created_at_field()
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The build of the worker that executed it: which code ran the step.
    worker_build: str | None = Field(default=None, max_length=80)


class RunCreate(SQLModel):
    """A run to start: which version, and what it answers."""

    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    version: VersionReference = Field(default="latest", description=VERSION_REFERENCE_HELP)
    input: str = Field(max_length=1_000_000, description="The user message the run answers.")
    context: Annotated[dict[str, Any], json_size_at_most(MAX_CONTEXT_BYTES)] = Field(
        default_factory=dict, description="Free-form facts given to the model with the prompt."
    )
    webhook: WebhookUrl | None = Field(
        default=None, description="A URL told (POST) when the run ends, as LangGraph's `webhook`."
    )


def without_query(url: str | None) -> str | None:
    """A URL as shown to readers: its query and fragment may carry a receiver's token."""
    if url is None:
        return None
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


class Usage(SQLModel):
    """Model tokens used, as the provider counted them (the scripted provider counts words)."""

    input_tokens: int = Field(description="Tokens sent to the model (prompts and transcripts).")
    output_tokens: int = Field(description="Tokens the model generated.")


ERROR_HELP = "Why it failed: `code` (e.g. `max_steps_exceeded`), `message`; null otherwise."


class RunPublic(SQLModel):
    """One execution of one pinned version of an agent."""

    id: str = Field(description="The run's id (`run_...`); also its workflow's id.")
    agent_id: str = Field(description="The agent it runs.")
    version: int = Field(description="The number of the agent version it is pinned to.")
    status: RunStatus = Field(description="Where the run stands.")
    input: Any = Field(description="The user message it answers.")
    context: dict[str, Any] = Field(description="Facts given to the model with the prompt.")
    output: Any = Field(description="The final answer; null until it succeeds.")
    usage: Usage = Field(description="Tokens of all its model steps.")
    cost_usd: float = Field(description="What its model steps cost, in USD.")
    error: dict[str, Any] | None = Field(description=ERROR_HELP)
    trace_url: str | None = Field(description="Its trace in LangFuse, when tracing is set up.")
    created_by: str = Field(description=CREATED_BY_HELP)
    created_by_name: CreatedByName = Field(description=CREATED_BY_NAME_HELP)
    created_at: datetime = Field(description="When it was created (UTC).")
    started_at: datetime | None = Field(description="When its first step started (UTC).")
    ended_at: datetime | None = Field(description="When it ended (UTC); null until then.")
    thread_id: str | None = Field(
        default=None, description="The thread it continues; null for a run on its own."
    )
    # Served as `metadata` (the name is SQLModel's own on the class).
    meta: dict[str, Any] = Field(
        default_factory=dict,
        serialization_alias="metadata",
        description="Free-form labels given when it was created.",
    )
    alias: str | None = Field(
        default=None,
        description="The alias it was started through (`version` is what it resolved to, "
        "once, at creation); null when a number or `latest` was given.",
    )
    schedule_id: str | None = Field(
        default=None, description="The schedule whose fire created it; null otherwise."
    )
    webhook: str | None = Field(
        default=None,
        description="The URL told of its ending, given at creation, without its query (which "
        "may hold the receiver's token); else null.",
    )

    @classmethod
    def of(cls, run: Run) -> "RunPublic":
        return cls.model_validate(
            run,
            update={
                "version": run.version_number,
                "usage": Usage.model_validate(run),
                "alias": run.version_alias,
                "webhook": without_query(run.webhook_url),
            },
        )


PAYLOAD_HELP = (
    'In lists, a payload kept in the object store shows as `{"$ref", "size", '
    '"preview"}`; reading the step alone resolves it.'
)


class StepPublic(SQLModel):
    """One durable step of a run: a model call or a tool call."""

    seq: int = Field(description="The step's position in the run, from 1.")
    kind: StepKind = Field(description="What the step did.")
    name: str = Field(description="The model's name (or provider), or the tool's name.")
    status: StepStatus = Field(description="How the step stands.")
    input: Any = Field(description=f"What the step was given. {PAYLOAD_HELP}")
    output: Any = Field(description=f"What it produced. {PAYLOAD_HELP}")
    input_url: str | None = Field(
        default=None, description="Downloads an input kept in the object store; else null."
    )
    output_url: str | None = Field(
        default=None, description="Downloads an output kept in the object store; else null."
    )
    attempt: int = Field(description="Which attempt this is; retries count up from 1.")
    usage: Usage = Field(description="Tokens of a model step; zero for tools.")
    cost_usd: float = Field(description="What a model step cost, in USD.")
    error: dict[str, Any] | None = Field(
        description="Why it failed or was cut short: `code`, `message`; null otherwise."
    )
    request: dict[str, Any] | None = Field(
        default=None,
        description="A model step read alone: exactly what the provider was sent "
        "(`system_prompt`, `messages` with the run and step each came from, `tools`, "
        "`parameters`), resolved from the references the step recorded; null otherwise.",
    )
    started_at: datetime = Field(description="When the step started (UTC).")
    ended_at: datetime | None = Field(
        description="When it ended (UTC), never before `started_at`; null while running."
    )
    worker_build: str | None = Field(
        default=None, description="The build of the worker that executed the step."
    )

    @classmethod
    def of(cls, step: RunStep) -> "StepPublic":
        base = f"/v1/runs/{step.run_id}/steps/{step.seq}"
        return cls.model_validate(
            step,
            update={
                "usage": Usage.model_validate(step),
                "input_url": f"{base}/input" if step.input_ref else None,
                "output_url": f"{base}/output" if step.output_ref else None,
            },
        )
