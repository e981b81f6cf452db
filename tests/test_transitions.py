"""Status changes: each a conditional update, so the API and a worker never overwrite each other.

Both sides are driven against the real database (SQLite and Postgres), each in its own session,
in the order that used to lose a run's ending.
"""

import ast
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import col, select

from backend.errors import ApiError
from backend.services import runs as run_service
from core import transitions
from core.db import TenantScope, scoped_session
from core.models import Approval, ApprovalStatus, Run, RunStatus
from tests.helpers import Api

ROOT = Path(__file__).resolve().parent.parent


def _new_run(app: FastAPI, api: Api, status: RunStatus) -> str:
    agent = api.new_agent()
    version = api.publish(agent["id"])
    assert api.tenant_id is not None
    with scoped_session(app.state.engine, TenantScope(api.tenant_id)) as session:
        run = Run(
            agent_id=agent["id"],
            version_id=version["id"],
            version_number=version["number"],
            status=status,
            input="hello",
            created_by="test",
        )
        session.add(run)
        session.commit()
        return run.id


def _worker_ends(app: FastAPI, tenant_id: str, run_id: str, status: RunStatus) -> bool:
    """What `call_model` does when the model answers without a tool call."""
    with scoped_session(app.state.engine, TenantScope(tenant_id)) as session:
        ended = transitions.end_run(session, run_id, status, output="done", error=None)
        session.commit()
        return ended


def _run(app: FastAPI, tenant_id: str, run_id: str) -> Run:
    with scoped_session(app.state.engine, TenantScope(tenant_id)) as session:
        run = session.get(Run, run_id)
        assert run is not None
        session.expunge(run)
        return run


def test_a_cancel_read_before_the_run_succeeded_does_not_overwrite_it(
    app: FastAPI, tenant_a: Api
) -> None:
    assert tenant_a.tenant_id is not None
    run_id = _new_run(app, tenant_a, RunStatus.running)
    with scoped_session(app.state.engine, TenantScope(tenant_a.tenant_id)) as api_session:
        seen = run_service.get_run(api_session, run_id)
        assert seen.status == RunStatus.running  # the API has read the run as running ...
        assert _worker_ends(app, tenant_a.tenant_id, run_id, RunStatus.succeeded)  # ... then
        with pytest.raises(ApiError) as refused:
            run_service.request_cancel(api_session, run_id)
    assert refused.value.status == 409
    assert refused.value.code == "run_finished"
    run = _run(app, tenant_a.tenant_id, run_id)
    assert run.status == RunStatus.succeeded
    assert run.output == "done"
    assert run.error is None


def test_a_run_that_succeeds_while_cancelling_keeps_its_success(
    app: FastAPI, client: TestClient, tenant_a: Api
) -> None:
    """The worker commits `succeeded` after the API wrote `cancelling` and before it learned the
    workflow is gone: the API must not end the run `cancelled`."""
    assert tenant_a.tenant_id is not None
    tenant_id = tenant_a.tenant_id
    run_id = _new_run(app, tenant_a, RunStatus.running)

    async def workflow_finished_meanwhile(cancelled_id: str) -> bool:
        assert _run(app, tenant_id, cancelled_id).status == RunStatus.cancelling
        assert _worker_ends(app, tenant_id, cancelled_id, RunStatus.succeeded)
        return False  # the workflow has ended: nothing is running to cancel

    app.state.run_engine.cancel = workflow_finished_meanwhile
    answer = tenant_a.ok(tenant_a.post(f"/v1/runs/{run_id}/cancel"), 202)
    assert answer["status"] == "succeeded"
    assert _run(app, tenant_id, run_id).status == RunStatus.succeeded
    assert tenant_a.ok(tenant_a.get(f"/v1/runs/{run_id}"))["status"] == "succeeded"


def test_a_cancel_whose_workflow_is_gone_ends_the_run_cancelled(
    app: FastAPI, client: TestClient, tenant_a: Api
) -> None:
    assert tenant_a.tenant_id is not None
    run_id = _new_run(app, tenant_a, RunStatus.queued)

    async def no_workflow(_run_id: str) -> bool:
        return False

    app.state.run_engine.cancel = no_workflow
    answer = tenant_a.ok(tenant_a.post(f"/v1/runs/{run_id}/cancel"), 202)
    assert answer["status"] == "cancelled"
    assert answer["error"]["code"] == "cancelled"
    conflict = tenant_a.post(f"/v1/runs/{run_id}/cancel")
    assert conflict.status_code == 409
    assert conflict.json()["error"]["code"] == "run_finished"


def test_each_transition_moves_only_from_the_statuses_that_may_take_it(
    app: FastAPI, tenant_a: Api
) -> None:
    assert tenant_a.tenant_id is not None
    scope = TenantScope(tenant_a.tenant_id)
    run_id = _new_run(app, tenant_a, RunStatus.queued)
    with scoped_session(app.state.engine, scope) as session:
        assert not transitions.resume(session, run_id)  # not waiting
        assert not transitions.await_approval(session, run_id)  # not running yet
        assert transitions.mark_running(session, run_id)
        assert not transitions.mark_running(session, run_id)  # once only
        assert transitions.await_approval(session, run_id)
        assert transitions.resume(session, run_id)
        assert not transitions.mark_cancelled(session, run_id)  # only from cancelling
        assert transitions.request_cancel(session, run_id)
        assert not transitions.request_cancel(session, run_id)  # already cancelling
        assert transitions.end_run(session, run_id, RunStatus.timed_out)
        assert not transitions.end_run(session, run_id, RunStatus.succeeded)
        with pytest.raises(ValueError, match="not an ending"):
            transitions.end_run(session, run_id, RunStatus.running)
        session.commit()
    run = _run(app, tenant_a.tenant_id, run_id)
    assert run.status == RunStatus.timed_out
    assert run.started_at is not None
    assert run.ended_at is not None


def test_the_status_machine_has_no_way_out_of_an_ending(app: FastAPI, tenant_a: Api) -> None:
    for status in RunStatus:
        assert (transitions.ALLOWED_TRANSITIONS[status] == frozenset()) == status.is_terminal
    assert transitions.statuses_that_may_become(RunStatus.cancelled) == {
        RunStatus.queued,
        RunStatus.running,
        RunStatus.awaiting_approval,
        RunStatus.cancelling,
    }
    assert tenant_a.tenant_id is not None
    run_id = _new_run(app, tenant_a, RunStatus.succeeded)
    with (
        scoped_session(app.state.engine, TenantScope(tenant_a.tenant_id)) as session,
        pytest.raises(ValueError, match="cannot go from succeeded to running"),
    ):
        transitions._move_run(session, run_id, [RunStatus.succeeded], RunStatus.running)


def test_an_approval_is_settled_once(app: FastAPI, tenant_a: Api) -> None:
    assert tenant_a.tenant_id is not None
    run_id = _new_run(app, tenant_a, RunStatus.awaiting_approval)
    with scoped_session(app.state.engine, TenantScope(tenant_a.tenant_id)) as session:
        first = Approval(run_id=run_id, step_seq=2, tool_name="calculator")
        second = Approval(run_id=run_id, step_seq=3, tool_name="calculator")
        session.add_all([first, second])
        session.commit()
        first_id, second_id = first.id, second.id
        assert transitions.decide_approval(
            session, first_id, ApprovalStatus.approved, decided_by="key:reviewer"
        )
        assert not transitions.decide_approval(session, first_id, ApprovalStatus.rejected)
        with pytest.raises(ValueError, match="not a decision"):
            transitions.decide_approval(session, second_id, ApprovalStatus.expired)
        closed = transitions.close_pending_approvals(
            session, col(Approval.run_id) == run_id, ApprovalStatus.cancelled
        )
        assert closed == [second_id]  # the decided one keeps its decision
        session.commit()
        session.expire_all()
        rows = session.exec(select(Approval).where(Approval.run_id == run_id)).all()
        statuses = {a.id: a.status for a in rows}
    assert statuses == {first_id: "approved", second_id: "cancelled"}


def _updated_table(call: ast.Call) -> str | None:
    """`Run` for `update(Run)....values(...)`: the table the statement's chain starts from."""
    for node in ast.walk(call.func):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "update"
            and node.args
            and isinstance(node.args[0], ast.Name)
        ):
            return node.args[0].id
    return None


def _writes_a_status(tree: ast.AST) -> list[str]:
    """UPDATEs of a run's or an approval's `status`, and `run.status = ...` /
    `approval.status = ...` assignments, found in a module."""
    found: list[str] = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "values"
            and any(keyword.arg == "status" for keyword in node.keywords)
            and _updated_table(node) in {"Run", "Approval"}
        ):
            found.append(f"update({_updated_table(node)}) at line {node.lineno}")
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if (
                    isinstance(target, ast.Attribute)
                    and target.attr == "status"
                    and isinstance(target.value, ast.Name)
                    and target.value.id in {"run", "approval"}
                ):
                    found.append(f"{target.value.id}.status = at line {node.lineno}")
    return found


def test_nothing_but_the_transitions_module_writes_a_run_or_approval_status() -> None:
    writers: dict[str, Any] = {}
    for package in ("core", "backend", "worker"):
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if relative == "core/transitions.py" or "/migrations/" in relative:
                continue
            found = _writes_a_status(ast.parse(path.read_text()))
            if found:
                writers[relative] = found
    assert writers == {}
