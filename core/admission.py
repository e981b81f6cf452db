"""Whether a tenant may start another run now: its run quotas, one rule for every place that
makes runs (the API admitting a request, a schedule's fire in the worker).

`max_concurrent_runs`, `runs_per_minute` and the daily token and cost budget are counted under a
lock on the tenant's row, so processes admitting at the same moment count one after another.
"""

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from core.budget import daily_budget_problem, daily_usage, day_start, quotas_of
from core.models import Run, RunStatus, Tenant
from core.models.common import utcnow

ACTIVE = [status.value for status in RunStatus if not status.is_terminal]
# Nobody knows when a run will end: a caller over its concurrency asks again after this.
CONCURRENCY_RETRY_SECONDS = 5


@dataclass(frozen=True)
class QuotaRefusal:
    """A quota that refuses another run now: its limit, the use, and when to ask again."""

    quota: str
    limit: float
    used: float
    retry_after_seconds: int

    def describe(self) -> str:
        return f"the tenant's quota {self.quota} ({self.limit:g}) is reached"


def lock_tenant(session: Session, tenant_id: str) -> None:
    """Serialise admissions of one tenant until the caller commits (a row lock on Postgres,
    the write lock on SQLite)."""
    session.execute(
        update(Tenant).where(col(Tenant.id) == tenant_id).values(quotas=col(Tenant.quotas)),
        execution_options={"synchronize_session": False},
    )


def active_runs(session: Session, tenant_id: str) -> int:
    return int(
        session.exec(
            select(func.count())
            .select_from(Run)
            .where(col(Run.tenant_id) == tenant_id, col(Run.status).in_(ACTIVE))
        ).one()
    )


def runs_since(session: Session, tenant_id: str, since: datetime) -> tuple[int, datetime | None]:
    count, oldest = session.execute(
        select(func.count(), func.min(col(Run.created_at))).where(
            col(Run.tenant_id) == tenant_id, col(Run.created_at) > since
        )
    ).one()
    return int(count), oldest


def seconds_to_midnight(now: datetime) -> int:
    return max(1, math.ceil((day_start(now) + timedelta(days=1) - now).total_seconds()))


def admission_refusal(session: Session, tenant_id: str) -> QuotaRefusal | None:
    """The quota that refuses the tenant another run now, if any; else None, holding the
    tenant's lock until the caller commits the run."""
    quotas = quotas_of(session, tenant_id)
    if not quotas.limits_runs():
        return None
    lock_tenant(session, tenant_id)
    now = utcnow()
    if quotas.max_concurrent_runs is not None:
        active = active_runs(session, tenant_id)
        if active >= quotas.max_concurrent_runs:
            return QuotaRefusal(
                "max_concurrent_runs", quotas.max_concurrent_runs, active, CONCURRENCY_RETRY_SECONDS
            )
    if quotas.runs_per_minute is not None:
        recent, oldest = runs_since(session, tenant_id, now - timedelta(minutes=1))
        if recent >= quotas.runs_per_minute:
            frees_at = (oldest or now) + timedelta(minutes=1)
            wait = max(1, math.ceil((frees_at - now).total_seconds()))
            return QuotaRefusal("runs_per_minute", quotas.runs_per_minute, recent, wait)
    if quotas.limits_daily_usage():
        quota, limit, used = daily_budget_problem(quotas, *daily_usage(session, tenant_id, now))
        if quota:
            return QuotaRefusal(quota, limit, used, seconds_to_midnight(now))
    return None
