"""Metrics (Prometheus) and structured logs shared by the API and the worker.

Each process has its own registry of these series; Prometheus adds them up across processes.
Log lines are JSON (unless LOG_FORMAT=text) and carry the run and tenant they concern, taken
from context variables each worker activity sets.
"""

import logging
from contextvars import ContextVar

from prometheus_client import Counter, Gauge, Histogram
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


def configure_logging(service: str, log_format: str = "json", level: int = logging.INFO) -> None:
    """One handler on the root logger: JSON lines with service, run_id and tenant_id."""
    handler = logging.StreamHandler()
    handler.addFilter(_ContextFilter(service))
    if log_format == "text":
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
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
