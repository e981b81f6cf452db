"""An approval nobody answers expires after hours: run on Temporal's time-skipping test server.

The workflow and the real activities run in this process against a real database; the test
server skips the day-long wait, so the test checks the durable timer, not the wall clock.
"""

import asyncio
import sys
from datetime import timedelta
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import select
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from backend.services import agents, runs
from core.contract import WORKFLOW_NAME, AgentRunInput, AgentRunResult
from core.db import AllTenants, TenantScope, make_engine, scoped_session
from core.event_store import DatabaseEventLog
from core.models import AgentCreate, Approval, Run, RunCreate, RunStep, Tenant, VersionCreate
from core.objectstore import FilesystemStore
from core.thread_queue import workflow_input
from tests.helpers import calc, script
from worker.activities import RunActivities
from worker.pricing import PriceTable
from worker.providers.scripted import ScriptedProvider
from worker.workflows import AgentRunWorkflow

TEST_SERVER = Path(sys.executable).parent / "temporal-test-server"
DAY = 24 * 3600


def queued_run(engine: Engine, config: dict[str, object]) -> tuple[str, AgentRunInput]:
    """A tenant, an agent with one version, and a queued run of it: (tenant id, workflow input)."""
    with scoped_session(engine, AllTenants()) as session:
        tenant = Tenant(name="expiry")
        session.add(tenant)
        session.commit()
    with scoped_session(engine, TenantScope(tenant.id)) as session:
        agent = agents.create_agent(session, AgentCreate(name="gated"), "test")
        agents.publish_version(session, agent.id, VersionCreate.model_validate(config), "test")
        run, _created = runs.create_run(session, agent.id, RunCreate(input="go"), "test", None)
        return tenant.id, workflow_input(session, run, steps_per_execution=200)


def test_an_unanswered_approval_expires_after_a_day(database_url: str, tmp_path: Path) -> None:
    gated = {"type": "builtin", "name": "calculator", "requires_approval": True}
    config = script(calc("6*7"), {"text": "nobody answered"}, tools=[gated])
    assert config["limits"]["timeout_seconds"] < DAY  # the wait must not count against it
    engine = make_engine(database_url)
    try:
        tenant_id, run_input = queued_run(engine, config)
        store = FilesystemStore(tmp_path / "objects")
        result = asyncio.run(execute_with_time_skipping(engine, store, run_input))
        assert (result.status, result.steps) == ("succeeded", 3)
        with scoped_session(engine, TenantScope(tenant_id)) as session:
            run = session.exec(select(Run)).one()
            approval = session.exec(select(Approval)).one()
            steps = list(session.exec(select(RunStep).order_by(RunStep.seq)))  # type: ignore[arg-type]
        assert (run.status, run.output) == ("succeeded", "nobody answered")
        assert approval.status == "expired"
        assert approval.expires_at is not None
        assert approval.decided_at is not None
        assert approval.expires_at - approval.requested_at == timedelta(seconds=DAY)
        assert (steps[1].status, (steps[1].error or {}).get("code")) == (
            "failed",
            "approval_expired",
        )
    finally:
        with engine.begin() as connection:
            for table in ("run_step", "approval", "run", "agent_version", "agent", "tenant"):
                connection.exec_driver_sql(f'DELETE FROM "{table}"')
        engine.dispose()


async def execute_with_time_skipping(
    engine: Engine, store: FilesystemStore, run_input: AgentRunInput
) -> AgentRunResult:
    activities = RunActivities(
        engine,
        {"scripted": ScriptedProvider()},
        PriceTable.from_json(None),
        object_store=store,
        events=DatabaseEventLog(engine),
    )
    async with (
        await WorkflowEnvironment.start_time_skipping(
            test_server_existing_path=str(TEST_SERVER)
        ) as env,
        Worker(
            env.client,
            task_queue="expiry",
            workflows=[AgentRunWorkflow],
            activities=activities.all(),
        ),
    ):
        result: AgentRunResult = await env.client.execute_workflow(
            WORKFLOW_NAME,
            run_input,
            id=run_input.run_id,
            task_queue="expiry",
            result_type=AgentRunResult,
        )
        return result
