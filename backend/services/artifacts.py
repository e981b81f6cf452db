"""Artifacts a run saved, and step payloads kept in the object store, read back for callers."""

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlmodel import Session, col, select

from backend.errors import ApiError, not_found
from backend.pagination import Page, PageParams, paginate
from backend.services.runs import get_run
from core.models import Artifact, ArtifactPublic, RunStep, StepPublic
from core.objectstore import ObjectNotFoundError, ObjectStore, ObjectStoreError

PAYLOAD_FIELDS = ("input", "output")


def list_artifacts(session: Session, run_id: str, params: PageParams) -> Page[ArtifactPublic]:
    run = get_run(session, run_id)
    statement = select(Artifact).where(Artifact.run_id == run.id)
    return paginate(
        session,
        statement,
        col(Artifact.name),
        params,
        ArtifactPublic.of,
        lambda a: a.name,
        descending=False,
    )


def get_artifact(session: Session, run_id: str, name: str) -> Artifact:
    run = get_run(session, run_id)
    artifact = session.exec(
        select(Artifact).where(Artifact.run_id == run.id, Artifact.name == name)
    ).first()
    if artifact is None:
        raise not_found("artifact", name)
    return artifact


@contextmanager
def _storage(what: str) -> Iterator[None]:
    """A store that lost the object, or cannot be reached, answers as an API error."""
    try:
        yield
    except ObjectNotFoundError:
        raise ApiError(404, "not_found", f"the content of {what} is missing from storage") from None
    except ObjectStoreError as exc:
        raise ApiError(503, "storage_unavailable", str(exc)) from None


def open_object(store: ObjectStore, key: str, what: str) -> Iterator[bytes]:
    """A download's chunks; a missing object fails now, before the response starts."""
    with _storage(what):
        return store.stream(key)


def get_step(session: Session, run_id: str, seq: int) -> RunStep:
    run = get_run(session, run_id)
    step = session.exec(select(RunStep).where(RunStep.run_id == run.id, RunStep.seq == seq)).first()
    if step is None:
        raise not_found("step", seq)
    return step


def resolved_step(store: ObjectStore, step: RunStep) -> StepPublic:
    """The step with its offloaded payloads read back in."""
    public = StepPublic.of(step)
    for field in PAYLOAD_FIELDS:
        key = getattr(step, f"{field}_ref")
        if key:
            setattr(public, field, _load(store, key, f"step {step.seq}'s {field}"))
    return public


def read_payloads(store: ObjectStore, steps: list[RunStep]) -> list[RunStep]:
    """The steps with the payloads kept in the object store read back in: for rows no
    session writes again (detached)."""
    for step in steps:
        if step.input_ref or step.output_ref:
            public = resolved_step(store, step)
            step.input, step.output = public.input, public.output
    return steps


def _load(store: ObjectStore, key: str, what: str) -> Any:
    with _storage(what):
        return json.loads(store.get(key))


def payload_chunks(store: ObjectStore, step: RunStep, field: str) -> Iterator[bytes]:
    """A step's input or output as JSON, streamed from storage when it was offloaded."""
    key = getattr(step, f"{field}_ref")
    if key:
        return open_object(store, key, f"step {step.seq}'s {field}")
    return iter([json.dumps(getattr(step, field), ensure_ascii=False).encode()])
