"""Runs made outside a request: a schedule's fire inserts its queued run here, idempotently.

A fire's activity may run more than once (activities are at-least-once): its run carries the
idempotency key `schedule:<schedule id>:<fire id>`, unique per tenant, so a repeated attempt
finds the run the first one made. A fire that cannot make a run says why instead (the schedule
deleted, the agent archived, no such version or alias, a tenant quota reached): that is no
failure, the next fire tries again.

The tenant's run quotas are those the API applies (`core.admission`).
"""

from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from core.admission import admission_refusal
from core.models import Agent, Run, Schedule
from core.models.schedule import version_reference
from core.versions import VersionNotFoundError, resolve_version

SCHEDULE_SUBJECT = "schedule"
# Why a fire made no run because its schedule row is gone.
SCHEDULE_DELETED = "the schedule was deleted"


def fire_key(schedule_id: str, fire_id: str) -> str:
    """The idempotency key of the run a fire makes."""
    return f"{SCHEDULE_SUBJECT}:{schedule_id}:{fire_id}"


def _by_key(session: Session, key: str) -> Run | None:
    return session.exec(select(Run).where(Run.idempotency_key == key)).first()


def scheduled_run(
    session: Session, schedule_id: str, fire_id: str, scheduled_at: datetime | None
) -> Run | str:
    """The queued run this fire makes (the one an earlier attempt made, if any), or why the
    fire makes none."""
    key = fire_key(schedule_id, fire_id)
    existing = _by_key(session, key)
    if existing is not None:
        return existing
    schedule = session.get(Schedule, schedule_id)
    if schedule is None:
        return SCHEDULE_DELETED
    agent = session.get(Agent, schedule.agent_id)
    if agent is None or agent.archived:
        return "the agent is archived"
    try:
        pinned = resolve_version(session, agent.id, version_reference(schedule.version))
    except VersionNotFoundError as missing:
        return str(missing)
    assert schedule.tenant_id is not None
    refusal = admission_refusal(session, schedule.tenant_id)
    if refusal is not None:
        session.rollback()  # lets go of the tenant's lock
        return refusal.describe()
    run = Run(
        agent_id=agent.id,
        version_id=pinned.version.id,
        version_number=pinned.version.number,
        version_alias=pinned.alias,
        input=schedule.input,
        context=dict(schedule.context or {}),
        idempotency_key=key,
        created_by=f"{SCHEDULE_SUBJECT}:{schedule.id}",
        created_by_name=schedule.created_by_name or SCHEDULE_SUBJECT,
        schedule_id=schedule.id,
        meta={
            **(schedule.run_metadata or {}),
            **({"scheduled_at": scheduled_at.isoformat()} if scheduled_at else {}),
        },
    )
    session.add(run)
    try:
        session.commit()
    except IntegrityError:  # an attempt running beside this one made it first
        session.rollback()
        existing = _by_key(session, key)
        if existing is None:
            raise
        return existing
    return run
