"""Schedules: runs fired by cron or interval, kept by the durable engine as its own Schedules.

The row is the tenant's record (listing, tenancy, what each fire runs); the engine's Schedule of
the same id decides when fires happen.
"""

import re
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlmodel
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import ForeignKey
from sqlmodel import Column, String

from core.ids import new_id
from core.models.common import (
    CREATED_BY_HELP,
    CREATED_BY_NAME_HELP,
    CreatedByName,
    JSONType,
    TenantOwned,
    UTCDateTime,
    created_at_field,
    not_null,
)
from core.models.limits import DB_INT_MAX, MAX_CONTEXT_BYTES, json_size_at_most
from core.models.run import VersionReference

# The engine refuses a catch-up window under 10 s; a year is more than any outage.
MIN_CATCHUP_SECONDS, MAX_CATCHUP_SECONDS = 10, 366 * 24 * 3600
MAX_INPUT_CHARS = 1_000_000
# Minute, hour, day of month, month, day of week: numbers, names (`jan`, `mon`), `*`, ranges,
# steps and lists. The engine checks each field's range and answers in the same words.
CRON_FIELD = re.compile(r"^[0-9A-Za-z*,/-]+$")
CRON_HELP = (
    "A standard 5-field cron expression (minute hour day-of-month month day-of-week), e.g. "
    "`0 9 * * mon-fri`, read in `timezone`. Give `cron` or `interval_seconds`, not both."
)


class Schedule(TenantOwned, table=True):
    id: str = sqlmodel.Field(default_factory=lambda: new_id("sch"), primary_key=True, max_length=40)
    agent_id: str = sqlmodel.Field(
        sa_column=Column(
            String(40), ForeignKey("agent.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    # A version number as text, `latest`, or an alias: resolved at each fire.
    version: str = sqlmodel.Field(default="latest", max_length=40)
    input: str = sqlmodel.Field(default="")
    context: dict[str, Any] = sqlmodel.Field(default_factory=dict, sa_type=JSONType)
    # Labels every run it fires carries (`metadata` is taken by SQLAlchemy's base).
    run_metadata: dict[str, Any] = sqlmodel.Field(default_factory=dict, sa_type=JSONType)
    cron: str | None = sqlmodel.Field(default=None, max_length=200)
    interval_seconds: int | None = sqlmodel.Field(default=None)
    timezone: str = sqlmodel.Field(default="UTC", max_length=64)
    overlap: str = sqlmodel.Field(default="skip", max_length=20)
    catchup_window_seconds: int = sqlmodel.Field(default=60)
    paused: bool = sqlmodel.Field(default=False)
    start_at: datetime | None = sqlmodel.Field(default=None, sa_type=UTCDateTime)
    end_at: datetime | None = sqlmodel.Field(default=None, sa_type=UTCDateTime)
    note: str = sqlmodel.Field(default="", max_length=2000)
    created_by: str = sqlmodel.Field(max_length=200)
    created_by_name: str | None = sqlmodel.Field(default=None, max_length=200)
    created_at: datetime = created_at_field()
    updated_at: datetime = created_at_field()


def stored_version(reference: int | str) -> str:
    """How the row keeps a version reference: a number as its digits."""
    return str(reference)


def version_reference(stored: str) -> int | str:
    """The reference a row keeps, as it was given: a number, `latest` or an alias."""
    return int(stored) if stored.isdigit() else stored


class ScheduleOverlap(StrEnum):
    """What a fire does while the schedule's previous run has not ended: `skip` it, run it
    once that one ends (`buffer_one`, at most one waiting), or run at once (`allow_all`)."""

    skip = "skip"
    buffer_one = "buffer_one"
    allow_all = "allow_all"


def _cron(value: str | None) -> str | None:
    if value is None:
        return None
    fields = value.split()
    if len(fields) != 5:
        raise ValueError(
            f"5 fields (minute hour day-of-month month day-of-week); got {len(fields)}"
        )
    for field in fields:
        if not CRON_FIELD.fullmatch(field):
            raise ValueError(f"{field!r} is no cron field (digits, names, `*`, `,`, `-`, `/`)")
    return " ".join(fields)


def _timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{value!r} is no IANA time zone (e.g. `Europe/Paris`, `UTC`)") from None
    return value


def _utc(value: datetime | None) -> datetime | None:
    """Aware UTC; a naive time is taken as UTC."""
    if value is None:
        return None
    try:
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except OverflowError:
        raise ValueError("outside the datetimes this API stores") from None


Cron = Annotated[str | None, Field(max_length=200), AfterValidator(_cron)]
IntervalSeconds = Annotated[int | None, Field(ge=1, le=DB_INT_MAX)]
TimeZoneName = Annotated[str, Field(min_length=1, max_length=64), AfterValidator(_timezone)]
CatchupSeconds = Annotated[int, Field(ge=MIN_CATCHUP_SECONDS, le=MAX_CATCHUP_SECONDS)]
UTCTime = Annotated[datetime | None, AfterValidator(_utc)]
Context = Annotated[dict[str, Any], json_size_at_most(MAX_CONTEXT_BYTES)]
Note = Annotated[str, Field(max_length=2000)]

VERSION_HELP = (
    "A version number, `latest`, or an alias (e.g. `prod`): resolved at each fire, so moving "
    "the alias moves the schedule's next runs."
)
TIMEZONE_HELP = "The IANA time zone `cron` is read in (e.g. `Europe/Paris`)."
OVERLAP_HELP = (
    "A fire while the previous run has not ended: `skip` it, `buffer_one` (run it after, at "
    "most one waiting), or `allow_all` (run at once)."
)
CATCHUP_HELP = (
    f"After the engine was down, fires missed at most this long ago still happen "
    f"({MIN_CATCHUP_SECONDS} s to one year)."
)
METADATA_HELP = "Free-form labels every run it fires carries (beside `scheduled_at`)."
START_HELP = "No fire before this time (UTC; a naive time is UTC)."
END_HELP = "No fire after this time (UTC; a naive time is UTC); after `start_at`."


class ScheduleCreate(BaseModel):
    """Runs of an agent fired by cron or interval."""

    model_config = ConfigDict(extra="forbid")

    agent: str = Field(min_length=1, max_length=200, description="The agent's id or name.")
    version: VersionReference = Field(default="latest", description=VERSION_HELP)
    input: str = Field(max_length=MAX_INPUT_CHARS, description="The user message each run answers.")
    context: Context = Field(
        default_factory=dict, description="Free-form facts given to the model with the prompt."
    )
    metadata: Context = Field(default_factory=dict, description=METADATA_HELP)
    cron: Cron = Field(default=None, description=CRON_HELP)
    interval_seconds: IntervalSeconds = Field(
        default=None, description="Fire every this many seconds instead of by `cron`."
    )
    timezone: TimeZoneName = Field(default="UTC", description=TIMEZONE_HELP)
    overlap: ScheduleOverlap = Field(default=ScheduleOverlap.skip, description=OVERLAP_HELP)
    catchup_window_seconds: CatchupSeconds = Field(default=60, description=CATCHUP_HELP)
    paused: bool = Field(default=False, description="Create it paused: no fire until unpaused.")
    start_at: UTCTime = Field(default=None, description=START_HELP)
    end_at: UTCTime = Field(default=None, description=END_HELP)
    note: Note = Field(default="", description="Free text for people: why it exists.")


# What a PATCH may set to null; every other field keeps its value unless given one.
NULLABLE_FIELDS = frozenset({"cron", "interval_seconds", "start_at", "end_at"})


class ScheduleUpdate(BaseModel):
    """What to change; fields left out keep their value. Giving `cron` drops
    `interval_seconds` and the other way round."""

    model_config = ConfigDict(extra="forbid")

    version: VersionReference | None = Field(default=None, description=VERSION_HELP)
    input: str | None = Field(default=None, max_length=MAX_INPUT_CHARS, description="The message.")
    context: Context | None = Field(default=None, description="Facts given with the prompt.")
    metadata: Context | None = Field(default=None, description=METADATA_HELP)
    cron: Cron = Field(default=None, description=CRON_HELP)
    interval_seconds: IntervalSeconds = Field(default=None, description="Fire every N seconds.")
    timezone: TimeZoneName | None = Field(default=None, description=TIMEZONE_HELP)
    overlap: ScheduleOverlap | None = Field(default=None, description=OVERLAP_HELP)
    catchup_window_seconds: CatchupSeconds | None = Field(default=None, description=CATCHUP_HELP)
    paused: bool | None = Field(default=None, description="Pause or unpause.")
    start_at: UTCTime = Field(default=None, description=START_HELP)
    end_at: UTCTime = Field(default=None, description=END_HELP)
    note: Note | None = Field(default=None, description="Free text for people.")

    @field_validator(
        *("version", "input", "context", "metadata", "timezone", "overlap"),
        *("catchup_window_seconds", "paused", "note"),
        mode="before",
    )
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        return not_null(value)


class ScheduleNote(BaseModel):
    """An optional note saying why (kept as the schedule's `note`)."""

    model_config = ConfigDict(extra="forbid")

    note: Note | None = Field(default=None, description="Why it was paused or unpaused.")


class ScheduleBackfillRequest(BaseModel):
    """A past time range whose fires happen now, as if its times were passing."""

    model_config = ConfigDict(extra="forbid")

    start: Annotated[datetime, AfterValidator(_utc)] = Field(
        description="From this time (inclusive; UTC, a naive time is UTC)."
    )
    end: Annotated[datetime, AfterValidator(_utc)] = Field(
        description="To this time (inclusive), not before `start` and not in the future."
    )


class ScheduledRunPublic(BaseModel):
    """One of the schedule's recent fires, as the engine took it."""

    run_id: str | None = Field(
        description="The run it created; null if it made none (skipped: the agent archived, "
        "its version or alias gone, a quota reached) or has not yet recorded it."
    )
    scheduled_at: datetime = Field(description="The time it was due (UTC).")
    started_at: datetime = Field(description="When the engine fired it (UTC).")


class SchedulePublic(BaseModel):
    """A schedule, with what the engine says of its fires."""

    id: str = Field(description="The schedule's id (`sch_...`), also the engine's Schedule id.")
    agent_id: str = Field(description="The agent its fires run.")
    version: int | str = Field(description="The version reference as given: " + VERSION_HELP)
    input: str = Field(description="The user message each run answers.")
    context: dict[str, Any] = Field(description="Facts given to the model with the prompt.")
    metadata: dict[str, Any] = Field(default_factory=dict, description=METADATA_HELP)
    cron: str | None = Field(description="Its cron expression; null for an interval.")
    interval_seconds: int | None = Field(description="Its interval; null for a cron.")
    timezone: str = Field(description=TIMEZONE_HELP)
    overlap: ScheduleOverlap = Field(description=OVERLAP_HELP)
    catchup_window_seconds: int = Field(description=CATCHUP_HELP)
    paused: bool = Field(description="Paused: no fire happens until it is unpaused.")
    start_at: datetime | None = Field(description=START_HELP)
    end_at: datetime | None = Field(description=END_HELP)
    note: str = Field(description="Free text for people (pause and unpause may set it).")
    created_by: str = Field(description=CREATED_BY_HELP)
    created_by_name: CreatedByName = Field(description=CREATED_BY_NAME_HELP)
    created_at: datetime = Field(description="When it was created (UTC).")
    updated_at: datetime = Field(description="When it was last changed (UTC).")
    next_fire_times: list[datetime] = Field(
        description="Its next fires (UTC, up to 5); empty while paused or after `end_at`."
    )
    recent_runs: list[ScheduledRunPublic] = Field(description="Its latest fires, oldest first.")
    fires: int = Field(description="How many fires the engine has taken (backfills included).")
    engine_reachable: bool = Field(
        description="False when the engine could not be asked: the fields above are then the "
        "row's alone (`paused` as last set, no next fires, no recent runs, `fires` 0)."
    )


class ScheduleActionAccepted(BaseModel):
    """A fire (or a range of them) the engine took on; the runs appear as they are recorded."""

    schedule_id: str = Field(description="The schedule.")
    action: Literal["trigger", "backfill"] = Field(description="What was asked.")
    start: datetime | None = Field(default=None, description="A backfill's start (UTC).")
    end: datetime | None = Field(default=None, description="A backfill's end (UTC).")
    requested_at: datetime = Field(description="When the engine took it on (UTC).")
