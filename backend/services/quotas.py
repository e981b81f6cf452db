"""Tenant quotas: how many runs at once and per minute, tokens and cost per UTC day, open streams.

Checks that admit something (a run, a stream) lock the tenant's row first, so API processes
admitting at the same moment count one after another: a quota holds across processes. The
daily token and cost budget is also checked by workers before every model call.
"""

import math
from datetime import datetime, timedelta

from sqlalchemy import func, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, delete, select

from backend.errors import ApiError
from core.admission import active_runs, admission_refusal, lock_tenant, runs_since
from core.budget import daily_usage, quotas_of
from core.db import TenantScope, scoped_session
from core.models import EventStreamLease, Tenant
from core.models.common import utcnow
from core.models.tenant import TenantUsage


def _exceeded(quota: str, limit: float, used: float, retry_after: int) -> ApiError:
    return ApiError(
        429,
        "quota_exceeded",
        f"the tenant's quota {quota} ({limit:g}) is reached; try again in {retry_after} s",
        {"quota": quota, "limit": limit, "used": used},
        headers={"Retry-After": str(retry_after)},
    )


def admit_run(session: Session, tenant_id: str) -> None:
    """Raise 429 if the tenant may not start another run now; else hold the tenant's lock
    until the caller commits the run."""
    refusal = admission_refusal(session, tenant_id)
    if refusal is not None:
        raise _exceeded(refusal.quota, refusal.limit, refusal.used, refusal.retry_after_seconds)


def _open_streams(session: Session, tenant_id: str, now: datetime) -> int:
    return int(
        session.exec(
            select(func.count())
            .select_from(EventStreamLease)
            .where(
                col(EventStreamLease.tenant_id) == tenant_id,
                col(EventStreamLease.expires_at) > now,
            )
        ).one()
    )


def open_stream(database: Engine, tenant_id: str, run_id: str, ttl_seconds: float) -> str | None:
    """Admit an event stream: its lease id, or None when the tenant has no stream quota (then
    nothing is recorded). Raises 429 when the tenant's streams are all open."""
    with scoped_session(database, TenantScope(tenant_id)) as session:
        quotas = quotas_of(session, tenant_id)
        if quotas.max_event_streams is None:
            return None
        lock_tenant(session, tenant_id)
        now = utcnow()
        session.execute(
            delete(EventStreamLease).where(
                col(EventStreamLease.tenant_id) == tenant_id,
                col(EventStreamLease.expires_at) <= now,
            )
        )
        open_now = _open_streams(session, tenant_id, now)
        if open_now >= quotas.max_event_streams:
            retry = max(1, math.ceil(ttl_seconds))
            raise _exceeded("max_event_streams", quotas.max_event_streams, open_now, retry)
        lease = EventStreamLease(
            tenant_id=tenant_id, run_id=run_id, expires_at=now + timedelta(seconds=ttl_seconds)
        )
        session.add(lease)
        session.commit()
        return lease.id


def renew_stream(database: Engine, tenant_id: str, lease_id: str, ttl_seconds: float) -> None:
    with scoped_session(database, TenantScope(tenant_id)) as session:
        session.execute(
            update(EventStreamLease)
            .where(col(EventStreamLease.id) == lease_id)
            .values(expires_at=utcnow() + timedelta(seconds=ttl_seconds)),
            execution_options={"synchronize_session": False},
        )
        session.commit()


def close_stream(database: Engine, tenant_id: str, lease_id: str) -> None:
    with scoped_session(database, TenantScope(tenant_id)) as session:
        session.execute(delete(EventStreamLease).where(col(EventStreamLease.id) == lease_id))
        session.commit()


def usage(session: Session, tenant: Tenant) -> TenantUsage:
    now = utcnow()
    tokens, cost = daily_usage(session, tenant.id, now)
    recent, _oldest = runs_since(session, tenant.id, now - timedelta(minutes=1))
    return TenantUsage(
        tenant_id=tenant.id,
        day=now.date().isoformat(),
        active_runs=active_runs(session, tenant.id),
        runs_last_minute=recent,
        tokens_today=tokens,
        cost_usd_today=round(cost, 6),
        open_event_streams=_open_streams(session, tenant.id, now),
        quotas=tenant.tenant_quotas(),
    )
