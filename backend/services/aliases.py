"""Release aliases: point a name at a version (or a weighted split), read, delete; every move
audited in the same transaction as the move itself."""

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from backend.errors import ApiError, invalid, not_found
from backend.pagination import Page, PageParams, paginate
from backend.services.agents import get_agent
from core.models import Agent, AgentAlias, AgentVersion, AliasMove
from core.models.alias import AliasMovePublic, AliasPublic, AliasSet
from core.models.common import utcnow

# Two first sets of one alias at once race on its unique name; the loser sees the winner's row.
SET_ATTEMPTS = 3


def _alias(session: Session, agent_id: str, name: str) -> AgentAlias | None:
    return session.exec(
        select(AgentAlias).where(AgentAlias.agent_id == agent_id, AgentAlias.name == name)
    ).first()


def _lock_agent(session: Session, agent_id: str) -> None:
    """Moves of one agent's aliases one after another until the caller commits (a row lock on
    Postgres, the write lock on SQLite), so each move's audit says where it really came from."""
    session.execute(
        update(Agent).where(col(Agent.id) == agent_id).values(name=col(Agent.name)),
        execution_options={"synchronize_session": False},
    )


def get_alias(session: Session, agent_id: str, name: str) -> AgentAlias:
    agent = get_agent(session, agent_id)
    alias = _alias(session, agent.id, name)
    if alias is None:
        raise not_found("alias", name)
    return alias


def _check_versions_exist(session: Session, agent_id: str, body: AliasSet) -> None:
    wanted = [target["version"] for target in body.targets()]
    found = set(
        session.exec(
            select(AgentVersion.number).where(
                AgentVersion.agent_id == agent_id, col(AgentVersion.number).in_(wanted)
            )
        )
    )
    for index, number in enumerate(wanted):
        if number not in found:
            field = "version" if body.version is not None else f"versions.{index}.version"
            raise invalid(field, "body", f"the agent has no version {number}")


def set_alias(
    session: Session,
    agent_id: str,
    name: str,
    body: AliasSet,
    moved_by: str,
    moved_by_name: str | None,
) -> AgentAlias:
    """Create or move the alias; a move to where it already points records nothing."""
    agent = get_agent(session, agent_id)
    _check_versions_exist(session, agent.id, body)
    targets = body.targets()
    for _attempt in range(SET_ATTEMPTS):
        _lock_agent(session, agent.id)
        alias = _alias(session, agent.id, name)
        before = list(alias.targets) if alias is not None else []
        if alias is not None and before == targets:
            return alias
        now = utcnow()
        if alias is None:
            alias = AgentAlias(agent_id=agent.id, name=name, targets=targets, updated_by=moved_by)
        alias.targets = targets
        alias.updated_by, alias.updated_by_name, alias.updated_at = moved_by, moved_by_name, now
        move = AliasMove(
            agent_id=agent.id,
            name=name,
            from_targets=before,
            to_targets=targets,
            moved_by=moved_by,
            moved_by_name=moved_by_name,
            moved_at=now,
        )
        session.add_all([alias, move])
        try:
            session.commit()
        except IntegrityError:
            session.rollback()
            continue
        session.refresh(alias)
        return alias
    raise ApiError(409, "alias_contended", "the alias is being changed by others; try again")


def delete_alias(
    session: Session, agent_id: str, name: str, moved_by: str, moved_by_name: str | None
) -> None:
    _lock_agent(session, get_agent(session, agent_id).id)
    alias = get_alias(session, agent_id, name)
    session.add(
        AliasMove(
            agent_id=alias.agent_id,
            name=name,
            from_targets=list(alias.targets),
            to_targets=[],
            moved_by=moved_by,
            moved_by_name=moved_by_name,
        )
    )
    session.delete(alias)
    session.commit()


def list_aliases(session: Session, agent_id: str) -> list[AliasPublic]:
    agent = get_agent(session, agent_id)
    aliases = session.exec(
        select(AgentAlias).where(AgentAlias.agent_id == agent.id).order_by(col(AgentAlias.name))
    )
    return [AliasPublic.of(alias) for alias in aliases]


def alias_history(
    session: Session, agent_id: str, name: str, params: PageParams
) -> Page[AliasMovePublic]:
    """Every move of the alias, newest first (also of one since deleted: its history stays)."""
    agent = get_agent(session, agent_id)
    statement = select(AliasMove).where(AliasMove.agent_id == agent.id, AliasMove.name == name)
    return paginate(
        session, statement, col(AliasMove.id), params, AliasMovePublic.of, lambda move: move.id
    )
