"""The run-event fold the CLI, notebooks and workbench share, fed events as the stream sends."""

from typing import Any

from client.run_state import APPROVAL, OUTCOME, STATUS, STEPS, TEXT, RunState

RUN = "run_1"
AT = "2026-01-01T00:00:0{}Z"


def started(seq: int, attempt: int = 1, kind: str = "model", name: str = "m") -> dict[str, Any]:
    return {"type": "step.started", "seq": seq, "kind": kind, "name": name, "attempt": attempt}


def delta(seq: int, text: str, attempt: int = 1) -> dict[str, Any]:
    return {"type": "model.delta", "seq": seq, "attempt": attempt, "text": text}


def completed(seq: int, status: str = "succeeded", **fields: Any) -> dict[str, Any]:
    return {
        "type": "step.completed",
        "seq": seq,
        "kind": "model",
        "name": "m",
        "status": status,
        "attempt": 1,
        "usage": {"input_tokens": 10, "output_tokens": 5},
        "cost_usd": 0.25,
        "duration_ms": 812.4,
        "summary": "calls calculator",
        "error": None,
        **fields,
    }


def requested(approval_id: str = "apr_1") -> dict[str, Any]:
    return {
        "type": "approval.requested",
        "run_id": RUN,
        "approval_id": approval_id,
        "seq": 2,
        "tool_name": "calculator",
        "arguments": {"expression": "6*7"},
        "expires_at": "2026-01-02T00:00:00Z",
    }


def decided(status: str = "approved", approval_id: str = "apr_1") -> dict[str, Any]:
    return {
        "type": "approval.decided",
        "approval_id": approval_id,
        "seq": 2,
        "status": status,
        "decided_by": "key:ci",
        "decided_by_name": "CI bot",
        "comment": "fine",
        "arguments": {"expression": "6*8"},
    }


def run_completed(status: str = "succeeded") -> dict[str, Any]:
    return {
        "type": "run.completed",
        "status": status,
        "output": "42",
        "error": None,
        "usage": {"input_tokens": 100, "output_tokens": 50},
        "cost_usd": 1.5,
        "at": AT.format(9),
    }


def numbered(*events: dict[str, Any]) -> list[dict[str, Any]]:
    """Events as the stream delivers them: ids 1, 2, 3, ..., the run's id, a time."""
    return [
        {"id": number, "run_id": RUN, "at": AT.format(min(number, 8)), **event}
        for number, event in enumerate(events, start=1)
    ]


def folded(*events: dict[str, Any], state: RunState | None = None) -> RunState:
    state = state or RunState()
    for event in events:
        state.apply(event)
    return state


# Steps and streamed text


def test_steps_are_kept_by_seq_with_what_their_end_says() -> None:
    state = folded(*numbered(started(2, kind="tool", name="calculator"), started(1), completed(1)))
    assert [step.seq for step in state.step_list()] == [1, 2]
    model, tool = state.step_list()
    assert (model.status, model.input_tokens, model.output_tokens) == ("succeeded", 10, 5)
    assert (model.cost_usd, model.duration_ms, model.summary) == (0.25, 812.4, "calls calculator")
    assert (model.started_at, model.ended_at) == (AT.format(2), AT.format(3))
    assert (tool.kind, tool.name, tool.status) == ("tool", "calculator", "running")


def test_a_step_ending_unseen_is_still_shown() -> None:
    step = folded(completed(3, status="failed", error={"message": "boom"})).steps[3]
    assert (step.kind, step.status, step.error) == ("model", "failed", {"message": "boom"})


def test_streamed_text_grows_per_step_and_reads_step_after_step() -> None:
    state = RunState()
    state.apply(started(1))
    change = state.apply(delta(1, "Hello "))
    assert change.parts == {TEXT}
    assert (change.text, change.step) == ("Hello ", state.steps[1])
    folded(delta(1, "there."), completed(1), started(3), delta(3, "Bye."), state=state)
    assert state.steps[1].text == "Hello there."
    assert state.text == "Hello there.\n\nBye."
    assert state.streaming is state.steps[3]  # the model step running now


def test_a_retry_drops_the_failed_attempts_partial_text() -> None:
    state = folded(started(1), delta(1, "Half an ans"))
    change = state.apply(started(1, attempt=2))
    assert change.parts == {STEPS, TEXT}
    assert state.text == ""
    assert not state.apply(delta(1, "wer", attempt=1))  # late text of the superseded attempt
    state.apply(delta(1, "A whole answer.", attempt=2))
    assert state.text == "A whole answer."
    assert (state.steps[1].attempt, state.steps[1].status) == (2, "running")


def test_text_of_an_attempt_whose_start_was_not_seen_starts_that_attempt() -> None:
    state = folded(started(1), delta(1, "old"))
    change = state.apply(delta(1, "new", attempt=2))
    assert change.parts == {STEPS, TEXT}
    assert (state.steps[1].attempt, state.steps[1].text, state.steps[1].name) == (2, "new", "m")


def test_a_repeated_or_older_event_id_changes_nothing() -> None:
    state = RunState(keep_events=True)
    events = numbered(started(1), delta(1, "once"))
    folded(*events, state=state)
    assert state.last_event_id == 2
    assert not state.apply(events[1])  # a stream followed again from the start
    assert not state.apply(events[0])
    assert state.text == "once"
    assert [event["id"] for event in state.events] == [1, 2]
    assert state.apply(delta(1, " more"))  # events without an id are folded in as they come
    assert state.text == "once more"


def test_an_event_of_another_type_changes_nothing() -> None:
    assert not RunState().apply({"type": "something.new", "id": 1})


# Approvals


def test_an_approval_is_pending_until_decided() -> None:
    state = RunState()
    change = state.apply(numbered(requested())[0])
    assert change.parts == {APPROVAL}
    pending = state.pending_approval
    assert pending is not None
    assert pending is change.approval
    assert (pending.id, pending.run_id, pending.seq, pending.tool_name) == (
        "apr_1",
        RUN,
        2,
        "calculator",
    )
    assert (pending.arguments, pending.expires_at) == (
        {"expression": "6*7"},
        "2026-01-02T00:00:00Z",
    )

    state.apply(decided())
    assert state.pending == []
    approval = state.approvals["apr_1"]
    assert (approval.status, approval.decided_by, approval.comment) == (
        "approved",
        "key:ci",
        "fine",
    )
    assert approval.decided_by_name == "CI bot"
    assert approval.edited_arguments == {"expression": "6*8"}


def test_a_decision_whose_request_was_not_seen_is_kept() -> None:
    approval = folded(decided("expired")).approvals["apr_1"]
    assert (approval.seq, approval.status) == (2, "expired")


def test_nothing_is_pending_once_the_run_has_ended() -> None:
    state = folded(requested(), run_completed("cancelled"))
    assert state.pending_approval is None


# The ending and the totals


def test_the_ending_carries_status_output_and_the_runs_totals() -> None:
    state = folded(*numbered({"type": "run.status", "status": "running"}, started(1), completed(1)))
    assert (state.status, state.started_at, state.finished) == ("running", AT.format(1), False)
    assert (state.usage, state.cost_usd) == ({"input_tokens": 10, "output_tokens": 5}, 0.25)

    change = state.apply(run_completed())
    assert change.parts == {STATUS, APPROVAL, OUTCOME}
    assert state.finished
    assert state.ended_at == AT.format(9)
    assert state.outcome() == {
        "status": "succeeded",
        "output": "42",
        "error": None,
        "usage": {"input_tokens": 100, "output_tokens": 50},
        "cost_usd": 1.5,
    }


def test_a_status_after_the_ending_changes_nothing() -> None:
    state = folded(run_completed("failed"))
    assert not state.apply({"type": "run.status", "status": "running"})
    assert state.status == "failed"


# A REST snapshot, and events replayed over it


def rest_run(status: str = "running", **fields: Any) -> dict[str, Any]:
    return {
        "id": RUN,
        "agent_id": "agt_1",
        "version": 1,
        "status": status,
        "output": None,
        "error": None,
        "usage": {"input_tokens": 0, "output_tokens": 0},
        "cost_usd": 0.0,
        "created_at": AT.format(0),
        "started_at": AT.format(1),
        "ended_at": None,
        **fields,
    }


def rest_step(seq: int, status: str = "succeeded", **fields: Any) -> dict[str, Any]:
    return {
        "seq": seq,
        "kind": "model",
        "name": "m",
        "status": status,
        "attempt": 1,
        "input": None,
        "output": {"text": "Hello there."} if status == "succeeded" else None,
        "usage": {"input_tokens": 10, "output_tokens": 5},
        "cost_usd": 0.25,
        "error": None,
        "started_at": "2026-01-01T00:00:02Z",
        "ended_at": "2026-01-01T00:00:03.5Z" if status != "running" else None,
        **fields,
    }


def rest_approval(status: str = "approved") -> dict[str, Any]:
    return {
        "id": "apr_1",
        "run_id": RUN,
        "agent_id": "agt_1",
        "step_seq": 2,
        "tool_name": "calculator",
        "arguments": {"expression": "6*7"},
        "status": status,
        "requested_at": AT.format(4),
        "expires_at": None,
        "decided_by": "key:ci",
        "decided_at": AT.format(5),
        "comment": None,
        "edited_arguments": None,
    }


def test_a_snapshot_seeds_the_run_its_steps_and_approvals() -> None:
    state = RunState()
    state.seed(rest_run(), [rest_step(1), rest_step(2, "running")], [rest_approval("pending")])
    assert (state.run_id, state.status, state.finished) == (RUN, "running", False)
    assert (state.created_at, state.started_at) == (AT.format(0), AT.format(1))
    first, second = state.step_list()
    assert (first.status, first.duration_ms, first.input_tokens) == ("succeeded", 1500.0, 10)
    assert second.status == "running"
    assert state.pending_approval is not None
    assert state.pending_approval.tool_name == "calculator"
    assert not state.snapshot_is_behind


def test_events_replayed_over_a_snapshot_do_not_undo_it() -> None:
    state = RunState()
    state.seed(rest_run(), [rest_step(1), rest_step(2, "running")], [rest_approval()])
    folded(*numbered(started(1), delta(1, "Hello there."), started(2), requested()), state=state)
    assert state.steps[1].status == "succeeded"
    assert state.steps[1].text == "Hello there."  # the stream's text, rebuilt
    assert state.approvals["apr_1"].status == "approved"
    assert not state.snapshot_is_behind


def behind(state: RunState) -> bool:
    return state.snapshot_is_behind


def test_the_snapshot_is_behind_once_events_tell_of_more() -> None:
    state = RunState()
    state.seed(rest_run(), [rest_step(1, "running")])
    folded(delta(1, "so far"), completed(1), state=state)
    assert behind(state)  # the step has ended: its record does not say so yet
    record = state.steps[1].as_record()
    assert (record["status"], record["usage"], record["kind"]) == (
        "succeeded",
        {"input_tokens": 10, "output_tokens": 5},
        "model",
    )

    state.seed(steps=[rest_step(1)])
    assert not behind(state)
    assert state.steps[1].text == "so far"  # what this attempt streamed stays
    state.apply(requested("apr_2"))
    assert behind(state)  # an approval only the events know of


def test_a_snapshot_of_an_ended_run_is_its_ending() -> None:
    state = RunState()
    ended = rest_run("succeeded", output="42", ended_at=AT.format(9), cost_usd=1.5)
    state.seed(ended, [rest_step(1)])
    assert state.finished
    assert (state.outcome()["output"], state.cost_usd) == ("42", 1.5)
    state.seed(rest_run("cancelling"))  # an older answer, e.g. to a cancel
    assert (state.status, state.finished) == ("succeeded", True)


def test_a_decision_answered_by_rest_is_seeded_before_its_event() -> None:
    state = folded(requested())
    state.seed(approvals=[rest_approval("rejected")])
    assert state.pending == []
    assert state.approvals["apr_1"].record_is_current


def test_a_step_the_cancel_cut_short_folds_as_ended_cancelled() -> None:
    """`cancelled` is a step's ending like `succeeded` or `failed`: nothing streams any more,
    the view asks for the record, and a snapshot that says so agrees with the events."""
    error = {"code": "cancelled", "message": "the run was cancelled"}
    cut_short = completed(1, status="cancelled", error=error, duration_ms=1500.0)
    events = numbered(started(1), delta(1, "Half"), cut_short, run_completed("cancelled"))
    state = RunState()
    state.seed(rest_run(), [rest_step(1, "running")])
    folded(*events[:2], state=state)
    assert [state.streaming] == [state.steps[1]]  # in a list: `is` would narrow its type
    folded(*events[2:], state=state)
    step = state.steps[1]
    assert (step.status, step.error, step.duration_ms) == ("cancelled", error, 1500.0)
    assert state.streaming is None
    assert behind(state)  # the record still says running
    ended = rest_run("cancelled", ended_at=AT.format(9))
    state.seed(ended, [rest_step(1, "cancelled", error=error)])
    assert not behind(state)
    assert (state.steps[1].status, state.steps[1].text) == ("cancelled", "Half")
    assert (state.status, state.finished) == ("cancelled", True)
