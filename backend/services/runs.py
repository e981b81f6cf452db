"""Runs: creation (idempotent), reads (searched, filtered, sorted), and cancellation requests."""

import hashlib
import json
import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, cast

from sqlalchemy import BigInteger, ColumnElement, Float, Text, and_, func, or_
from sqlalchemy import cast as sql_cast
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlmodel import Session, col, select

from backend.errors import ApiError, conflict, invalid
from backend.pagination import Page, PageParams, decode_cursor, encode_cursor, paginate
from backend.services.agents import get_agent
from backend.services.lookup import get_or_404
from backend.services.quotas import admit_run
from core import transitions
from core.models import Run, RunCreate, RunPublic, RunStatus, RunStep, StepPublic
from core.run_records import SCHEDULE_SUBJECT
from core.versions import ResolvedVersion, VersionNotFoundError, resolve_version

# A schedule's fires key their runs so (core.run_records): no caller may take one.
RESERVED_KEY_PREFIX = f"{SCHEDULE_SUBJECT}:"


def _request_hash(agent_id: str, body: RunCreate) -> str:
    canonical = json.dumps(
        # Fields left unset hash as before they existed: a retry across an upgrade replays.
        {"agent_id": agent_id, **body.model_dump(mode="json", exclude_none=True)},
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def _by_idempotency_key(session: Session, key: str) -> Run | None:
    return session.exec(select(Run).where(Run.idempotency_key == key)).first()


def _replay(run: Run, request_hash: str) -> Run:
    if run.request_hash != request_hash:
        raise invalid(
            "Idempotency-Key",
            "header",
            "this key was used with a different request body",
            code="idempotency_key_reused",
        )
    return run


def pinned_version(
    session: Session, agent_id: str, reference: int | str, sticky_key: str | None = None
) -> ResolvedVersion:
    """The version a number, `latest` or an alias names now; one that names nothing is a 422
    naming `version` (409 `agent_has_no_versions` before the first publish)."""
    try:
        return resolve_version(session, agent_id, reference, sticky_key)
    except VersionNotFoundError as missing:
        if missing.no_versions:
            raise conflict(
                "agent_has_no_versions", "publish a version of this agent first"
            ) from None
        raise invalid("version", "body", str(missing)) from None


def create_run(
    session: Session,
    agent_id: str,
    body: RunCreate,
    created_by: str,
    idempotency_key: str | None,
    created_by_name: str | None = None,
) -> tuple[Run, bool]:
    """Insert a queued run pinned to a version. Returns (run, created)."""
    request_hash = _request_hash(agent_id, body)
    if idempotency_key and idempotency_key.startswith(RESERVED_KEY_PREFIX):
        raise invalid(
            "Idempotency-Key",
            "header",
            f"keys starting {RESERVED_KEY_PREFIX!r} are the runs schedules make",
        )
    if idempotency_key:
        existing = _by_idempotency_key(session, idempotency_key)
        if existing is not None:
            return _replay(existing, request_hash), False
    agent = get_agent(session, agent_id)
    if agent.archived:
        raise conflict("agent_archived", "the agent is archived; unarchive it to run it")
    pinned = pinned_version(session, agent.id, body.version)
    assert agent.tenant_id is not None
    admit_run(session, agent.tenant_id)
    run = Run(
        agent_id=agent.id,
        version_id=pinned.version.id,
        version_number=pinned.version.number,
        version_alias=pinned.alias,
        input=body.input,
        context=body.context,
        webhook_url=body.webhook,
        idempotency_key=idempotency_key,
        request_hash=request_hash,
        created_by=created_by,
        created_by_name=created_by_name,
    )
    session.add(run)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        existing = _by_idempotency_key(session, idempotency_key) if idempotency_key else None
        if existing is None:
            raise
        return _replay(existing, request_hash), False
    return run, True


def get_run(session: Session, run_id: str) -> Run:
    return get_or_404(session, Run, run_id, "run")


RunSort = Literal["created_at", "-created_at", "duration", "-duration", "cost", "-cost"]
# A run that has not ended has no duration: it sorts after every run that has, either way.
_NOT_ENDED_LAST = {False: 2**62, True: -(2**62)}
_CURSOR_KEY = re.compile(r"(-?[a-z_]+)\|([^|]{1,40})\|(run_[0-9a-f]{1,36})")


@dataclass(frozen=True)
class RunFilters:
    agent_id: str | None = None
    status: RunStatus | None = None
    search: str | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    schedule_id: str | None = None


class MillisBetween(FunctionElement[float]):
    """Milliseconds from the first timestamp to the second, as SQLite and Postgres count."""

    type = Float()
    inherit_cache = True


@compiles(MillisBetween, "sqlite")
def _millis_sqlite(element: MillisBetween, compiler: SQLCompiler, **kw: Any) -> str:
    start, end = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"((julianday({end}) - julianday({start})) * 86400000.0)"


@compiles(MillisBetween, "postgresql")
def _millis_postgres(element: MillisBetween, compiler: SQLCompiler, **kw: Any) -> str:
    start, end = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"CAST(EXTRACT(EPOCH FROM ({end} - {start})) * 1000 AS DOUBLE PRECISION)"


class JsonText(FunctionElement[str]):
    """A JSON column's top-level string as text (unescaped), for searching it."""

    type = Text()
    inherit_cache = True


@compiles(JsonText, "sqlite")
def _json_text_sqlite(element: JsonText, compiler: SQLCompiler, **kw: Any) -> str:
    return f"json_extract({compiler.process(element.clauses, **kw)}, '$')"


@compiles(JsonText, "postgresql")
def _json_text_postgres(element: JsonText, compiler: SQLCompiler, **kw: Any) -> str:
    return f"({compiler.process(element.clauses, **kw)} #>> '{{}}')"


def run_started() -> ColumnElement[datetime]:
    """When a run's clock starts: its first step, or its creation if it never started."""
    return func.coalesce(col(Run.started_at), col(Run.created_at))


def as_utc(value: datetime | None, field: str) -> datetime | None:
    """An aware UTC datetime (a naive one is taken as UTC); one no database holds is a 422."""
    if value is None:
        return None
    try:
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except OverflowError:
        raise invalid(field, "query", "outside the datetimes this API stores") from None


def _sort_key(sort: RunSort) -> ColumnElement[Any]:
    name, descending = sort.removeprefix("-"), sort.startswith("-")
    if name == "created_at":
        return cast(ColumnElement[datetime], col(Run.created_at))
    if name == "cost":
        return cast(ColumnElement[float], col(Run.cost_usd))
    duration = sql_cast(func.round(MillisBetween(run_started(), col(Run.ended_at))), BigInteger)
    return func.coalesce(duration, _NOT_ENDED_LAST[descending])


def _bad_cursor(message: str = "not a cursor this API issued") -> ApiError:
    return invalid("cursor", "query", message, kind="cursor_invalid")


def _cursor_after(cursor: str, sort: RunSort) -> tuple[Any, str]:
    """The sort value and run id of the last run served; a cursor of another sort is a 422."""
    match = _CURSOR_KEY.fullmatch(str(decode_cursor(cursor, str)))
    if match is None:
        raise _bad_cursor()
    issued_for, raw, run_id = match.groups()
    if issued_for != sort:
        raise _bad_cursor(f"this cursor pages runs sorted by {issued_for}, not {sort}")
    try:
        if sort.endswith("created_at"):
            value: Any = datetime.fromisoformat(raw)
            if value.tzinfo is None:
                raise ValueError(raw)
        elif sort.endswith("duration"):
            value = int(raw)
        else:
            value = float(raw)
            if not math.isfinite(value):
                raise ValueError(raw)
    except (ValueError, OverflowError):
        raise _bad_cursor() from None
    return value, run_id


def _cursor_of(sort: RunSort, value: Any, run_id: str) -> str:
    text = value.isoformat() if isinstance(value, datetime) else repr(value)
    return encode_cursor(f"{sort}|{text}|{run_id}")


def list_runs(
    session: Session, params: PageParams, filters: RunFilters, sort: RunSort = "-created_at"
) -> Page[RunPublic]:
    """Keyset pages on (sort value, run id): each cursor names its sort, so a page never mixes
    two orders."""
    key = _sort_key(sort)
    descending = sort.startswith("-")
    statement = select(Run, key)
    if filters.agent_id:
        statement = statement.where(Run.agent_id == filters.agent_id)
    if filters.status:
        statement = statement.where(Run.status == filters.status)
    if filters.schedule_id:
        statement = statement.where(Run.schedule_id == filters.schedule_id)
    if filters.search:
        statement = statement.where(
            JsonText(col(Run.input)).icontains(filters.search, autoescape=True)
        )
    if filters.created_after is not None:
        statement = statement.where(col(Run.created_at) >= filters.created_after)
    if filters.created_before is not None:
        statement = statement.where(col(Run.created_at) < filters.created_before)
    if params.cursor is not None:
        value, run_id = _cursor_after(params.cursor, sort)
        before = key < value if descending else key > value
        tie = col(Run.id) < run_id if descending else col(Run.id) > run_id
        statement = statement.where(or_(before, and_(key == value, tie)))
    order = (key.desc(), col(Run.id).desc()) if descending else (key.asc(), col(Run.id).asc())
    rows = session.exec(statement.order_by(*order).limit(params.limit + 1)).all()
    more = len(rows) > params.limit
    rows = rows[: params.limit]
    last = rows[-1] if more and rows else None
    return Page[RunPublic](
        items=[RunPublic.of(run) for run, _value in rows],
        next_cursor=_cursor_of(sort, last[1], last[0].id) if last is not None else None,
    )


def list_steps(session: Session, run_id: str, params: PageParams) -> Page[StepPublic]:
    run = get_run(session, run_id)
    statement = select(RunStep).where(RunStep.run_id == run.id)
    return paginate(
        session,
        statement,
        col(RunStep.seq),
        params,
        StepPublic.of,
        lambda s: s.seq,
        descending=False,
    )


def request_cancel(session: Session, run_id: str) -> tuple[Run, bool]:
    """The run, and whether this request moved it to `cancelling`. A run that ends while the
    request is on its way keeps its ending (409 `run_finished`)."""
    run = get_run(session, run_id)
    changed = transitions.request_cancel(session, run.id)
    session.commit()
    session.refresh(run)
    status = RunStatus(run.status)
    if status.is_terminal:
        raise conflict("run_finished", f"the run has already ended ({status.value})")
    return run, changed


def mark_cancelled(session: Session, run: Run) -> bool:
    """For a run whose workflow is gone: nothing else will end it. False (and nothing changed)
    if its worker ended it first."""
    changed = transitions.mark_cancelled(session, run.id)
    session.commit()
    session.refresh(run)
    return changed
