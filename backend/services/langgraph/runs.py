"""Runs for LangGraph clients: a LangGraph run request as one of our thread runs, a `Command`
resuming an interrupt as the decision on the waiting approval, and the run lists.

A resumed run keeps its id: LangGraph starts a new run to resume a graph, while our run waits
for the decision and goes on, so the run a `Command` answers is the one that was interrupted.
"""

from dataclasses import dataclass
from typing import Any, TypeVar

from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError
from sqlmodel import Session, col, select

from backend.errors import conflict, invalid, not_found
from backend.services import approvals
from backend.services.langgraph.messages import run_input
from backend.services.langgraph.models import RunRequest
from backend.services.langgraph.state import pending_approvals
from backend.services.langgraph.vocabulary import RUN_STATUSES
from backend.services.runs import get_run
from backend.services.threads import get_thread
from core.events import NewEvent
from core.models import Approval, ApprovalDecide, Run, RunStatus, ThreadRunCreate

# Our run request's fields by the LangGraph field they come from, for errors that name it.
FIELDS = {
    "agent": "assistant_id",
    "version": "config.configurable.version",
    "input": "input.messages",
    "context": "context",
    "metadata": "metadata",
    "multitask_strategy": "multitask_strategy",
    "webhook": "webhook",
}
ModelT = TypeVar("ModelT", bound=BaseModel)
UNSUPPORTED = {
    "interrupt_before": "agents wait only where their approval policy says",
    "interrupt_after": "agents wait only where their approval policy says",
    "checkpoint": "runs continue the thread's latest state",
    "checkpoint_id": "runs continue the thread's latest state",
}


def configured_version(config: dict[str, Any] | None) -> Any:
    configurable = (config or {}).get("configurable") or {}
    if not isinstance(configurable, dict):
        raise invalid("config.configurable", "body", "an object")
    return configurable.get("version", "latest")


def refuse_unsupported(body: RunRequest) -> None:
    for name, why in UNSUPPORTED.items():
        if getattr(body, name) not in (None, [], {}):
            raise invalid(name, "body", f"not supported: {why}")
    if body.command is not None and (body.command.update is not None or body.command.goto):
        field = "command.update" if body.command.update is not None else "command.goto"
        raise invalid(field, "body", "not supported: a command may only `resume`")


def thread_run(body: RunRequest) -> ThreadRunCreate:
    """The run to add to the thread; errors name the LangGraph field."""
    refuse_unsupported(body)
    if body.input is None:
        raise invalid("input", "body", 'a run needs input ({"messages": [...]}) or a command')
    fields: dict[str, Any] = {
        "agent": body.assistant_id,
        "version": configured_version(body.config),
        "input": run_input(body.input),
        "context": body.context or {},
        "metadata": body.metadata or {},
    }
    if body.multitask_strategy is not None:
        fields["multitask_strategy"] = body.multitask_strategy
    if body.webhook is not None:
        fields["webhook"] = body.webhook
    return validated_as(ThreadRunCreate, fields, FIELDS)


def validated_as(model: type[ModelT], fields: dict[str, Any], names: dict[str, str]) -> ModelT:
    """`fields` as our `model`; a validation error names the LangGraph field (`names` maps
    ours to theirs) it came from."""
    try:
        return model.model_validate(fields)
    except ValidationError as exc:
        errors = []
        for error in exc.errors():
            where = tuple(error.get("loc", ()))
            named = names.get(str(where[0]), str(where[0])) if where else "body"
            errors.append({**error, "loc": ("body", *named.split("."), *where[1:])})
        raise RequestValidationError(errors) from None


@dataclass
class Resumed:
    """The interrupted run a command resumes, the decision, and where its stream resumes."""

    run: Run
    approval: Approval
    events: list[NewEvent]
    after_event: int


def _decisions(resume: Any, waiting: list[Approval]) -> tuple[Approval, ApprovalDecide]:
    """`resume` is a decision, or decisions by interrupt (approval) id."""
    by_id = {approval.id: approval for approval in waiting}
    if isinstance(resume, dict) and resume and set(resume) <= set(by_id):
        if len(resume) > 1:
            raise invalid("command.resume", "body", "decide one interrupt per command")
        ((approval_id, decision),) = resume.items()
        chosen, raw, field = by_id[approval_id], decision, f"command.resume.{approval_id}"
    else:
        chosen, raw, field = waiting[0], resume, "command.resume"
    if isinstance(raw, str):
        raw = {"decision": raw}
    try:
        return chosen, ApprovalDecide.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        path = ".".join([field, *(str(part) for part in first.get("loc", ()))])
        message = str(first.get("msg", "invalid")).removeprefix("Value error, ")
        raise invalid(
            path, "body", f'{message} (a decision: {{"decision": "approve" | "reject"}})'
        ) from None


def resume(
    session: Session, thread_id: str, body: RunRequest, decided_by: str, decided_by_name: str | None
) -> Resumed:
    """Decide the approval the thread's run waits for, as `command.resume` says."""
    refuse_unsupported(body)
    assert body.command is not None
    if body.input is not None:
        raise invalid("input", "body", "a run takes input or a command, not both")
    thread = get_thread(session, thread_id)
    waiting_runs = session.exec(
        select(Run).where(Run.thread_id == thread.id, Run.status == RunStatus.awaiting_approval)
    ).all()
    waiting = pending_approvals(session, [run.id for run in waiting_runs])
    if not waiting:
        raise conflict("thread_not_interrupted", "no interrupt of this thread waits for a resume")
    approval, decision = _decisions(body.command.resume, waiting)
    run = get_run(session, approval.run_id)
    after_event = run.event_count
    decided, events = approvals.decide(
        session, run.id, approval.id, decision, decided_by, decided_by_name
    )
    session.refresh(run)
    return Resumed(run, decided, events, after_event)


def thread_run_of(session: Session, thread_id: str, run_id: str) -> Run:
    """The run, if it is on that thread of the caller's tenant."""
    thread = get_thread(session, thread_id)
    run = get_run(session, run_id)
    if run.thread_id != thread.id:
        raise not_found("run", run_id)
    return run


def list_runs(
    session: Session, thread_id: str, limit: int, offset: int, status: str | None
) -> list[Run]:
    """The thread's runs, newest first; `status` in LangGraph's words."""
    thread = get_thread(session, thread_id)
    statement = select(Run).where(Run.thread_id == thread.id)
    if status is not None:
        ours = [s.value for s, theirs in RUN_STATUSES.items() if theirs == status]
        if not ours:
            raise invalid(
                "status", "query", "one of " + ", ".join(sorted(set(RUN_STATUSES.values())))
            )
        statement = statement.where(col(Run.status).in_(ours))
    order = (col(Run.created_at).desc(), col(Run.id).desc())
    return list(session.exec(statement.order_by(*order).offset(offset).limit(limit)))


def mark_rolled_back(session: Session, run: Run) -> None:
    """A run cancelled with `action: rollback`: its messages leave the conversation."""
    if not RunStatus(run.status).is_terminal:
        run.rolled_back = True
        session.add(run)
        session.commit()
