"""Metrics (Prometheus) and structured logs shared by the API and the worker.

Each process has its own registry of these series; Prometheus adds them up across processes.
Log lines carry the run and tenant they concern, taken from context variables each worker
activity sets. They are JSON for log collectors (files, pipes, containers), and plain text when
the log stream is a terminal a person reads; LOG_FORMAT=json|text overrides that choice.
"""

import json
import logging
from contextvars import ContextVar
from typing import Any, TextIO

from prometheus_client import Counter, Gauge, Histogram
from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter

RUNS_STARTED = Counter("agent_runtime_runs_started_total", "Runs accepted by the API.")
RUNS_FINISHED = Counter(
    "agent_runtime_runs_finished_total", "Runs that reached an ending.", ["status"]
)
STEP_SECONDS = Histogram(
    "agent_runtime_step_duration_seconds",
    "Duration of agent steps.",
    ["kind", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
)
EVENT_LAG_SECONDS = Histogram(
    "agent_runtime_event_lag_seconds",
    "From an event's publication to its delivery to an SSE client.",
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5),
)
OUTBOX_DEPTH = Gauge(
    "agent_runtime_trace_outbox_depth", "Observations waiting to be exported to LangFuse."
)

run_id_var: ContextVar[str | None] = ContextVar("run_id", default=None)
tenant_id_var: ContextVar[str | None] = ContextVar("tenant_id", default=None)


class _ContextFilter(logging.Filter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def filter(self, record: logging.LogRecord) -> bool:
        record.service = self.service
        record.run_id = getattr(record, "run_id", None) or run_id_var.get()
        record.tenant_id = getattr(record, "tenant_id", None) or tenant_id_var.get()
        return True


# The context every line carries, in the order a text line shows it.
CONTEXT_FIELDS = ("run_id", "tenant_id", "service")
# uvicorn's copy of the message with colour codes: the message itself is already on the line.
_NOT_SHOWN_IN_TEXT = frozenset({"color_message", "taskName"})


class TextFormatter(logging.Formatter):
    """`time LEVEL logger  message  run_id=... tenant_id=... service=...`, then any traceback.

    The same fields as the JSON lines: the context, and whatever a call passed as `extra`."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s  %(message)s")

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802  (logging's name)
        fields = [f"{name}={_shown(getattr(record, name))}" for name in _fields_of(record)]
        line = super().formatMessage(record)
        return f"{line}  {' '.join(fields)}" if fields else line


def _fields_of(record: logging.LogRecord) -> list[str]:
    context = [name for name in CONTEXT_FIELDS if getattr(record, name, None) is not None]
    extra = [
        name
        for name, value in vars(record).items()
        if name not in RESERVED_ATTRS
        and name not in CONTEXT_FIELDS
        and name not in _NOT_SHOWN_IN_TEXT
        and value is not None
    ]
    return context + extra


def _shown(value: Any) -> str:
    # str(), as the JSON lines encode what is not JSON: a SecretStr stays masked.
    text = str(value)
    return json.dumps(text) if not text or any(c.isspace() or c in '"=' for c in text) else text


def is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError, OSError):  # no such method, or a closed stream
        return False


def configure_logging(
    service: str,
    log_format: str | None = None,
    level: int = logging.INFO,
    stream: TextIO | None = None,
) -> None:
    """One handler on the root logger (on `stream`, stderr by default), whose lines carry
    service, run_id and tenant_id: JSON, or text on a terminal, unless `log_format` says."""
    handler = logging.StreamHandler(stream)
    handler.addFilter(_ContextFilter(service))
    if log_format is None:
        log_format = "text" if is_terminal(handler.stream) else "json"
    if log_format == "text":
        handler.setFormatter(TextFormatter())
    else:
        handler.setFormatter(
            JsonFormatter(
                "%(asctime)s %(levelname)s %(name)s %(message)s %(service)s %(run_id)s "
                "%(tenant_id)s",
                rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
                timestamp=False,
            )
        )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        # uvicorn's own handlers print plain text: let its records reach ours instead.
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
    # httpx logs every request's full URL at INFO: a webhook's or tool's URL may carry a token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
