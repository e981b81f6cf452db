"""LangFuse traces without loss: observations go through a database outbox, then over OTLP.

The activity that records a step also adds the step's observation to `trace_outbox` in the
same transaction, so a trace can only be missing what the run itself is missing. A background
`OutboxSender` exports due rows in batches to LangFuse's OpenTelemetry endpoint and deletes
them once LangFuse took them; while LangFuse is down or refuses the keys, rows stay and are
retried with exponential backoff. Trace and span ids derive from the run id, so a row sent
twice (a retry after a lost answer, two workers draining at once) updates the same objects.

A payload is the span itself, JSON-ready: ids, name, times in ns and the attributes LangFuse's
OTel ingestion reads (`langfuse.observation.*`, `langfuse.trace.*`, `user.id`).
"""

import asyncio
import base64
import contextlib
import hashlib
import json
import logging
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from itertools import groupby
from typing import Any

import httpx
import requests
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExportResult
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import SpanContext, Status, StatusCode, TraceFlags
from pydantic import SecretStr
from sqlalchemy import delete, func, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from core.db import AllTenants, scoped_session
from core.models import (
    Approval,
    Run,
    RunStatus,
    RunStep,
    StepKind,
    StepStatus,
    TraceOutboxRow,
)
from core.models.common import utcnow
from core.observability import OUTBOX_DEPTH
from core.settings import CommonSettings
from worker.settings import WorkerSettings

log = logging.getLogger("agent_runtime.worker.tracing")

PAYLOAD_VERSION = 1
DEFAULT_TRACE_NAME = "agent-run"
# Inputs and outputs longer than this (as JSON) are cut: a trace is for reading, the full
# payload stays with the step.
MAX_VALUE_CHARS = 64 * 1024
TRUNCATION_MARK = "...[truncated]"
INGESTION_VERSION = "4"
OTEL_TRACES_PATH = "/api/public/otel/v1/traces"
PROJECTS_PATH = "/api/public/projects"
MAX_BATCH = 100
SCOPE = InstrumentationScope("agent-runtime")
RESOURCE = Resource({"service.name": "agent-runtime-worker"})
# Updates by primary key from short sessions: nothing loaded needs refreshing.
NO_SYNC = {"synchronize_session": False}
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
FAILED_RUN_STATUSES = frozenset({RunStatus.failed, RunStatus.timed_out})


def tracing_enabled(settings: CommonSettings) -> bool:
    """LangFuse export is on when its base URL and both keys are set."""
    return bool(
        settings.langfuse_base_url
        and settings.langfuse_public_key
        and settings.langfuse_secret_key
        and settings.langfuse_secret_key.get_secret_value()
    )


# --- Payloads ---------------------------------------------------------------------------------


def trace_id_for(run_id: str) -> str:
    """The run's trace id: 32 hex digits, the same on every export."""
    return hashlib.sha256(run_id.encode()).hexdigest()[:32]


def span_id_for(run_id: str, what: str) -> str:
    """A deterministic 16-hex-digit span id for one observation of a run."""
    return hashlib.sha256(f"{run_id}/{what}".encode()).hexdigest()[:16]


def root_span_id(run_id: str) -> str:
    return span_id_for(run_id, "run")


def trace_url(base_url: str, project_id: str, trace_id: str) -> str:
    return f"{base_url.rstrip('/')}/project/{project_id}/traces/{trace_id}"


def run_trace_payload(run: Run, agent_name: str | None) -> dict[str, Any]:
    """The run as the trace's root span: name, user, tags, metadata, input, output, status."""
    attributes = {
        **_trace_context(run),
        "langfuse.observation.type": "span",
        "langfuse.trace.name": agent_name or DEFAULT_TRACE_NAME,
        "langfuse.trace.tags": [*_tags(run), f"status:{run.status}"],
        "langfuse.trace.metadata.status": str(run.status),
        "langfuse.trace.input": _json(run.input),
        "langfuse.observation.input": _json(run.input),
    }
    if run.output is not None:
        attributes["langfuse.trace.output"] = _json(run.output)
        attributes["langfuse.observation.output"] = _json(run.output)
    if run.input_tokens or run.output_tokens or run.cost_usd:
        attributes["langfuse.trace.metadata.usage"] = _json(
            {"input": run.input_tokens, "output": run.output_tokens, "cost_usd": run.cost_usd}
        )
    failed = run.status in FAILED_RUN_STATUSES
    if failed:
        _mark_failed(attributes, run.error)
    elif run.status == RunStatus.cancelled:
        attributes["langfuse.observation.level"] = "WARNING"
        attributes["langfuse.observation.status_message"] = _error_message(run.error)
    started = run.started_at or run.created_at
    return _payload(
        run,
        span_id=root_span_id(run.id),
        parent=None,
        name=agent_name or DEFAULT_TRACE_NAME,
        start=started,
        end=run.ended_at or utcnow(),
        attributes=attributes,
        failed=failed,
    )


def step_payload(
    run: Run, step: RunStep, *, model_parameters: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A model step as a generation, a tool step as a tool call; a child of the run's span.

    `model_parameters` (e.g. the version's temperature) are shown on the generation; without
    them, `step.input["parameters"]` is used if present.
    """
    recorded = step.input if isinstance(step.input, dict) else {}
    attributes = _trace_context(run)
    if step.kind == StepKind.model:
        attributes.update(_generation_attributes(step, recorded, model_parameters))
    elif step.kind == StepKind.tool:
        attributes.update(_tool_attributes(step, recorded))
    else:
        attributes["langfuse.observation.type"] = "event"
        attributes["langfuse.observation.input"] = _json(step.input)
        if step.output is not None:
            attributes["langfuse.observation.output"] = _json(step.output)
    failed = step.status == StepStatus.failed
    if failed:
        _mark_failed(attributes, step.error)
    return _payload(
        run,
        span_id=span_id_for(run.id, f"step/{step.seq}/{step.kind}"),
        parent=root_span_id(run.id),
        name=step.name,
        start=step.started_at,
        end=step.ended_at or step.started_at,
        attributes=attributes,
        failed=failed,
    )


def approval_payload(run: Run, approval: Approval, what: str) -> dict[str, Any]:
    """An approval `requested` or `decided`, as a point-in-time event under the run's span."""
    if what not in {"requested", "decided"}:
        raise ValueError(f"an approval is 'requested' or 'decided', not {what!r}")
    attributes = {
        **_trace_context(run),
        "langfuse.observation.type": "event",
        "langfuse.observation.input": _json(
            {"tool": approval.tool_name, "arguments": approval.arguments}
        ),
        "langfuse.observation.metadata.approval_id": approval.id,
        "langfuse.observation.metadata.step_seq": approval.step_seq,
        "gen_ai.tool.name": approval.tool_name,
    }
    at = approval.requested_at
    if what == "decided":
        at = approval.decided_at or utcnow()
        decision: dict[str, Any] = {
            "decision": str(approval.status),
            "decided_by": approval.decided_by,
            "comment": approval.comment,
        }
        if approval.edited_arguments is not None:
            decision["arguments"] = approval.edited_arguments
        attributes["langfuse.observation.output"] = _json(decision)
        if approval.status == "expired":
            attributes["langfuse.observation.level"] = "WARNING"
            attributes["langfuse.observation.status_message"] = "nobody decided in time"
    return _payload(
        run,
        span_id=span_id_for(run.id, f"approval/{approval.step_seq}/{what}"),
        parent=root_span_id(run.id),
        name=f"approval {what}: {approval.tool_name}",
        start=at,
        end=at,
        attributes=attributes,
        failed=False,
    )


def enqueue(
    session: Session, run_id: str, payloads: list[dict[str, Any]], tenant_id: str | None = None
) -> None:
    """Add the payloads to the outbox in the caller's transaction; the caller commits.

    In a tenant-scoped session the rows take the session's tenant; a system session must name it.
    """
    now = utcnow()
    for payload in payloads:
        session.add(
            TraceOutboxRow(tenant_id=tenant_id, run_id=run_id, payload=payload, next_attempt_at=now)
        )


def _trace_context(run: Run) -> dict[str, Any]:
    """What every observation of the run carries, so each one alone identifies its trace.

    LangFuse (ingestion v4) reads trace-level fields from any observation, and a step exported
    before the run ended must not leave an anonymous trace behind.
    """
    return {
        "user.id": run.created_by,
        "langfuse.trace.tags": _tags(run),
        "langfuse.trace.metadata.tenant_id": run.tenant_id or "",
        "langfuse.trace.metadata.agent_id": run.agent_id,
        "langfuse.trace.metadata.version_number": run.version_number,
        "langfuse.trace.metadata.run_id": run.id,
    }


def _tags(run: Run) -> list[str]:
    return [f"tenant:{run.tenant_id}", f"agent:{run.agent_id}", f"version:{run.version_number}"]


def _generation_attributes(
    step: RunStep, recorded: dict[str, Any], model_parameters: dict[str, Any] | None
) -> dict[str, Any]:
    model = str(recorded.get("model") or step.name)
    parameters = model_parameters if model_parameters is not None else recorded.get("parameters")
    usage = {
        "input": step.input_tokens,
        "output": step.output_tokens,
        "total": step.input_tokens + step.output_tokens,
    }
    attributes: dict[str, Any] = {
        "langfuse.observation.type": "generation",
        "langfuse.observation.model.name": model,
        "langfuse.observation.model.parameters": json.dumps(_scalar_parameters(parameters)),
        "langfuse.observation.input": _json(step.input),
        "langfuse.observation.usage_details": json.dumps(usage),
        "langfuse.observation.cost_details": json.dumps({"total": step.cost_usd}),
        "langfuse.observation.metadata.attempt": step.attempt,
        # The OpenTelemetry GenAI conventions, for any other OTLP reader; LangFuse prefers
        # the langfuse.* attributes above when both are present.
        "gen_ai.operation.name": "chat",
        "gen_ai.request.model": model,
        "gen_ai.usage.input_tokens": step.input_tokens,
        "gen_ai.usage.output_tokens": step.output_tokens,
    }
    if recorded.get("provider"):
        attributes["gen_ai.provider.name"] = str(recorded["provider"])
    if step.output is not None:
        attributes["langfuse.observation.output"] = _json(step.output)
    return attributes


def _tool_attributes(step: RunStep, recorded: dict[str, Any]) -> dict[str, Any]:
    attributes: dict[str, Any] = {
        "langfuse.observation.type": "tool",
        "langfuse.observation.input": _json(recorded.get("arguments", step.input)),
        "langfuse.observation.metadata.attempt": step.attempt,
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": step.name,
    }
    for key in ("call_id", "approval_id"):
        if recorded.get(key):
            attributes[f"langfuse.observation.metadata.{key}"] = str(recorded[key])
    if recorded.get("call_id"):
        attributes["gen_ai.tool.call.id"] = str(recorded["call_id"])
    if step.status == StepStatus.failed:
        attributes["langfuse.observation.output"] = _json({"error": step.error})
    elif step.output is not None:
        attributes["langfuse.observation.output"] = _json(step.output)
    return attributes


def _mark_failed(attributes: dict[str, Any], error: dict[str, Any] | None) -> None:
    attributes["langfuse.observation.level"] = "ERROR"
    attributes["langfuse.observation.status_message"] = _error_message(error)


def _error_message(error: dict[str, Any] | None) -> str:
    if not error:
        return "failed"
    message = str(error.get("message") or "failed")
    return f"{error['code']}: {message}" if error.get("code") else message


def _scalar_parameters(parameters: Any) -> dict[str, str | int | float]:
    """LangFuse shows model parameters as flat key/values: nested values become JSON."""
    if not isinstance(parameters, dict):
        return {}
    return {
        str(key): value
        if isinstance(value, str | int | float) and not isinstance(value, bool)
        else _json(value)
        for key, value in parameters.items()
    }


def _json(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    if len(text) <= MAX_VALUE_CHARS:
        return text
    return text[: MAX_VALUE_CHARS - len(TRUNCATION_MARK)] + TRUNCATION_MARK


def _ns(moment: datetime) -> int:
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return (aware - EPOCH) // timedelta(microseconds=1) * 1000


def _payload(
    run: Run,
    *,
    span_id: str,
    parent: str | None,
    name: str,
    start: datetime,
    end: datetime,
    attributes: dict[str, Any],
    failed: bool,
) -> dict[str, Any]:
    return {
        "v": PAYLOAD_VERSION,
        "trace_id": trace_id_for(run.id),
        "span_id": span_id,
        "parent_span_id": parent,
        "name": name,
        "start_time_unix_nano": _ns(start),
        "end_time_unix_nano": max(_ns(end), _ns(start)),
        "status": "error" if failed else "ok",
        "attributes": attributes,
    }


# --- Export -----------------------------------------------------------------------------------


class ExportError(Exception):
    """LangFuse did not take a batch; the message is safe to store (it never holds a key)."""


def to_span(payload: dict[str, Any]) -> ReadableSpan:
    """One outbox payload as an OTel span, with its explicit ids and times."""
    trace_id = int(payload["trace_id"], 16)
    parent_id = payload.get("parent_span_id")
    sampled = TraceFlags(TraceFlags.SAMPLED)
    failed = payload.get("status") == "error"
    return ReadableSpan(
        name=str(payload["name"]),
        context=SpanContext(trace_id, int(payload["span_id"], 16), False, sampled),
        parent=SpanContext(trace_id, int(parent_id, 16), False, sampled) if parent_id else None,
        resource=RESOURCE,
        attributes=dict(payload["attributes"]),
        status=Status(StatusCode.ERROR if failed else StatusCode.OK),
        start_time=int(payload["start_time_unix_nano"]),
        end_time=int(payload["end_time_unix_nano"]),
        instrumentation_scope=SCOPE,
    )


class LangfuseExporter:
    """Sends spans to LangFuse's OTLP endpoint and checks the keys; blocking, call in a thread."""

    def __init__(
        self, base_url: str, public_key: str, secret_key: SecretStr, *, timeout_seconds: float
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._public_key = public_key
        self._secret_key = secret_key
        self.timeout_seconds = timeout_seconds
        token = base64.b64encode(f"{public_key}:{secret_key.get_secret_value()}".encode()).decode()
        # The exporter reports only success or failure: a response hook keeps the status code
        # for the outbox's last_error.
        self._last_status: int | None = None
        session = requests.Session()
        session.hooks["response"].append(self._remember_status)
        self._otlp = OTLPSpanExporter(
            endpoint=f"{self.base_url}{OTEL_TRACES_PATH}",
            headers={
                "Authorization": f"Basic {token}",
                "x-langfuse-ingestion-version": INGESTION_VERSION,
            },
            timeout=timeout_seconds,
            compression=Compression.Gzip,
            session=session,
        )

    def _remember_status(self, response: requests.Response, *_args: Any, **_kwargs: Any) -> None:
        self._last_status = response.status_code

    def project_id(self) -> str:
        """Check the keys (`GET /api/public/projects`) and return the keys' project id."""
        try:
            response = httpx.get(
                f"{self.base_url}{PROJECTS_PATH}",
                auth=httpx.BasicAuth(self._public_key, self._secret_key.get_secret_value()),
                timeout=self.timeout_seconds,
            )
        except httpx.HTTPError as error:
            raise ExportError(self.scrub(f"LangFuse is unreachable: {error!r}")) from None
        if response.status_code in {401, 403}:
            raise ExportError(f"LangFuse refused the keys (HTTP {response.status_code})")
        if response.status_code != 200:
            raise ExportError(f"LangFuse answered HTTP {response.status_code} to the key check")
        try:
            return str(response.json()["data"][0]["id"])
        except (ValueError, KeyError, IndexError, TypeError):
            raise ExportError("LangFuse's project list has no project for these keys") from None

    def export(self, spans: Sequence[ReadableSpan]) -> None:
        self._last_status = None
        if self._otlp.export(spans) == SpanExportResult.SUCCESS:
            return
        answer = f"HTTP {self._last_status}" if self._last_status else "no answer"
        raise ExportError(f"LangFuse did not take the export ({answer})")

    def scrub(self, message: str) -> str:
        """Belt and braces: whatever an error says, the secret key does not leave here."""
        return message.replace(self._secret_key.get_secret_value(), "***")[:2000]

    def close(self) -> None:
        self._otlp.shutdown()  # type: ignore[no-untyped-call]


class OutboxSender:
    """Exports due outbox rows in batches; keeps and backs off what LangFuse did not take."""

    def __init__(
        self,
        engine: Engine,
        *,
        base_url: str,
        public_key: str,
        secret_key: SecretStr,
        interval_seconds: float = 1.0,
        batch_size: int = MAX_BATCH,
        backoff_base_seconds: float = 1.0,
        backoff_cap_seconds: float = 300.0,
        timeout_seconds: float = 10.0,
    ) -> None:
        self.engine = engine
        self.interval_seconds = interval_seconds
        self.batch_size = max(1, min(batch_size, MAX_BATCH))
        self.backoff_base_seconds = backoff_base_seconds
        self.backoff_cap_seconds = backoff_cap_seconds
        # A claimed batch is invisible to other senders for this long; if this process dies
        # mid-export, the rows come back by themselves.
        self.lease = timedelta(seconds=max(60.0, 3 * timeout_seconds))
        self.exporter = LangfuseExporter(
            base_url, public_key, secret_key, timeout_seconds=timeout_seconds
        )
        self._project_id: str | None = None

    @classmethod
    def from_settings(
        cls, engine: Engine, settings: CommonSettings, **options: Any
    ) -> "OutboxSender | None":
        """A sender for the configured LangFuse, or None when tracing is off."""
        base_url, public_key = settings.langfuse_base_url, settings.langfuse_public_key
        secret_key = settings.langfuse_secret_key
        if not (tracing_enabled(settings) and base_url and public_key and secret_key):
            return None
        if isinstance(settings, WorkerSettings):
            options.setdefault("interval_seconds", settings.langfuse_export_interval_seconds)
        return cls(
            engine, base_url=base_url, public_key=public_key, secret_key=secret_key, **options
        )

    async def run_forever(self, stop: asyncio.Event) -> None:
        """Drain until `stop` is set, then close; a full batch is followed at once by the next."""
        try:
            while not stop.is_set():
                try:
                    exported = await self.drain_once()
                    OUTBOX_DEPTH.set(await asyncio.to_thread(self.depth))
                except Exception:  # a database hiccup must not end tracing for the process
                    log.exception("trace export round failed; retrying")
                    exported = 0
                if exported >= self.batch_size:
                    continue
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.interval_seconds)
        finally:
            await asyncio.to_thread(self.close)

    def close(self) -> None:
        """Release the exporter's connections; the sender is done after this."""
        self.exporter.close()

    async def drain_once(self) -> int:
        """Export one batch of due rows; returns how many LangFuse took."""
        rows = await asyncio.to_thread(self._claim)
        if not rows:
            return 0
        spans: list[ReadableSpan] = []
        sendable: list[TraceOutboxRow] = []
        for row in rows:
            try:
                spans.append(to_span(row.payload))
                sendable.append(row)
            except (KeyError, TypeError, ValueError) as error:
                # A malformed payload is a bug; it waits (at the longest backoff) for a fix
                # instead of blocking the rows behind it.
                message = f"malformed payload: {type(error).__name__}: {error}"
                await asyncio.to_thread(self._settle_failed, [row], message, True)
        if not sendable:
            return 0
        try:
            if self._project_id is None:
                self._project_id = await asyncio.to_thread(self.exporter.project_id)
            await asyncio.to_thread(self.exporter.export, spans)
        except ExportError as error:
            self._project_id = None  # check the keys again before the next attempt
            message = self.exporter.scrub(str(error))
            log.warning("%d trace observation(s) not exported: %s", len(sendable), message)
            await asyncio.to_thread(self._settle_failed, sendable, message, False)
            return 0
        await asyncio.to_thread(self._settle_exported, sendable, self._project_id)
        return len(sendable)

    def depth(self) -> int:
        """Observations waiting, due or not."""
        with scoped_session(self.engine, AllTenants()) as session:
            return int(session.exec(select(func.count()).select_from(TraceOutboxRow)).one())

    def _claim(self) -> list[TraceOutboxRow]:
        now = utcnow()
        with scoped_session(self.engine, AllTenants()) as session:
            query = (
                select(TraceOutboxRow)
                .where(col(TraceOutboxRow.next_attempt_at) <= now)
                .order_by(col(TraceOutboxRow.created_at), col(TraceOutboxRow.id))
                .limit(self.batch_size)
            )
            # Concurrent senders on Postgres split the work; SQLite ignores it (writers queue).
            rows = list(session.exec(query.with_for_update(skip_locked=True)))
            if rows:
                session.execute(
                    update(TraceOutboxRow)
                    .where(col(TraceOutboxRow.id).in_([row.id for row in rows]))
                    .values(next_attempt_at=now + self.lease),
                    execution_options=NO_SYNC,
                )
            session.commit()
            return rows

    def _settle_exported(self, rows: list[TraceOutboxRow], project_id: str) -> None:
        with scoped_session(self.engine, AllTenants()) as session:
            session.execute(
                delete(TraceOutboxRow).where(col(TraceOutboxRow.id).in_([row.id for row in rows])),
                execution_options=NO_SYNC,
            )
            for row in rows:
                if row.payload.get("parent_span_id") is None:  # the run's root span
                    url = trace_url(self.exporter.base_url, project_id, row.payload["trace_id"])
                    session.execute(
                        update(Run).where(col(Run.id) == row.run_id).values(trace_url=url),
                        execution_options=NO_SYNC,
                    )
            session.commit()

    def _settle_failed(self, rows: list[TraceOutboxRow], message: str, longest: bool) -> None:
        now = utcnow()
        with scoped_session(self.engine, AllTenants()) as session:
            by_attempts = sorted(rows, key=lambda row: row.attempts)
            for attempts, group in groupby(by_attempts, key=lambda row: row.attempts):
                delay = self.backoff_cap_seconds if longest else self.backoff_seconds(attempts + 1)
                session.execute(
                    update(TraceOutboxRow)
                    .where(col(TraceOutboxRow.id).in_([row.id for row in group]))
                    .values(
                        attempts=attempts + 1,
                        next_attempt_at=now + timedelta(seconds=delay),
                        last_error=message[:2000],
                    ),
                    execution_options=NO_SYNC,
                )
            session.commit()

    def backoff_seconds(self, attempts: int) -> float:
        """1 s after the first failure, then doubling, up to the cap."""
        exponent = min(max(attempts - 1, 0), 32)
        return float(min(self.backoff_base_seconds * 2**exponent, self.backoff_cap_seconds))
