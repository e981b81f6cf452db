"""Our words in LangGraph's: run statuses, and a run as LangGraph's `Run`."""

from datetime import datetime
from typing import Any

from core.models import Run, RunStatus

# A run of ours as LangGraph reports runs. A run waiting for an approval is `interrupted`
# (a Command resumes it); a cancelled one is `interrupted` too, as LangGraph's cancel leaves it.
RUN_STATUSES: dict[RunStatus, str] = {
    RunStatus.queued: "pending",
    RunStatus.running: "running",
    RunStatus.cancelling: "running",
    RunStatus.awaiting_approval: "interrupted",
    RunStatus.succeeded: "success",
    RunStatus.failed: "error",
    RunStatus.cancelled: "interrupted",
    RunStatus.timed_out: "timeout",
}


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def run_status(run: Run) -> str:
    return RUN_STATUSES[RunStatus(run.status)]


def run_shape(run: Run) -> dict[str, Any]:
    """A run as LangGraph's `Run`. `multitask_strategy` is not kept on our runs: null."""
    return {
        "run_id": run.id,
        "thread_id": run.thread_id,
        "assistant_id": run.agent_id,
        "created_at": iso(run.created_at),
        "updated_at": iso(run.ended_at or run.started_at or run.created_at),
        "status": run_status(run),
        "metadata": dict(run.meta or {}),
        "multitask_strategy": None,
        "kwargs": {"version": run.version_number},
    }
