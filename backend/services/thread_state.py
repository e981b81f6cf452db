"""A thread's conversation as its runs recorded it: the state (every message) and the history
(each run and the messages it added). What a run adds is `core.transcript`'s rule, the same the
worker sends the model; large payloads are read back from the object store."""

from sqlmodel import Session

from backend.services.artifacts import read_payloads
from backend.services.threads import get_thread, steps_by_run, thread_public, thread_runs
from core.models import Run, RunStatus, RunStep
from core.models.run import Usage
from core.models.thread import ThreadMessage, ThreadState, ThreadTurn
from core.objectstore import ObjectStore
from core.transcript import Entry, input_entries, step_entries


def _message(entry: Entry) -> ThreadMessage:
    return ThreadMessage(
        role=entry.role,
        content=entry.content,
        tool_calls=entry.tool_calls,
        tool_call_id=entry.tool_call_id,
        name=entry.name,
        is_error=entry.is_error,
        run_id=entry.run_id,
        step_seq=entry.step_seq,
    )


def _added_by(run: Run, steps: list[RunStep], store: ObjectStore) -> list[ThreadMessage]:
    read_payloads(store, steps)
    ended = RunStatus(run.status).is_terminal
    entries = [*input_entries(run.id, run.input), *step_entries(run.id, steps, ended=ended)]
    return [_message(entry) for entry in entries]


def _turns(session: Session, store: ObjectStore, thread_id: str) -> list[ThreadTurn]:
    runs = thread_runs(session, thread_id)
    steps = steps_by_run(session, [run.id for run in runs])
    return [
        ThreadTurn(
            run_id=run.id,
            agent_id=run.agent_id,
            version=run.version_number,
            alias=run.version_alias,
            status=RunStatus(run.status),
            rolled_back=run.rolled_back,
            usage=Usage(input_tokens=run.input_tokens, output_tokens=run.output_tokens),
            cost_usd=run.cost_usd,
            created_at=run.created_at,
            ended_at=run.ended_at,
            messages=_added_by(run, steps[run.id], store),
        )
        for run in runs
    ]


def thread_state(session: Session, store: ObjectStore, thread_id: str) -> ThreadState:
    thread = get_thread(session, thread_id)
    turns = _turns(session, store, thread.id)
    return ThreadState(
        thread_id=thread.id,
        status=thread_public(session, thread).status,
        messages=[message for turn in turns if not turn.rolled_back for message in turn.messages],
    )


def thread_history(session: Session, store: ObjectStore, thread_id: str) -> list[ThreadTurn]:
    """Every run of the thread, oldest first, rolled-back ones included (and marked)."""
    thread = get_thread(session, thread_id)
    return _turns(session, store, thread.id)
