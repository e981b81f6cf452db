"""Agents and their immutable versions. Every query runs in the caller's tenant scope."""

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from backend.errors import conflict, not_found
from backend.pagination import Page, PageParams, paginate
from backend.services.lookup import get_or_404
from backend.services.schedule_engine import ScheduleEngine, remove_engine_schedules
from core.models import (
    Agent,
    AgentCreate,
    AgentPublic,
    AgentUpdate,
    AgentVersion,
    Run,
    Schedule,
    VersionCreate,
    VersionPublic,
)
from core.models.common import utcnow

PUBLISH_ATTEMPTS = 5


def _name_taken(name: str) -> Exception:
    return conflict("agent_name_taken", f"an agent named {name!r} exists already")


def create_agent(
    session: Session, data: AgentCreate, created_by: str, created_by_name: str | None = None
) -> Agent:
    if session.exec(select(Agent).where(Agent.name == data.name)).first() is not None:
        raise _name_taken(data.name)
    agent = Agent(
        name=data.name,
        description=data.description,
        created_by=created_by,
        created_by_name=created_by_name,
    )
    session.add(agent)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise _name_taken(data.name) from None
    return agent


def get_agent(session: Session, agent_id: str) -> Agent:
    return get_or_404(session, Agent, agent_id, "agent")


def list_agents(
    session: Session, params: PageParams, archived: bool, search: str | None
) -> Page[AgentPublic]:
    statement = select(Agent).where(Agent.archived == archived)
    if search:
        statement = statement.where(func.lower(Agent.name).contains(search.lower()))
    return paginate(
        session, statement, col(Agent.id), params, AgentPublic.model_validate, lambda a: a.id
    )


def update_agent(session: Session, agent_id: str, data: AgentUpdate) -> Agent:
    agent = get_agent(session, agent_id)
    changes = data.model_dump(exclude_unset=True, exclude_none=True)
    if "name" in changes and changes["name"] != agent.name:
        clash = session.exec(select(Agent).where(Agent.name == changes["name"])).first()
        if clash is not None:
            raise _name_taken(changes["name"])
    if "archived" in changes and changes["archived"] != agent.archived:
        agent.archived_at = utcnow() if changes["archived"] else None
    for field, value in changes.items():
        setattr(agent, field, value)
    agent.updated_at = utcnow()
    session.add(agent)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise _name_taken(str(changes.get("name"))) from None
    return agent


def delete_agent(session: Session, agent_id: str, schedules: ScheduleEngine) -> None:
    """From a request's thread. Its schedules go too: the engine's first (a 503 while it is
    away leaves everything), their rows with the agent's."""
    agent = get_agent(session, agent_id)
    if session.exec(select(Run.id).where(Run.agent_id == agent.id).limit(1)).first() is not None:
        raise conflict("agent_has_runs", "an agent with runs cannot be deleted; archive it instead")
    scheduled = session.exec(select(Schedule.id).where(Schedule.agent_id == agent.id)).all()
    remove_engine_schedules(schedules, list(scheduled))
    for version in session.exec(select(AgentVersion).where(AgentVersion.agent_id == agent.id)):
        session.delete(version)
    session.flush()
    session.delete(agent)
    session.commit()


def publish_version(
    session: Session,
    agent_id: str,
    data: VersionCreate,
    created_by: str,
    created_by_name: str | None = None,
) -> AgentVersion:
    """Append version N+1. Concurrent publishes race on the unique (agent, number) and retry."""
    config = data.config_dict()
    config_hash = data.content_hash()
    for _attempt in range(PUBLISH_ATTEMPTS):
        agent = get_agent(session, agent_id)
        if agent.archived:
            raise conflict("agent_archived", "the agent is archived; unarchive it to publish")
        latest = session.exec(
            select(func.max(AgentVersion.number)).where(AgentVersion.agent_id == agent.id)
        ).one()
        number = (latest or 0) + 1
        version = AgentVersion(
            agent_id=agent.id,
            number=number,
            config=config,
            config_hash=config_hash,
            notes=data.notes,
            created_by=created_by,
            created_by_name=created_by_name,
        )
        agent.latest_version = number
        agent.updated_at = utcnow()
        session.add(version)
        session.add(agent)
        try:
            session.commit()
        except IntegrityError:
            session.rollback()
            continue
        return version
    raise conflict("publish_contended", "too many concurrent publishes; try again")


def get_version(session: Session, agent_id: str, number: int) -> AgentVersion:
    agent = get_agent(session, agent_id)
    version = session.exec(
        select(AgentVersion).where(AgentVersion.agent_id == agent.id, AgentVersion.number == number)
    ).first()
    if version is None:
        raise not_found("version", number)
    return version


def list_versions(session: Session, agent_id: str, params: PageParams) -> Page[VersionPublic]:
    agent = get_agent(session, agent_id)
    statement = select(AgentVersion).where(AgentVersion.agent_id == agent.id)
    return paginate(
        session,
        statement,
        col(AgentVersion.number),
        params,
        VersionPublic.of,
        lambda v: v.number,
        descending=False,
    )
