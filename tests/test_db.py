"""The tenant scope: one mechanism that every query and write goes through."""

import pytest
from fastapi import FastAPI
from sqlalchemy import update
from sqlmodel import Session, select

from core.db import AllTenants, TenantScope, UnscopedAccessError, scoped_session
from core.models import Agent, AgentVersion, Tenant
from core.models.version import ImmutableVersionError


@pytest.fixture
def two_tenants(app: FastAPI) -> tuple[str, str]:
    with scoped_session(app.state.engine, AllTenants()) as session:
        first, second = Tenant(name="one"), Tenant(name="two")
        session.add_all([first, second])
        session.commit()
        session.add_all(
            [
                Agent(tenant_id=first.id, name="a1", created_by="t"),
                Agent(tenant_id=second.id, name="b1", created_by="t"),
                Agent(tenant_id=second.id, name="b2", created_by="t"),
            ]
        )
        session.commit()
        return first.id, second.id


def test_queries_see_only_the_scoped_tenant(app: FastAPI, two_tenants: tuple[str, str]) -> None:
    first, second = two_tenants
    with scoped_session(app.state.engine, TenantScope(first)) as session:
        assert [a.name for a in session.exec(select(Agent))] == ["a1"]
        foreign = session.exec(select(Agent.id).where(Agent.tenant_id == second)).all()
        assert foreign == []
        joined = session.exec(select(AgentVersion).join(Agent)).all()
        assert joined == []
    with scoped_session(app.state.engine, TenantScope(second)) as session:
        assert sorted(a.name for a in session.exec(select(Agent))) == ["b1", "b2"]
        b1 = session.exec(select(Agent).where(Agent.name == "b1")).one()
    with scoped_session(app.state.engine, TenantScope(first)) as session:
        assert session.get(Agent, b1.id) is None


def test_bulk_updates_are_scoped(app: FastAPI, two_tenants: tuple[str, str]) -> None:
    first, _second = two_tenants
    with scoped_session(app.state.engine, TenantScope(first)) as session:
        session.exec(update(Agent).values(description="touched"))
        session.commit()
    with scoped_session(app.state.engine, AllTenants()) as session:
        touched = {a.name for a in session.exec(select(Agent)) if a.description == "touched"}
    assert touched == {"a1"}


def test_an_unscoped_session_refuses_tenant_data(
    app: FastAPI, two_tenants: tuple[str, str]
) -> None:
    with Session(app.state.engine) as session:
        assert len(session.exec(select(Tenant)).all()) == 2  # tenants themselves are not owned
        with pytest.raises(UnscopedAccessError):
            session.exec(select(Agent)).all()
        session.add(Agent(tenant_id=two_tenants[0], name="sneaky", created_by="t"))
        with pytest.raises(UnscopedAccessError):
            session.commit()


def test_new_rows_are_stamped_and_foreign_rows_refused(
    app: FastAPI, two_tenants: tuple[str, str]
) -> None:
    first, second = two_tenants
    with scoped_session(app.state.engine, TenantScope(first)) as session:
        stamped = Agent(name="stamped", created_by="t")
        session.add(stamped)
        session.commit()
        assert stamped.tenant_id == first
        session.add(Agent(tenant_id=second, name="planted", created_by="t"))
        with pytest.raises(UnscopedAccessError):
            session.commit()
        session.rollback()
    with scoped_session(app.state.engine, TenantScope(second)) as session:
        assert "planted" not in {a.name for a in session.exec(select(Agent))}


def test_a_stored_version_cannot_be_modified(app: FastAPI, two_tenants: tuple[str, str]) -> None:
    first, _second = two_tenants
    with scoped_session(app.state.engine, TenantScope(first)) as session:
        agent = session.exec(select(Agent)).one()
        version = AgentVersion(
            agent_id=agent.id, number=1, config={}, config_hash="0" * 64, created_by="t"
        )
        session.add(version)
        session.commit()
        version.notes = "rewritten history"
        with pytest.raises(ImmutableVersionError):
            session.commit()


def test_nul_characters_from_models_and_tools_are_stored_as_replacement_characters(
    app: FastAPI, two_tenants: tuple[str, str]
) -> None:
    """What a model or a tool returns is stored on Postgres too (it refuses NUL in JSON)."""
    first, _second = two_tenants
    with scoped_session(app.state.engine, TenantScope(first)) as session:
        agent = session.exec(select(Agent)).one()
        version = AgentVersion(
            agent_id=agent.id,
            number=1,
            config={"reply": "a\x00b", "tool\x00": ["\x00"], "plain": "\\u0000"},
            config_hash="1" * 64,
            created_by="t",
        )
        session.add(version)
        session.commit()
        version_id = version.id
    with scoped_session(app.state.engine, TenantScope(first)) as session:
        stored = session.get(AgentVersion, version_id)
        assert stored is not None
        assert stored.config == {"reply": "a\ufffdb", "tool\ufffd": ["\ufffd"], "plain": "\\u0000"}
