"""Tenants: the isolation boundary every other row belongs to."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict
from pydantic import Field as PydanticField
from sqlmodel import Field, SQLModel

from core.ids import new_id
from core.models.common import JSONType, created_at_field

TENANT_NAME_PATTERN = r"^[a-z0-9][a-z0-9-]{0,62}$"


class TenantBase(SQLModel):
    name: str = Field(
        min_length=1,
        max_length=63,
        schema_extra={"pattern": TENANT_NAME_PATTERN},
        description="Lowercase letters, digits and dashes; unique.",
    )


class TenantCreate(TenantBase):
    """A new tenant: an isolated space of agents, runs and keys."""

    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]


COUNT_LIMIT = 1_000_000_000


class TenantQuotas(BaseModel):
    """What a tenant may use; a missing or null quota is unlimited."""

    model_config = ConfigDict(extra="forbid", strict=True)

    max_concurrent_runs: int | None = PydanticField(
        default=None, ge=0, le=COUNT_LIMIT, description="Runs not yet ended, at once."
    )
    runs_per_minute: int | None = PydanticField(
        default=None, ge=0, le=COUNT_LIMIT, description="Runs created in any 60 s."
    )
    max_tokens_per_day: int | None = PydanticField(
        default=None, ge=0, le=10**15, description="Model tokens per UTC day, all runs."
    )
    max_cost_usd_per_day: float | None = PydanticField(
        default=None, ge=0, le=10**9, allow_inf_nan=False, description="USD per UTC day."
    )
    max_event_streams: int | None = PydanticField(
        default=None, ge=0, le=COUNT_LIMIT, description="Open event streams (SSE) at once."
    )

    def limits_runs(self) -> bool:
        return any(
            value is not None
            for value in (
                self.max_concurrent_runs,
                self.runs_per_minute,
                self.max_tokens_per_day,
                self.max_cost_usd_per_day,
            )
        )

    def limits_daily_usage(self) -> bool:
        return self.max_tokens_per_day is not None or self.max_cost_usd_per_day is not None


class TenantUpdate(SQLModel):
    """Quotas given replace those set; a quota given as null becomes unlimited."""

    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    quotas: TenantQuotas | None = Field(
        default=None, description="Quotas to set; those not named stay as they are."
    )


class Tenant(TenantBase, table=True):
    id: str = Field(default_factory=lambda: new_id("ten"), primary_key=True, max_length=40)
    name: str = Field(unique=True, max_length=63)
    created_at: datetime = created_at_field()
    quotas: dict[str, Any] = Field(
        default_factory=dict, sa_type=JSONType, sa_column_kwargs={"server_default": "{}"}
    )

    def tenant_quotas(self) -> TenantQuotas:
        return TenantQuotas.model_validate(self.quotas or {})


class TenantPublic(TenantBase):
    """A tenant: the boundary every agent, run and key belongs to."""

    id: str = Field(description="The tenant's id (`ten_...`); `X-Tenant-Id` takes it or the name.")
    created_at: datetime = Field(description="When it was created (UTC).")
    quotas: TenantQuotas = PydanticField(
        default_factory=TenantQuotas, description="What it may use; unset quotas are unlimited."
    )


class TenantUsage(BaseModel):
    """A tenant's use now and today (UTC), beside its quotas."""

    tenant_id: str = PydanticField(description="The tenant.")
    day: str = PydanticField(description="The UTC day the daily totals cover (`YYYY-MM-DD`).")
    active_runs: int = PydanticField(description="Runs not yet ended.")
    runs_last_minute: int = PydanticField(description="Runs created in the last 60 s.")
    tokens_today: int = PydanticField(description="Model tokens of all its runs today.")
    cost_usd_today: float = PydanticField(description="What its model steps cost today, in USD.")
    open_event_streams: int = PydanticField(description="Event streams (SSE) open now.")
    quotas: TenantQuotas = PydanticField(description="Its quotas, to compare with the above.")
