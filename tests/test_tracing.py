"""LangFuse export: payloads, the outbox, and what survives an outage or wrong keys.

A local receiver stands in for LangFuse and decodes the OTLP protobuf, so the assertions are on
what LangFuse would read: observation types, usage, cost, parents and trace attributes.
"""

import asyncio
import hashlib
import json
import logging
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import delete
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from backend.services import agents, runs
from core.db import AllTenants, TenantScope, make_engine, scoped_session
from core.models import (
    Agent,
    AgentCreate,
    AgentVersion,
    Approval,
    ApprovalStatus,
    Run,
    RunCreate,
    RunStatus,
    RunStep,
    StepKind,
    StepStatus,
    Tenant,
    TraceOutboxRow,
    VersionCreate,
)
from core.settings import CommonSettings
from tests.helpers import (
    agent_with,
    calc,
    free_port,
    run_agent,
    script,
    scripted_config,
    wait_for_run,
)
from tests.langfuse_receiver import LangfuseReceiver, running_receiver
from tests.private_engine import Engine as PrivateEngine
from tests.private_engine import tenant_on
from worker import tracing
from worker.tracing import OutboxSender, trace_id_for

AGENT_NAME = "support-bot"
T0 = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def sample_run(run_id: str = "run_sample", tenant_id: str = "ten_sample") -> Run:
    return Run(
        id=run_id,
        tenant_id=tenant_id,
        agent_id="agt_sample",
        version_id="ver_sample",
        version_number=3,
        status=RunStatus.failed,
        input="What is 6*7?",
        error={"code": "provider_error", "message": "boom"},
        created_by="alice@example.com",
        created_at=at(0),
        started_at=at(1),
        ended_at=at(9),
    )


def model_step(run_id: str, seq: int = 1, **fields: Any) -> RunStep:
    values: dict[str, Any] = {
        "run_id": run_id,
        "seq": seq,
        "kind": StepKind.model,
        "name": "gpt-4o",
        "status": StepStatus.succeeded,
        "input": {"provider": "openai", "model": "gpt-4o", "messages": 1},
        "output": {
            "text": "",
            "tool_calls": [{"id": "c1", "name": "calculator", "arguments": {"expression": "6*7"}}],
        },
        "input_tokens": 120,
        "output_tokens": 30,
        "cost_usd": 0.0006,
        "started_at": at(1),
        "ended_at": at(2),
        **fields,
    }
    return RunStep(**values)


def tool_step(run_id: str, seq: int = 2) -> RunStep:
    return RunStep(
        run_id=run_id,
        seq=seq,
        kind=StepKind.tool,
        name="calculator",
        status=StepStatus.succeeded,
        input={"call_id": "c1", "arguments": {"expression": "6*7"}, "approval_id": "apr_1"},
        output={"content": "42"},
        started_at=at(5),
        ended_at=at(6),
    )


def failed_model_step(run_id: str, seq: int = 3) -> RunStep:
    return model_step(
        run_id,
        seq,
        status=StepStatus.failed,
        output=None,
        input_tokens=0,
        output_tokens=0,
        cost_usd=0.0,
        error={"code": "provider_error", "message": "boom", "retryable": False},
        started_at=at(7),
        ended_at=at(8),
    )


def decided_approval(run_id: str) -> Approval:
    return Approval(
        id="apr_1",
        run_id=run_id,
        step_seq=2,
        tool_name="calculator",
        arguments={"expression": "6*7"},
        status=ApprovalStatus.approved,
        requested_at=at(3),
        decided_by="bob",
        decided_at=at(4),
    )


def attributes(payload: dict[str, Any]) -> dict[str, Any]:
    return dict(payload["attributes"])


# --- Payloads (pure) --------------------------------------------------------------------------


def test_a_model_step_is_a_generation_with_model_usage_and_cost() -> None:
    run = sample_run()
    payload = tracing.step_payload(run, model_step(run.id), model_parameters={"temperature": 0.2})
    attrs = attributes(payload)
    assert attrs["langfuse.observation.type"] == "generation"
    assert attrs["langfuse.observation.model.name"] == "gpt-4o"
    assert json.loads(attrs["langfuse.observation.model.parameters"]) == {"temperature": 0.2}
    assert json.loads(attrs["langfuse.observation.usage_details"]) == {
        "input": 120,
        "output": 30,
        "total": 150,
    }
    assert json.loads(attrs["langfuse.observation.cost_details"]) == {"total": 0.0006}
    assert json.loads(attrs["langfuse.observation.input"])["messages"] == 1
    assert json.loads(attrs["langfuse.observation.output"])["tool_calls"][0]["name"] == "calculator"
    assert (attrs["gen_ai.usage.input_tokens"], attrs["gen_ai.usage.output_tokens"]) == (120, 30)
    assert "langfuse.observation.level" not in attrs
    assert payload["parent_span_id"] == tracing.root_span_id(run.id)
    assert payload["start_time_unix_nano"] == int(at(1).timestamp()) * 1_000_000_000
    assert payload["end_time_unix_nano"] - payload["start_time_unix_nano"] == 1_000_000_000
    assert json.loads(json.dumps(payload)) == payload  # JSON-ready as stored


def test_a_failed_step_is_an_error_with_its_message() -> None:
    run = sample_run()
    attrs = attributes(tracing.step_payload(run, failed_model_step(run.id)))
    assert attrs["langfuse.observation.level"] == "ERROR"
    assert attrs["langfuse.observation.status_message"] == "provider_error: boom"


def test_a_tool_step_carries_its_arguments_and_result() -> None:
    run = sample_run()
    attrs = attributes(tracing.step_payload(run, tool_step(run.id)))
    assert attrs["langfuse.observation.type"] == "tool"
    assert json.loads(attrs["langfuse.observation.input"]) == {"expression": "6*7"}
    assert json.loads(attrs["langfuse.observation.output"]) == {"content": "42"}
    assert attrs["langfuse.observation.metadata.call_id"] == "c1"
    assert attrs["langfuse.observation.metadata.approval_id"] == "apr_1"


def test_the_run_is_the_root_with_trace_attributes() -> None:
    run = sample_run()
    payload = tracing.run_trace_payload(run, AGENT_NAME)
    attrs = attributes(payload)
    assert payload["parent_span_id"] is None
    assert payload["name"] == attrs["langfuse.trace.name"] == AGENT_NAME
    assert attrs["user.id"] == "alice@example.com"
    assert set(attrs["langfuse.trace.tags"]) >= {
        "tenant:ten_sample",
        "agent:agt_sample",
        "version:3",
        "status:failed",
    }
    assert attrs["langfuse.trace.metadata.run_id"] == run.id
    assert attrs["langfuse.trace.metadata.version_number"] == 3
    assert attrs["langfuse.trace.metadata.status"] == "failed"
    assert json.loads(attrs["langfuse.trace.input"]) == "What is 6*7?"
    assert attrs["langfuse.observation.level"] == "ERROR"
    unnamed = tracing.run_trace_payload(run, None)
    assert unnamed["attributes"]["langfuse.trace.name"] == "agent-run"


def test_approvals_are_events() -> None:
    run = sample_run()
    approval = decided_approval(run.id)
    requested = tracing.approval_payload(run, approval, "requested")
    decided = tracing.approval_payload(run, approval, "decided")
    assert requested["attributes"]["langfuse.observation.type"] == "event"
    assert requested["start_time_unix_nano"] == requested["end_time_unix_nano"]
    assert json.loads(requested["attributes"]["langfuse.observation.input"])["tool"] == "calculator"
    outcome = json.loads(decided["attributes"]["langfuse.observation.output"])
    assert (outcome["decision"], outcome["decided_by"]) == ("approved", "bob")
    assert requested["span_id"] != decided["span_id"]
    with pytest.raises(ValueError, match="requested"):
        tracing.approval_payload(run, approval, "forgotten")


def test_ids_derive_from_the_run_so_a_re_export_is_idempotent() -> None:
    run = sample_run()
    again = sample_run()
    expected_trace = hashlib.sha256(run.id.encode()).hexdigest()[:32]
    first = tracing.step_payload(run, model_step(run.id))
    assert first == tracing.step_payload(again, model_step(again.id))
    assert first["trace_id"] == expected_trace
    assert tracing.run_trace_payload(run, AGENT_NAME)["trace_id"] == expected_trace
    span_ids = {
        tracing.run_trace_payload(run, AGENT_NAME)["span_id"],
        first["span_id"],
        tracing.step_payload(run, model_step(run.id, seq=3))["span_id"],
        tracing.step_payload(run, tool_step(run.id))["span_id"],
    }
    assert len(span_ids) == 4
    assert all(len(span_id) == 16 and int(span_id, 16) for span_id in span_ids)
    other = tracing.step_payload(sample_run("run_other"), model_step("run_other"))
    assert (other["trace_id"], other["span_id"]) != (first["trace_id"], first["span_id"])


def test_long_values_are_cut() -> None:
    run = sample_run()
    run.input = "x" * (tracing.MAX_VALUE_CHARS * 2)
    value = tracing.run_trace_payload(run, None)["attributes"]["langfuse.trace.input"]
    assert len(value) == tracing.MAX_VALUE_CHARS
    assert value.endswith(tracing.TRUNCATION_MARK)


def test_tracing_is_enabled_by_url_and_both_keys() -> None:
    def settings(**values: str) -> CommonSettings:
        return CommonSettings(**values)  # type: ignore[arg-type]

    full = {
        "LANGFUSE_BASE_URL": "http://lf",
        "LANGFUSE_PUBLIC_KEY": "pk",
        "LANGFUSE_SECRET_KEY": "sk",
    }
    assert tracing.tracing_enabled(settings(**full))
    for missing in full:
        partial = {key: value for key, value in full.items() if key != missing}
        assert not tracing.tracing_enabled(settings(**partial))
        assert OutboxSender.from_settings(make_engine("sqlite://"), settings(**partial)) is None


def test_backoff_doubles_up_to_the_cap() -> None:
    sender = OutboxSender(
        make_engine("sqlite://"), base_url="http://lf", public_key="pk", secret_key=SecretStr("s")
    )
    try:
        assert [sender.backoff_seconds(n) for n in range(1, 6)] == [1, 2, 4, 8, 16]
        assert sender.backoff_seconds(9) == 256
        assert sender.backoff_seconds(10) == sender.backoff_seconds(1000) == 300
    finally:
        sender.close()


# --- Export through the outbox (real database, local receiver) ---------------------------------


@dataclass
class Recorded:
    tenant_id: str
    run_id: str


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    with scoped_session(engine, AllTenants()) as session:
        session.execute(delete(TraceOutboxRow))  # the sender drains every tenant's rows
        session.commit()
    yield engine
    engine.dispose()


@pytest.fixture
def recorded(engine: Engine) -> Iterator[Recorded]:
    """A finished run with a generation, an approved tool call and a failed generation.

    Steps and their observations are written in one transaction, as the activities do.
    """
    with scoped_session(engine, AllTenants()) as session:
        tenant = Tenant(name=f"tracing-{secrets.token_hex(4)}")
        session.add(tenant)
        session.commit()
    try:
        with scoped_session(engine, TenantScope(tenant.id)) as session:
            agent = agents.create_agent(session, AgentCreate(name=AGENT_NAME), "test")
            config = VersionCreate.model_validate(scripted_config())
            agents.publish_version(session, agent.id, config, "test")
            run, _created = runs.create_run(
                session, agent.id, RunCreate(input="What is 6*7?"), "alice@example.com", None
            )
            steps = [model_step(run.id), tool_step(run.id), failed_model_step(run.id)]
            approval = decided_approval(run.id)
            approval.id = f"apr_{secrets.token_hex(6)}"
            session.add_all([*steps, approval])
            run.status = RunStatus.failed
            run.error = {"code": "provider_error", "message": "boom"}
            run.started_at, run.ended_at = at(1), at(9)
            session.add(run)
            tracing.enqueue(
                session,
                run.id,
                [
                    tracing.step_payload(run, steps[0]),
                    tracing.approval_payload(run, approval, "requested"),
                    tracing.approval_payload(run, approval, "decided"),
                    tracing.step_payload(run, steps[1]),
                    tracing.step_payload(run, steps[2]),
                    tracing.run_trace_payload(run, AGENT_NAME),
                ],
            )
            session.commit()
        yield Recorded(tenant.id, run.id)
    finally:
        with scoped_session(engine, AllTenants()) as session:
            owned = (TraceOutboxRow, Run, AgentVersion, Agent)  # runs take steps and approvals
            for table in owned:
                session.execute(delete(table).where(col(table.tenant_id) == tenant.id))
            session.execute(delete(Tenant).where(col(Tenant.id) == tenant.id))
            session.commit()


@pytest.fixture
def receiver() -> Iterator[LangfuseReceiver]:
    with running_receiver() as receiver:
        yield receiver


def sender_for(engine: Engine, receiver: LangfuseReceiver, **options: Any) -> OutboxSender:
    values: dict[str, Any] = {
        "base_url": receiver.base_url,
        "public_key": receiver.public_key,
        "secret_key": SecretStr(receiver.secret_key),
        "interval_seconds": 0.05,
        "backoff_base_seconds": 0.2,
        "backoff_cap_seconds": 1.0,
        "timeout_seconds": 0.5,  # shorter than the OTLP exporter's own first retry: one try
        **options,
    }
    return OutboxSender(engine, **values)


def outbox(engine: Engine) -> list[TraceOutboxRow]:
    with scoped_session(engine, AllTenants()) as session:
        return list(session.exec(select(TraceOutboxRow)))


def drain(sender: OutboxSender) -> int:
    return asyncio.run(sender.drain_once())


def test_a_run_exports_as_one_trace(
    engine: Engine, recorded: Recorded, receiver: LangfuseReceiver
) -> None:
    sender = sender_for(engine, receiver)
    try:
        assert drain(sender) == 6
        assert drain(sender) == 0
    finally:
        sender.close()
    assert outbox(engine) == []
    observations = receiver.observations()
    assert len(observations) == 6
    trace_id = tracing.trace_id_for(recorded.run_id)
    assert {span["trace_id"] for span in observations.values()} == {trace_id}

    by_type: dict[str, list[dict[str, Any]]] = {}
    for span in observations.values():
        by_type.setdefault(span["attributes"]["langfuse.observation.type"], []).append(span)
    assert sorted((kind, len(spans)) for kind, spans in by_type.items()) == [
        ("event", 2),
        ("generation", 2),
        ("span", 1),
        ("tool", 1),
    ]
    (root,) = by_type["span"]
    assert root["parent_span_id"] is None
    assert all(
        span["parent_span_id"] == root["span_id"]
        for span in observations.values()
        if span is not root
    )

    root_attrs = root["attributes"]
    assert root_attrs["langfuse.trace.name"] == AGENT_NAME
    assert root_attrs["user.id"] == "alice@example.com"
    assert f"tenant:{recorded.tenant_id}" in root_attrs["langfuse.trace.tags"]
    assert root_attrs["langfuse.trace.metadata.run_id"] == recorded.run_id
    assert root_attrs["langfuse.trace.metadata.tenant_id"] == recorded.tenant_id
    assert root_attrs["langfuse.trace.metadata.version_number"] == 1
    assert root_attrs["langfuse.trace.metadata.status"] == "failed"
    assert json.loads(root_attrs["langfuse.trace.input"]) == "What is 6*7?"

    ok, failed = sorted(
        by_type["generation"], key=lambda span: "langfuse.observation.level" in span["attributes"]
    )
    usage = json.loads(ok["attributes"]["langfuse.observation.usage_details"])
    assert usage == {"input": 120, "output": 30, "total": 150}
    cost = json.loads(ok["attributes"]["langfuse.observation.cost_details"])
    assert cost["total"] == pytest.approx(0.0006)
    assert ok["attributes"]["langfuse.observation.model.name"] == "gpt-4o"
    assert ok["attributes"]["user.id"] == "alice@example.com"  # every observation names the user
    assert failed["attributes"]["langfuse.observation.level"] == "ERROR"
    assert "boom" in failed["attributes"]["langfuse.observation.status_message"]
    (tool,) = by_type["tool"]
    assert json.loads(tool["attributes"]["langfuse.observation.input"]) == {"expression": "6*7"}
    assert tool["end_time_unix_nano"] - tool["start_time_unix_nano"] == 1_000_000_000

    with scoped_session(engine, TenantScope(recorded.tenant_id)) as session:
        run = session.get(Run, recorded.run_id)
        assert run is not None
    assert run.trace_url == f"{receiver.base_url}/project/proj-1/traces/{trace_id}"
    posts = [request for request in receiver.requests if request[0] == "POST"]
    assert posts == [("POST", "/api/public/otel/v1/traces", 200)]  # one batch, one request


def test_an_outage_loses_nothing(
    engine: Engine, recorded: Recorded, receiver: LangfuseReceiver
) -> None:
    sender = sender_for(engine, receiver)
    try:
        receiver.stop()
        assert drain(sender) == 0
        rows = outbox(engine)
        assert len(rows) == 6
        assert all(row.attempts == 1 for row in rows)
        assert all(row.next_attempt_at > datetime.now(UTC) for row in rows)  # backing off
        assert all("unreachable" in (row.last_error or "") for row in rows)
        assert drain(sender) == 0  # not due yet: nothing tried
        assert {row.attempts for row in outbox(engine)} == {1}

        receiver.start()  # the same port: LangFuse is back
        time.sleep(0.25)
        assert drain(sender) == 6
    finally:
        sender.close()
    assert outbox(engine) == []
    assert len(receiver.observations()) == 6


def test_a_503_mid_run_keeps_the_rows_until_langfuse_takes_them(
    engine: Engine, recorded: Recorded, receiver: LangfuseReceiver
) -> None:
    sender = sender_for(engine, receiver, batch_size=2)
    try:
        assert drain(sender) == 2  # the keys are checked, the first batch goes
        receiver.fail_with = 503
        assert drain(sender) == 0
        failed = [row for row in outbox(engine) if row.attempts]
        assert len(failed) == 2
        assert all(
            row.last_error == "LangFuse did not take the export (HTTP 503)" for row in failed
        )
        # The rows behind them are due; the keys are checked again first, and that fails too.
        assert drain(sender) == 0
        assert {(row.attempts, row.last_error) for row in outbox(engine)} == {
            (1, "LangFuse did not take the export (HTTP 503)"),
            (1, "LangFuse answered HTTP 503 to the key check"),
        }
        receiver.fail_with = None
        time.sleep(0.25)
        exported = sum(drain(sender) for _ in range(3))
        assert exported == 4
    finally:
        sender.close()
    assert outbox(engine) == []
    assert len(receiver.observations()) == 6


def test_wrong_keys_export_nothing_and_never_leak_the_secret(
    engine: Engine,
    recorded: Recorded,
    receiver: LangfuseReceiver,
    caplog: pytest.LogCaptureFixture,
) -> None:
    wrong_secret = "sk-lf-WRONG-" + secrets.token_hex(8)
    sender = sender_for(engine, receiver, secret_key=SecretStr(wrong_secret))
    caplog.set_level(logging.DEBUG)
    try:
        assert drain(sender) == 0
    finally:
        sender.close()
    rows = outbox(engine)
    assert len(rows) == 6
    assert {(row.attempts, row.last_error) for row in rows} == {
        (1, "LangFuse refused the keys (HTTP 401)")
    }
    assert receiver.spans == []
    assert [method for method, _path, _status in receiver.requests] == ["GET"]  # no POST
    assert wrong_secret not in caplog.text
    assert all(wrong_secret not in json.dumps(row.payload) for row in rows)


def test_a_malformed_row_does_not_block_the_others(
    engine: Engine, recorded: Recorded, receiver: LangfuseReceiver
) -> None:
    with scoped_session(engine, TenantScope(recorded.tenant_id)) as session:
        tracing.enqueue(session, recorded.run_id, [{"v": 1, "name": "broken"}])
        session.commit()
    sender = sender_for(engine, receiver)
    try:
        assert drain(sender) == 6
    finally:
        sender.close()
    (broken,) = outbox(engine)
    assert broken.attempts == 1
    assert (broken.last_error or "").startswith("malformed payload: KeyError")
    assert broken.next_attempt_at > datetime.now(UTC) + timedelta(seconds=0.5)  # the cap


def test_the_background_loop_drains_until_stopped(
    engine: Engine, recorded: Recorded, receiver: LangfuseReceiver
) -> None:
    async def scenario() -> None:
        stop = asyncio.Event()
        sender = sender_for(engine, receiver)
        task = asyncio.create_task(sender.run_forever(stop))
        deadline = time.monotonic() + 10
        while len(receiver.observations()) < 6:
            assert time.monotonic() < deadline, "the loop did not export the run"
            await asyncio.sleep(0.05)
        stop.set()
        await asyncio.wait_for(task, 5)

    asyncio.run(scenario())
    assert outbox(engine) == []


def _settled(check: Any, timeout: float = 30) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.1)


def _gauge(port: int) -> float:
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    (line,) = [x for x in text.splitlines() if x.startswith("agent_runtime_trace_outbox_depth ")]
    return float(line.split()[1])


def _langfuse_env(receiver: LangfuseReceiver, metrics_port: int) -> dict[str, str]:
    return {
        "WORKER_METRICS_PORT": str(metrics_port),
        "LANGFUSE_BASE_URL": receiver.base_url,
        "LANGFUSE_PUBLIC_KEY": receiver.public_key,
        "LANGFUSE_SECRET_KEY": receiver.secret_key,
        "LANGFUSE_EXPORT_INTERVAL_SECONDS": "0.2",
    }


def test_a_worker_exports_each_run_as_a_trace_and_backfills_after_an_outage(
    database_url: str, temporal_address: str, tmp_path: Path
) -> None:
    """Through a real worker: a gated tool run appears as one trace; a run that finishes while
    LangFuse is down appears once it is back."""
    gated = {"type": "builtin", "name": "calculator", "requires_approval": True}
    config = script(calc("6*7"), {"text": "42"}, model="priced", tools=[gated])
    with running_receiver() as receiver:
        metrics_port = free_port()
        env = _langfuse_env(receiver, metrics_port)
        engine = PrivateEngine(database_url, temporal_address, tmp_path, env)
        try:
            with tenant_on(engine, database_url, tmp_path) as tenant:
                engine.start_worker()
                agent_id = agent_with(tenant, config, name="tracer")
                run = run_agent(tenant, agent_id)
                wait_for_run(tenant, run["id"], until={"awaiting_approval"})
                (approval,) = tenant.ok(tenant.get(f"/v1/runs/{run['id']}/approvals"))["items"]
                url = f"/v1/runs/{run['id']}/approvals/{approval['id']}"
                tenant.ok(tenant.post(url, json={"decision": "approve"}))
                finished = wait_for_run(tenant, run["id"])
                trace = trace_id_for(run["id"])

                def whole_trace() -> list[Any]:
                    spans = [s for s in receiver.observations().values() if s["trace_id"] == trace]
                    return spans if len(spans) >= 6 else []

                spans = _settled(whole_trace)
                types = sorted(s["attributes"]["langfuse.observation.type"] for s in spans)
                assert types == ["event", "event", "generation", "generation", "span", "tool"]
                generations = [
                    s for s in spans if s["attributes"]["langfuse.observation.type"] == "generation"
                ]
                usage = [
                    json.loads(g["attributes"]["langfuse.observation.usage_details"])
                    for g in generations
                ]
                assert all(u["input"] > 0 and u["output"] > 0 for u in usage)
                cost = sum(
                    json.loads(g["attributes"]["langfuse.observation.cost_details"])["total"]
                    for g in generations
                )
                assert cost == pytest.approx(finished["cost_usd"])
                root = next(s for s in spans if s["parent_span_id"] is None)
                assert root["attributes"]["langfuse.trace.name"] == "tracer"
                assert all(s["parent_span_id"] == root["span_id"] for s in spans if s is not root)
                run_url = f"/v1/runs/{run['id']}"
                linked = _settled(lambda: tenant.ok(tenant.get(run_url))["trace_url"])
                assert linked == f"{receiver.base_url}/project/proj-1/traces/{trace}"

                # LangFuse goes down; a run finishes meanwhile; nothing is lost.
                receiver.stop()
                quiet = run_agent(tenant, agent_with(tenant, script({"text": "hi"}), name="quiet"))
                assert wait_for_run(tenant, quiet["id"])["status"] == "succeeded"
                waiting = _settled(lambda: _gauge(metrics_port) >= 2)  # the worker's /metrics
                assert waiting
                receiver.start()
                later = trace_id_for(quiet["id"])
                backfilled = _settled(
                    lambda: [s for s in receiver.observations().values() if s["trace_id"] == later][
                        1:
                    ]
                )
                assert len(backfilled) == 1  # its generation and its root: two spans
                assert _settled(lambda: _gauge(metrics_port) == 0)
        finally:
            engine.stop()
    assert all(receiver.secret_key not in p.read_text() for p in tmp_path.glob("worker-*.log"))


def test_a_threads_runs_are_one_session_and_a_generation_shows_what_was_sent() -> None:
    run = sample_run()
    assert "session.id" not in attributes(tracing.run_trace_payload(run, AGENT_NAME))
    run.thread_id = "thr_conversation"
    sent = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "6*7?"}]
    step = tracing.step_payload(run, model_step(run.id), model_input=sent)
    for payload in (tracing.run_trace_payload(run, AGENT_NAME), step):
        assert attributes(payload)["session.id"] == "thr_conversation"
    assert json.loads(attributes(step)["langfuse.observation.input"]) == sent
    recorded = tracing.step_payload(run, model_step(run.id))
    assert json.loads(attributes(recorded)["langfuse.observation.input"])["messages"] == 1
