"""What the chat view and the threads list compute from the API's answers, without a browser:
chat rows from a thread's state and history, the list's rows, the version choice."""

from typing import Any

from app.view import (
    THREAD_STATUSES,
    chat_rows,
    metadata_text,
    thread_agent,
    thread_row,
    version_choices,
    version_wanted,
)
from core.models.thread import ThreadStatus


def message(role: str, run_id: str, content: str = "", **fields: Any) -> dict[str, Any]:
    return {
        "role": role,
        "content": content,
        "tool_calls": fields.get("tool_calls", []),
        "tool_call_id": fields.get("tool_call_id"),
        "name": fields.get("name"),
        "is_error": fields.get("is_error", False),
        "run_id": run_id,
        "step_seq": fields.get("step_seq"),
    }


CALL = {"id": "call_1", "name": "calculator", "arguments": {"expression": "6*7"}}
STATE = {
    "thread_id": "thr_1",
    "status": "idle",
    "messages": [
        message("user", "run_a", "Hi"),
        message("assistant", "run_a", "Hello.", step_seq=1),
        message("user", "run_b", "What is 6 times 7?"),
        message("assistant", "run_b", "", tool_calls=[CALL], step_seq=1),
        message("tool", "run_b", "42", tool_call_id="call_1", name="calculator", step_seq=2),
        message("assistant", "run_b", "It is 42.", step_seq=3),
    ],
}
HISTORY = [
    {"run_id": "run_a", "version": 1, "status": "succeeded", "messages": []},
    {"run_id": "run_b", "version": 2, "status": "succeeded", "messages": []},
]


def test_a_conversation_becomes_turns_bubbles_and_tool_calls_with_their_results() -> None:
    rows = chat_rows(STATE, HISTORY)
    assert [row.kind for row in rows] == [
        *("turn", "user", "assistant"),
        *("turn", "user", "tool", "assistant"),
    ]
    first, second = rows[0], rows[3]
    assert (first.version, first.turn, first.status) == ("v1", 1, "succeeded")
    assert (second.version, second.turn, second.run_id) == ("v2", 2, "run_b")
    tool = rows[5]
    assert tool.tool_name == "calculator"
    assert '"expression": "6*7"' in tool.arguments
    assert (tool.result, tool.answered, tool.is_error) == ("42", True, False)
    assert len({row.key for row in rows}) == len(rows)


def test_a_call_still_waiting_shows_unanswered_and_a_tool_error_as_an_error() -> None:
    waiting = {
        "messages": [message("user", "r", "go"), message("assistant", "r", tool_calls=[CALL])]
    }
    (tool,) = [row for row in chat_rows(waiting, []) if row.kind == "tool"]
    assert (tool.answered, tool.result) == (False, "")
    failed = {
        "messages": [
            *waiting["messages"],
            message("tool", "r", "denied", tool_call_id="call_1", name="calculator", is_error=True),
        ]
    }
    (tool,) = [row for row in chat_rows(failed, []) if row.kind == "tool"]
    assert (tool.answered, tool.is_error, tool.result) == (True, True, "denied")


def test_a_step_cut_short_answers_its_call_instead_of_the_closing_note() -> None:
    state = {
        "messages": [
            message("user", "r", "go"),
            message("assistant", "r", tool_calls=[CALL], step_seq=1),
            message("tool", "r", "the run was cancelled", name="calculator", step_seq=2),
            message("tool", "r", "the tool did not run", tool_call_id="call_1", name="calculator"),
        ]
    }
    (tool,) = [row for row in chat_rows(state, []) if row.kind == "tool"]
    assert (tool.result, tool.is_error) == ("the run was cancelled", False)
    assert '"6*7"' in tool.arguments


def test_json_results_are_pretty_and_a_turn_without_history_has_no_version() -> None:
    state = {
        "messages": [
            message("assistant", "r", tool_calls=[CALL]),
            message("tool", "r", '{"b": 1, "a": [2]}', tool_call_id="call_1"),
            message("tool", "r", "orphan", tool_call_id="call_9", name="lookup"),
        ]
    }
    rows = chat_rows(state, [])
    assert (rows[0].kind, rows[0].version) == ("turn", "")
    assert rows[1].result.startswith('{\n  "a"')
    assert (rows[2].tool_name, rows[2].result) == ("lookup", "orphan")


def test_thread_rows_and_the_agent_of_the_next_turn() -> None:
    thread = {
        "id": "thr_0123456789",
        "status": "busy",
        "agent_id": "agt_1",
        "metadata": {"user": "ada", "agent": "support"},
        "runs": 3,
        "last_run_at": "2026-01-02T03:04:05Z",
        "created_at": "2026-01-01T00:00:00Z",
    }
    row = thread_row(thread, {"agt_1": "support"})
    assert (row.status, row.agent_name, row.runs) == ("busy", "support", 3)
    assert row.last_run == "2026-01-02 03:04:05"
    assert row.metadata == "agent=support · user=ada"
    fresh = {**thread, "agent_id": None, "runs": 0, "last_run_at": None}
    assert thread_row(fresh).agent_name == "support"
    assert thread_row(fresh).last_run == "—"
    agents = [{"id": "agt_9", "name": "support"}]
    assert thread_agent(thread, agents) == "agt_1"
    assert thread_agent(fresh, agents) == "agt_9"
    assert thread_agent({**fresh, "metadata": {}}, agents) == ""
    assert metadata_text({}) == ""
    assert metadata_text({"n": 1}) == "n=1"


def test_the_version_choice() -> None:
    assert version_choices([1, 3, 2, 3]) == ["latest", "3", "2", "1"]
    assert version_wanted("latest") == "latest"
    assert version_wanted("2") == 2


def test_the_thread_statuses_are_the_apis() -> None:
    assert set(THREAD_STATUSES) == {status.value for status in ThreadStatus}
