"""The run page's rows from the client's run fold: the REST record while it is current, the
events' word where they are ahead of it. No browser, no Reflex."""

from datetime import UTC, datetime

from app.view.run_rows import approval_row, step_row
from client.run_state import RunState
from tests.test_run_state import RUN, completed, delta, requested, rest_step, started


def test_a_step_shows_its_current_record() -> None:
    state = RunState()
    state.seed(steps=[rest_step(1)])
    row = step_row(state.steps[1])
    assert (row.status, row.text, row.summary, row.duration) == (
        "succeeded",
        "Hello there.",
        "Hello there.",
        "1.5 s",
    )


def test_a_step_that_ended_since_its_record_shows_what_its_end_said() -> None:
    state = RunState()
    state.seed(steps=[rest_step(1, "running")])
    state.apply(delta(1, "Hello"))
    assert step_row(state.steps[1]).summary == ""  # the record is current: as REST lists it
    state.apply(completed(1, summary="Hello there.", duration_ms=2000))
    row = step_row(state.steps[1])
    assert (row.status, row.text, row.summary, row.duration) == (
        "succeeded",
        "Hello",  # what streamed: the record has no text yet
        "Hello there.",
        "2.0 s",
    )
    assert row.tokens == "15 (10 in / 5 out)"


def test_a_running_step_says_so_and_a_retry_says_retrying() -> None:
    state = RunState()
    state.apply(started(1))
    assert step_row(state.steps[1]).summary == "running…"
    state.apply(delta(1, "partial"))
    state.apply(started(1, attempt=2))
    row = step_row(state.steps[1])
    assert (row.attempt, row.summary, row.text) == (2, "retrying…", "")


def test_an_approval_only_the_events_know_of_is_pending() -> None:
    state = RunState()
    state.apply({**requested(), "id": 3, "at": "2026-01-01T00:00:04Z"})
    row = approval_row(state.approvals["apr_1"], {}, None)
    assert (row.id, row.run_id, row.step_seq, row.tool_name, row.status) == (
        "apr_1",
        RUN,
        2,
        "calculator",
        "pending",
    )
    assert row.arguments == '{\n  "expression": "6*7"\n}'
    assert row.requested == "2026-01-01 00:00:04"


CANCELLED = {"code": "cancelled", "message": "the run was cancelled"}


def test_a_cancelled_step_shows_cancelled_its_duration_and_its_message_once() -> None:
    state = RunState()
    state.seed(steps=[rest_step(1, "cancelled", error=CANCELLED, ended_at="2026-01-01T00:00:05Z")])
    row = step_row(state.steps[1])
    assert (row.status, row.duration, row.error) == (
        "cancelled",
        "3.0 s",
        "cancelled: the run was cancelled",
    )
    assert row.summary == ""  # the error's callout says it: not the summary too


def test_a_step_the_events_ended_cancelled_says_its_message_once() -> None:
    state = RunState()
    state.apply(started(1))
    state.apply(
        completed(
            1, "cancelled", error=CANCELLED, summary="the run was cancelled", duration_ms=2500
        )
    )
    row = step_row(state.steps[1])
    assert (row.status, row.duration, row.summary) == ("cancelled", "2.5 s", "")
    assert row.error == "cancelled: the run was cancelled"


def test_a_running_step_shows_how_long_it_has_run_until_now() -> None:
    state = RunState()
    state.seed(steps=[rest_step(1, "running", ended_at=None)])
    assert step_row(state.steps[1]).duration == "—"  # no clock given: not known
    later = step_row(state.steps[1], datetime(2026, 1, 1, 0, 0, 9, tzinfo=UTC))
    assert later.duration == "7.0 s"
    before = step_row(state.steps[1], datetime(2026, 1, 1, 0, 0, 1, tzinfo=UTC))
    assert before.duration == "0 ms"  # a clock behind the step's start: never negative
