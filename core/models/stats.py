"""What `GET /v1/stats` answers: run counts, cost, tokens and latency over a time range."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from core.models.run import RunStatus

BY_STATUS = "Runs per status; every run status is present, with 0 where none."
COST = "Sum of the runs' `cost_usd`."
INPUT_TOKENS = "Sum of the runs' input tokens."
OUTPUT_TOKENS = "Sum of the runs' output tokens."
LATENCY = (
    "{p}th percentile, in ms, of the latency of the runs that ended: `ended_at` minus "
    "`started_at` (`created_at` for a run that never started), less the time its approvals "
    "waited for a person (from `requested_at` until decided, expired or cancelled). Linear "
    "interpolation between ranks; null where no run ended."
)
BUCKET_START = "Start of the bucket (UTC): the hour, or midnight of the day."


class Totals(BaseModel):
    """The whole range at once."""

    runs: int = Field(default=0, description="Runs created in the range.")
    by_status: dict[RunStatus, int] = Field(description=BY_STATUS)
    cost_usd: float = Field(default=0.0, description=COST)
    input_tokens: int = Field(default=0, description=INPUT_TOKENS)
    output_tokens: int = Field(default=0, description=OUTPUT_TOKENS)
    p50_ms: float | None = Field(description=LATENCY.format(p=50))
    p95_ms: float | None = Field(description=LATENCY.format(p=95))


class SeriesPoint(BaseModel):
    """One bucket of the range; empty buckets are listed too, so a chart's axis is continuous."""

    start: datetime = Field(description=BUCKET_START)
    runs: int = Field(default=0, description="Runs created in this bucket.")
    by_status: dict[RunStatus, int] = Field(description=BY_STATUS)
    cost_usd: float = Field(default=0.0, description=COST)
    input_tokens: int = Field(default=0, description=INPUT_TOKENS)
    output_tokens: int = Field(default=0, description=OUTPUT_TOKENS)
    p50_ms: float | None = Field(description=LATENCY.format(p=50))
    p95_ms: float | None = Field(description=LATENCY.format(p=95))


class AgentStats(BaseModel):
    """One agent that had runs in the range."""

    agent_id: str = Field(description="The agent.")
    agent_name: str = Field(description="Its current name.")
    runs: int = Field(default=0, description="Its runs created in the range.")
    failed: int = Field(default=0, description="Those that ended `failed` (only that status).")
    cost_usd: float = Field(default=0.0, description=COST)
    input_tokens: int = Field(default=0, description=INPUT_TOKENS)
    output_tokens: int = Field(default=0, description=OUTPUT_TOKENS)
    p50_ms: float | None = Field(description=LATENCY.format(p=50))
    p95_ms: float | None = Field(description=LATENCY.format(p=95))


class AgentDay(BaseModel):
    """An agent's use in one bucket; only buckets where it cost or used tokens are listed."""

    agent_id: str = Field(description="The agent.")
    start: datetime = Field(description=BUCKET_START)
    cost_usd: float = Field(description=COST)
    input_tokens: int = Field(description=INPUT_TOKENS)
    output_tokens: int = Field(description=OUTPUT_TOKENS)


class FailingAgent(BaseModel):
    """An agent among those with the most failed runs."""

    agent_id: str = Field(description="The agent.")
    agent_name: str = Field(description="Its current name.")
    runs: int = Field(description="Its runs created in the range.")
    failed: int = Field(
        description="Those that ended `failed`; `timed_out` and `cancelled` do not count."
    )
    failure_rate: float = Field(description="`failed` / `runs`, from 0 to 1.")


class RunStats(BaseModel):
    """Runs of the caller's tenant (or one agent) created in [`from`, `to`), by UTC bucket."""

    model_config = ConfigDict(populate_by_name=True)

    from_: datetime = Field(alias="from", description="Start of the range (UTC, included).")
    to: datetime = Field(description="End of the range (UTC, excluded).")
    bucket: Literal["hour", "day"] = Field(description="The size of each bucket of `series`.")
    totals: Totals = Field(description="The whole range.")
    series: list[SeriesPoint] = Field(
        description="Every bucket from the one `from` falls in to the one before `to`, oldest "
        "first, empty ones included; the first and last may be partial (only runs in the "
        "range count)."
    )
    agents: list[AgentStats] = Field(
        description="Each agent with runs in the range, most runs first."
    )
    agent_days: list[AgentDay] = Field(
        description="Cost and tokens per agent per bucket, oldest first; only non-zero cells."
    )
    top_failing: list[FailingAgent] = Field(
        description="Up to 5 agents with the most `failed` runs (at least one), most first; "
        "ties go to the higher failure rate."
    )
