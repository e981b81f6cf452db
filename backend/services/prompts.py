"""A model step's request, resolved from the references it recorded: exactly what the provider
was sent (instructions, messages, tools, parameters), rebuilt by the rule the worker used
(`core.transcript`) from the records it used."""

from typing import Any

from sqlalchemy import and_, or_
from sqlmodel import Session, col, select

from backend.services.artifacts import read_payloads
from backend.services.threads import steps_by_run
from core.models import AgentVersion, Run, RunStep, StepKind
from core.models.agent_config import tool_description, tool_parameters
from core.objectstore import ObjectStore
from core.transcript import Entry, input_entries, instructions, step_entries, without_oldest


def _earlier_runs(session: Session, run: Run) -> list[Run]:
    """The thread's runs before this one, as the worker read them (rolled-back ones left out)."""
    if run.thread_id is None:
        return []
    before = or_(
        col(Run.created_at) < run.created_at,
        and_(col(Run.created_at) == run.created_at, col(Run.id) < run.id),
    )
    return list(
        session.exec(
            select(Run)
            .where(col(Run.thread_id) == run.thread_id, before, col(Run.rolled_back).is_(False))
            .order_by(col(Run.created_at), col(Run.id))
        )
    )


def _message(entry: Entry) -> dict[str, Any]:
    return {
        "role": entry.role,
        "content": entry.content,
        "tool_calls": entry.tool_calls,
        "tool_call_id": entry.tool_call_id,
        "name": entry.name,
        "is_error": entry.is_error,
        "run_id": entry.run_id,
        "step_seq": entry.step_seq,
    }


def model_request(
    session: Session, store: ObjectStore, run: Run, step: RunStep
) -> dict[str, Any] | None:
    """The full request of a model step that recorded its references; None for other steps
    (and model steps recorded before requests were)."""
    recorded = step.input if isinstance(step.input, dict) else {}
    prompt = recorded.get("prompt")
    if step.kind != StepKind.model or not isinstance(prompt, dict):
        return None
    version = session.get(AgentVersion, run.version_id)
    assert version is not None
    config = version.agent_config()
    earlier = _earlier_runs(session, run)
    steps = steps_by_run(session, [*(r.id for r in earlier), run.id])
    entries: list[Entry] = []
    for previous in earlier:
        entries += input_entries(previous.id, previous.input)
        entries += step_entries(previous.id, read_payloads(store, steps[previous.id]), ended=True)
    before = [s for s in steps[run.id] if s.seq <= int(prompt.get("steps_before", 0))]
    entries += input_entries(run.id, run.input)
    entries += step_entries(run.id, read_payloads(store, before), ended=False)
    system_prompt = instructions(config.system_prompt, dict(run.context or {}), entries)
    entries = without_oldest(entries, int(prompt.get("dropped", 0)))
    return {
        "provider": config.model.provider,
        "model": config.model.name,
        "system_prompt": system_prompt,
        "dropped": int(prompt.get("dropped", 0)),
        "messages": [_message(entry) for entry in entries if entry.role != "system"],
        "tools": [
            {"name": t.name, "description": tool_description(t), "parameters": tool_parameters(t)}
            for t in config.callable_tools()
        ],
        "parameters": config.model.parameters.model_dump(mode="json", exclude={"script"}),
    }
