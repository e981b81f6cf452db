"""Trace observations: what a run, a step or an approval looks like in LangFuse, as outbox
payloads (the span itself, JSON-ready) queued in the caller's transaction. Ids derive from the
run id, so a payload sent twice updates the same objects."""

import hashlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import Session

from core.models import Approval, Run, RunStatus, RunStep, StepKind, StepStatus, TraceOutboxRow
from core.models.common import utcnow
from core.settings import CommonSettings

PAYLOAD_VERSION = 1
DEFAULT_TRACE_NAME = "agent-run"
# Inputs and outputs longer than this (as JSON) are cut: a trace is for reading, the full
# payload stays with the step.
MAX_VALUE_CHARS = 64 * 1024
TRUNCATION_MARK = "...[truncated]"
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
    run: Run,
    step: RunStep,
    *,
    model_parameters: dict[str, Any] | None = None,
    model_input: Any = None,
) -> dict[str, Any]:
    """A model step as a generation, a tool step as a tool call; a child of the run's span.

    `model_parameters` (e.g. the version's temperature) are shown on the generation; without
    them, `step.input["parameters"]` is used if present. `model_input` is what the model was
    sent (the instructions and every message); without it, the step's own record.
    """
    recorded = step.input if isinstance(step.input, dict) else {}
    attributes = _trace_context(run)
    if step.kind == StepKind.model:
        attributes.update(_generation_attributes(step, recorded, model_parameters))
        if model_input is not None:
            attributes["langfuse.observation.input"] = _json(model_input)
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
        # A thread's runs are one LangFuse session: a conversation's traces group.
        **({"session.id": run.thread_id} if run.thread_id else {}),
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
