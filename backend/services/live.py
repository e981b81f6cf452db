"""Publishing run events from a request handler's thread."""

import logging

from anyio import from_thread
from fastapi import Request

from core.events import EventLog, NewEvent

log = logging.getLogger("agent_runtime.api")


def publish(request: Request, tenant_id: str, run_id: str, events: list[NewEvent]) -> None:
    """Record the run's events (numbered by the database) and tell its followers. The request's
    own rows say what happened, so a failure is logged, not raised."""
    if not events:
        return
    event_log: EventLog = request.app.state.event_log
    try:
        from_thread.run(event_log.append, tenant_id, run_id, events)
    except Exception:  # an unreachable event store must not fail the request
        log.warning("could not publish %d event(s) of run %s", len(events), run_id)


def forget(request: Request, run_ids: list[str]) -> None:
    """Drop the live copies of deleted runs' events (the database's went with the runs)."""
    event_log: EventLog = request.app.state.event_log
    try:
        from_thread.run(event_log.forget, run_ids)
    except Exception:  # an unreachable event store must not fail the request
        log.warning("could not drop the live events of %d deleted run(s)", len(run_ids))
