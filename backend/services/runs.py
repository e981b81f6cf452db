"""Runs: creation (idempotent), reads, and cancellation requests."""

import hashlib
import json

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from backend.errors import conflict, invalid
from backend.pagination import Page, PageParams, paginate
from backend.services.agents import get_agent
from backend.services.lookup import get_or_404
from backend.services.quotas import admit_run
from core import transitions
from core.contract import AgentRunInput, RunLimits
from core.models import AgentVersion, Run, RunCreate, RunPublic, RunStatus, RunStep, StepPublic


def _request_hash(agent_id: str, body: RunCreate) -> str:
    canonical = json.dumps(
        {"agent_id": agent_id, **body.model_dump(mode="json")},
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


def _pinned_version(session: Session, agent_id: str, body: RunCreate) -> AgentVersion:
    statement = select(AgentVersion).where(AgentVersion.agent_id == agent_id)
    if body.version == "latest":
        statement = statement.order_by(col(AgentVersion.number).desc())
    else:
        statement = statement.where(AgentVersion.number == body.version)
    version = session.exec(statement.limit(1)).first()
    if version is None:
        if body.version == "latest":
            raise conflict("agent_has_no_versions", "publish a version of this agent first")
        raise invalid("version", "body", f"the agent has no version {body.version}")
    return version


def create_run(
    session: Session,
    agent_id: str,
    body: RunCreate,
    created_by: str,
    idempotency_key: str | None,
) -> tuple[Run, bool]:
    """Insert a queued run pinned to a version. Returns (run, created)."""
    request_hash = _request_hash(agent_id, body)
    if idempotency_key:
        existing = _by_idempotency_key(session, idempotency_key)
        if existing is not None:
            return _replay(existing, request_hash), False
    agent = get_agent(session, agent_id)
    if agent.archived:
        raise conflict("agent_archived", "the agent is archived; unarchive it to run it")
    version = _pinned_version(session, agent.id, body)
    assert agent.tenant_id is not None
    admit_run(session, agent.tenant_id)
    run = Run(
        agent_id=agent.id,
        version_id=version.id,
        version_number=version.number,
        input=body.input,
        context=body.context,
        idempotency_key=idempotency_key,
        request_hash=request_hash,
        created_by=created_by,
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


def workflow_input(session: Session, run: Run, steps_per_execution: int) -> AgentRunInput:
    version = session.get(AgentVersion, run.version_id)
    assert version is not None
    assert run.tenant_id is not None
    limits = version.agent_config().limits
    return AgentRunInput(
        run_id=run.id,
        tenant_id=run.tenant_id,
        limits=RunLimits(
            max_steps=limits.max_steps,
            max_tokens=limits.max_tokens,
            max_cost_usd=limits.max_cost_usd,
            timeout_seconds=limits.timeout_seconds,
        ),
        steps_per_execution=steps_per_execution,
    )


def get_run(session: Session, run_id: str) -> Run:
    return get_or_404(session, Run, run_id, "run")


def list_runs(
    session: Session, params: PageParams, agent_id: str | None, status: RunStatus | None
) -> Page[RunPublic]:
    statement = select(Run)
    if agent_id:
        statement = statement.where(Run.agent_id == agent_id)
    if status:
        statement = statement.where(Run.status == status)
    return paginate(session, statement, col(Run.id), params, RunPublic.of, lambda r: r.id)


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
