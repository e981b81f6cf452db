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

from worker.tracing.exporter import ExportError, LangfuseExporter, to_span
from worker.tracing.observations import (
    MAX_VALUE_CHARS,
    TRUNCATION_MARK,
    approval_payload,
    enqueue,
    root_span_id,
    run_trace_payload,
    span_id_for,
    step_payload,
    trace_id_for,
    trace_url,
    tracing_enabled,
)
from worker.tracing.outbox import OutboxSender

__all__ = [
    "MAX_VALUE_CHARS",
    "TRUNCATION_MARK",
    "ExportError",
    "LangfuseExporter",
    "OutboxSender",
    "approval_payload",
    "enqueue",
    "root_span_id",
    "run_trace_payload",
    "span_id_for",
    "step_payload",
    "to_span",
    "trace_id_for",
    "trace_url",
    "tracing_enabled",
]
