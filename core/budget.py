"""A tenant's daily token and cost budget: what it has used today, and the check workers make
before every model call (the API checks the same budget when it admits a run)."""

import time
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from core.models import RunStep, Tenant, TenantQuotas
from core.models.common import utcnow

QUOTAS_CACHE_SECONDS = 5.0


class DailyBudgetExceededError(Exception):
    """A tenant has spent its tokens or cost of the day."""


def quotas_of(session: Session, tenant_id: str) -> TenantQuotas:
    tenant = session.get(Tenant, tenant_id)
    return tenant.tenant_quotas() if tenant is not None else TenantQuotas()


def day_start(now: datetime) -> datetime:
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


def daily_usage(session: Session, tenant_id: str, now: datetime | None = None) -> tuple[int, float]:
    """Tokens and cost of the tenant's model steps since midnight UTC."""
    since = day_start(now or utcnow())
    tokens, cost = session.execute(
        select(
            func.coalesce(func.sum(col(RunStep.input_tokens) + col(RunStep.output_tokens)), 0),
            func.coalesce(func.sum(col(RunStep.cost_usd)), 0.0),
        ).where(col(RunStep.tenant_id) == tenant_id, col(RunStep.started_at) >= since)
    ).one()
    return int(tokens), float(cost)


def daily_budget_problem(
    quotas: TenantQuotas, tokens: int, cost: float
) -> tuple[str, float, float]:
    """(quota, limit, used) of a daily budget that is spent, or ("", 0, 0)."""
    if quotas.max_tokens_per_day is not None and tokens >= quotas.max_tokens_per_day:
        return "max_tokens_per_day", quotas.max_tokens_per_day, tokens
    if quotas.max_cost_usd_per_day is not None and cost >= quotas.max_cost_usd_per_day:
        return "max_cost_usd_per_day", quotas.max_cost_usd_per_day, cost
    return "", 0, 0


@dataclass
class _Cached:
    quotas: TenantQuotas
    read_at: float


class DailyBudgetGuard:
    """For workers: before every model call, refuse one whose tenant has spent its day.

    A tenant's quotas are re-read every few seconds (they change rarely), and always before a
    refusal, so a raised budget applies at once; usage is summed only when there is a budget.
    """

    def __init__(self) -> None:
        self._quotas: dict[str, _Cached] = {}

    def _quotas_of(self, session: Session, tenant_id: str, fresh: bool) -> TenantQuotas:
        cached = self._quotas.get(tenant_id)
        if fresh or cached is None or time.monotonic() - cached.read_at > QUOTAS_CACHE_SECONDS:
            cached = _Cached(quotas_of(session, tenant_id), time.monotonic())
            self._quotas[tenant_id] = cached
        return cached.quotas

    def check(self, session: Session, tenant_id: str) -> None:
        quotas = self._quotas_of(session, tenant_id, fresh=False)
        if not quotas.limits_daily_usage():
            return
        spent = daily_usage(session, tenant_id)
        quota, limit, used = daily_budget_problem(quotas, *spent)
        if quota:  # before refusing, make sure the budget was not raised meanwhile
            quota, limit, used = daily_budget_problem(
                self._quotas_of(session, tenant_id, fresh=True), *spent
            )
        if quota:
            raise DailyBudgetExceededError(
                f"the tenant's quota {quota} ({limit:g}) is spent for today (used {used:g})"
            )
