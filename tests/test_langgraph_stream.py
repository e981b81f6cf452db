"""The fold behind the LangGraph stream modes, fed our run events directly: retried model calls
never send text twice, a superseded attempt's record is not taken for the step, and the parts
each mode asks for are the only ones sent."""

from typing import Any

from backend.services.langgraph.stream import StreamSubject, Translator
from core.events import RunEvent
from core.models import RunStep, StepKind, StepStatus

RUN = "run_1"


def translator(*modes: str) -> Translator:
    subject = StreamSubject(RUN, "thr_1", "agt_1", frozenset(modes))
    human = {"type": "human", "content": "hi", "id": f"{RUN}-input-0"}
    return Translator(subject, earlier=[], inputs=[human])


def event(number: int, kind: str, **data: Any) -> RunEvent:
    return RunEvent(number, RUN, kind, "2026-12-03T00:00:00Z", data)


def model_step(text: str, attempt: int = 1) -> RunStep:
    return RunStep(
        run_id=RUN,
        seq=1,
        kind=StepKind.model,
        name="demo",
        status=StepStatus.succeeded,
        attempt=attempt,
        input={},
        output={"text": text, "tool_calls": []},
        input_tokens=3,
        output_tokens=2,
    )


def streamed(parts: list[tuple[str, Any]]) -> str:
    return "".join(data[0]["content"] for name, data in parts if name == "messages")


def test_a_retry_streams_only_what_the_failed_attempt_did_not() -> None:
    fold = translator("messages-tuple")
    parts = []
    deltas = [(1, "Hel"), (1, "lo wo"), (2, "Hello"), (2, " wo"), (2, "rld")]
    for number, (attempt, text) in enumerate(deltas, start=1):
        parts += fold.apply(event(number, "model.delta", seq=1, attempt=attempt, text=text))
    completed = event(9, "step.completed", seq=1, attempt=2, status="succeeded")
    parts += fold.apply(completed, model_step("Hello world", attempt=2))
    assert streamed(parts) == "Hello world"
    final = [data[0] for name, data in parts if name == "messages"][-1]
    assert (final["usage_metadata"]["total_tokens"], final["id"]) == (5, f"{RUN}-1")


def test_a_retry_that_answers_differently_streams_nothing_more_than_its_start() -> None:
    fold = translator("messages-tuple", "values")
    parts = fold.apply(event(1, "model.delta", seq=1, attempt=1, text="Goodbye"))
    parts += fold.apply(event(2, "model.delta", seq=1, attempt=2, text="Hello"))
    parts += fold.apply(
        event(3, "step.completed", seq=1, attempt=2, status="succeeded"),
        model_step("Hello there", attempt=2),
    )
    assert streamed(parts) == "Goodbye"  # what was sent cannot be taken back...
    values = [data for name, data in parts if name == "values"][-1]
    assert values["messages"][-1]["content"] == "Hello there"  # ...the state is right


def test_a_superseded_attempts_record_is_not_the_step() -> None:
    fold = translator("updates")
    failed = event(1, "step.completed", seq=1, attempt=1, status="failed")
    # The record read back is already the retry's: it is not attempt 1's ending.
    assert fold.apply(failed, model_step("late", attempt=2)) == []
    done = event(2, "step.completed", seq=1, attempt=2, status="succeeded")
    (update,) = fold.apply(done, model_step("late", attempt=2))
    assert update[0] == "updates"
    assert update[1]["model"]["messages"][0]["content"] == "late"


def test_only_the_modes_asked_for_and_the_stream_events_are_sent() -> None:
    fold = translator("values")
    assert [name for name, _ in fold.prelude()] == ["metadata", "values"]
    parts = fold.apply(event(1, "model.delta", seq=1, attempt=1, text="x"))
    assert parts == []
    ended = fold.apply(
        event(2, "run.completed", status="failed", error={"code": "boom", "message": "it broke"})
    )
    assert [name for name, _ in ended] == ["error"]  # nothing new to show, no end after it
    assert ended[-1][1] == {"error": "boom", "message": "it broke"}
    custom = translator("custom").apply(event(1, "run.status", status="running"))
    assert custom == [
        (
            "custom",
            {
                "id": 1,
                "run_id": RUN,
                "type": "run.status",
                "at": "2026-12-03T00:00:00Z",
                "status": "running",
            },
        )
    ]
