"""Crons: our schedules (cron kind), as LangGraph's SDK creates, searches and changes them.

A cron fires runs of their own (LangGraph's stateless crons): each fire is a normal run of the
schedule, on no thread, so `on_run_completed` has nothing to delete or keep. Crons bound to a
thread are not served; interval schedules are not crons and are not listed.
"""

import contextlib
from collections.abc import Iterator
from typing import Any

from sqlalchemy import ColumnElement
from sqlmodel import Session, col, func, select

from backend.errors import ApiError, invalid
from backend.services import schedules
from backend.services.langgraph import assistants
from backend.services.langgraph.messages import run_input
from backend.services.langgraph.models import CronRequest, CronSearch
from backend.services.langgraph.runs import configured_version, validated_as
from backend.services.schedule_engine import ScheduleEngine
from core.db import TenantScope, get_scope
from core.models import Schedule
from core.models.schedule import ScheduleCreate, SchedulePublic, ScheduleUpdate

# Our schedule's fields by the LangGraph field they come from, for errors that name it.
FIELDS = {
    "agent": "assistant_id",
    "version": "config.configurable.version",
    "cron": "schedule",
    "end_at": "end_time",
    "paused": "enabled",
    "overlap": "multitask_strategy",
    "input": "input.messages",
}
UNSUPPORTED = {
    "webhook": "a schedule's runs tell the tenant's webhooks (/v1/webhooks)",
    "interrupt_before": "agents wait only where their approval policy says",
    "interrupt_after": "agents wait only where their approval policy says",
}


@contextlib.contextmanager
def _langgraph_names() -> Iterator[None]:
    """A 422 the schedules service raises names the LangGraph field it came from."""
    try:
        yield
    except ApiError as error:
        if error.status != 422 or not isinstance(error.details, list):
            raise
        for detail in error.details:
            detail["field"] = FIELDS.get(detail.get("field", ""), detail.get("field"))
        first = error.details[0]
        raise invalid(first["field"], first.get("location", "body"), first["message"]) from None


def _message(raw: Any) -> str:
    """A cron fires one user message."""
    messages = run_input(raw)
    if len(messages) != 1 or messages[0]["role"] != "user":
        raise invalid("input.messages", "body", "a cron fires exactly one user message")
    return messages[0]["content"]


def _fields(body: CronRequest) -> dict[str, Any]:
    """The schedule fields the request sets (only those it gives)."""
    for name, why in UNSUPPORTED.items():
        if getattr(body, name) not in (None, [], {}):
            raise invalid(name, "body", f"not supported on crons: {why}")
    given = body.model_fields_set
    fields: dict[str, Any] = {}
    if body.schedule is not None:
        fields["cron"] = body.schedule
    if body.timezone is not None:
        fields["timezone"] = body.timezone
    if body.input is not None:
        fields["input"] = _message(body.input)
    if body.config is not None:
        fields["version"] = configured_version(body.config)
    if body.context is not None:
        fields["context"] = body.context
    if body.metadata is not None:
        fields["metadata"] = body.metadata
    if body.enabled is not None:
        fields["paused"] = not body.enabled
    if "end_time" in given:
        fields["end_at"] = body.end_time
    if body.multitask_strategy is not None:
        fields["overlap"] = "buffer_one" if body.multitask_strategy == "enqueue" else "skip"
    return fields


def cron_shape(schedule: SchedulePublic) -> dict[str, Any]:
    """A schedule as LangGraph's `Cron`."""
    return {
        "cron_id": schedule.id,
        "assistant_id": schedule.agent_id,
        "thread_id": None,
        "on_run_completed": "delete",
        "end_time": schedule.end_at,
        "schedule": schedule.cron,
        "timezone": schedule.timezone,
        "created_at": schedule.created_at,
        "updated_at": schedule.updated_at,
        "payload": {
            "input": {"messages": [{"role": "user", "content": schedule.input}]},
            "config": {"configurable": {"version": schedule.version}},
            "context": schedule.context,
            "metadata": schedule.metadata,
        },
        "user_id": schedule.created_by,
        "next_run_date": schedule.next_fire_times[0] if schedule.next_fire_times else None,
        "metadata": schedule.metadata,
        "enabled": not schedule.paused,
    }


def create(
    session: Session,
    engine: ScheduleEngine,
    body: CronRequest,
    created_by: str,
    created_by_name: str | None,
) -> dict[str, Any]:
    for required in ("assistant_id", "schedule", "input"):
        if getattr(body, required) is None:
            raise invalid(required, "body", "a cron needs it")
    fields = {"agent": body.assistant_id, **_fields(body)}
    with _langgraph_names():
        schedule = validated_as(ScheduleCreate, fields, FIELDS)
        created = schedules.create_schedule(session, engine, schedule, created_by, created_by_name)
    return cron_shape(created)


def _cron_row(session: Session, cron_id: str) -> Schedule:
    row = schedules.get_schedule(session, cron_id)
    if row.cron is None:
        raise ApiError(404, "not_found", f"cron {cron_id!r} not found (an interval schedule)")
    return row


def update(
    session: Session, engine: ScheduleEngine, cron_id: str, body: CronRequest
) -> dict[str, Any]:
    _cron_row(session, cron_id)
    fields = _fields(body)
    if "assistant_id" in body.model_fields_set:
        raise invalid("assistant_id", "body", "a cron's assistant does not change")
    with _langgraph_names():
        changed = schedules.update_schedule(
            session, engine, cron_id, validated_as(ScheduleUpdate, fields, FIELDS)
        )
    return cron_shape(changed)


def delete(session: Session, engine: ScheduleEngine, cron_id: str) -> None:
    _cron_row(session, cron_id)
    schedules.delete_schedule(session, engine, cron_id)


def _conditions(session: Session, query: CronSearch) -> list[ColumnElement[bool]] | None:
    """What the tenant's cron schedules the search names meet; None when none can."""
    if query.thread_id is not None:
        return None  # no cron is bound to a thread
    conditions: list[ColumnElement[bool]] = [col(Schedule.cron).is_not(None)]
    if query.assistant_id is not None:
        try:
            agent = assistants.find(session, query.assistant_id)
        except ApiError:
            return None
        conditions.append(col(Schedule.agent_id) == agent.id)
    if query.enabled is not None:
        # The row's pause is the engine's: every pause and unpause reaches both.
        conditions.append(col(Schedule.paused) == (not query.enabled))
    return conditions


def search(session: Session, engine: ScheduleEngine, query: CronSearch) -> list[dict[str, Any]]:
    """The page of matching crons, newest first; the engine describes only that page."""
    conditions = _conditions(session, query)
    if conditions is None:
        return []
    order = col(Schedule.id).asc() if query.sort_order == "asc" else col(Schedule.id).desc()
    statement = select(Schedule).where(*conditions).order_by(order)
    rows = list(session.exec(statement.offset(query.offset).limit(query.limit)))
    return [cron_shape(public) for public in schedules.publics(session, engine, rows)]


def count(session: Session, query: CronSearch) -> int:
    """How many crons match, counted by the database alone."""
    conditions = _conditions(session, query)
    if conditions is None:
        return 0
    scope = get_scope(session)
    assert isinstance(scope, TenantScope)
    # An aggregate names no entity, so the session's tenant scope cannot add itself: said here.
    tenant = col(Schedule.tenant_id) == scope.tenant_id
    counted = select(func.count()).select_from(Schedule).where(tenant, *conditions)
    return int(session.exec(counted).one())
