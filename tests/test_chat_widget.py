"""`ChatWidget` driven in-process against the real embedded product (`agent-runtime dev`): a
conversation over a thread's runs, streamed answers, approvals and cancelling; no browser."""

import json
import secrets
from collections.abc import Iterator
from typing import Any

import pytest

from client import AgentRuntimeClient
from notebooks import ChatWidget
from tests.helpers import calc, script
from tests.stack import DevStack, dev_stack

# Each answer quotes the conversation so far: what the model was sent shows in the answer.
REMEMBERING = script(
    {"text": "Hello! You said: {last_user}"},
    {"text": "You have said {user_count} things: {user_messages}", "chunk_delay_seconds": 0.05},
)
GATED_CALCULATOR = [{"type": "builtin", "name": "calculator", "requires_approval": True}]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevStack]:
    with dev_stack(tmp_path_factory.mktemp("chat-widget") / "data") as running:
        yield running


@pytest.fixture
def api(stack: DevStack) -> Iterator[AgentRuntimeClient]:
    with stack.client() as client:
        yield client


@pytest.fixture
def chats() -> Iterator[list[ChatWidget]]:
    """Chat widgets a test makes, closed after it."""
    made: list[ChatWidget] = []
    yield made
    for chat in made:
        chat.close()


def new_agent(api: AgentRuntimeClient, config: dict[str, Any]) -> str:
    agent = api.create_agent(f"chat-test-{secrets.token_hex(4)}")
    api.publish_version(agent["id"], config)
    return str(agent["name"])


def pairs(messages: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(message["role"], message["content"]) for message in messages]


def test_a_conversation_remembers_its_earlier_turns(
    api: AgentRuntimeClient, chats: list[ChatWidget]
) -> None:
    name = new_agent(api, REMEMBERING)
    chat = ChatWidget(name, client=api)
    chats.append(chat)
    before_sending = chat.thread_id
    assert before_sending is None  # created with the first message
    assert chat.messages() == []
    assert "No messages yet" in chat.conversation_view.value

    first = chat.send("hi there")

    assert (first["status"], first["output"]) == ("succeeded", "Hello! You said: hi there")
    assert chat.thread_id is not None
    assert first["thread_id"] == chat.thread_id
    assert api.get_thread(chat.thread_id)["metadata"] == {"agent": name}
    assert chat.thread_id in chat.thread_view.value

    streamed: list[str] = []
    chat.live_view.observe(lambda change: streamed.append(change["new"]), "value")
    second = chat.send("how many?")

    assert second["output"] == "You have said 2 things: hi there | how many?"
    assert second["thread_id"] == chat.thread_id
    # The answer was on screen word by word before the run ended.
    partial = [html for html in streamed if "You have said" in html and "how many?</div>" in html]
    assert len(partial) >= 3, streamed
    assert any("▍" in html for html in partial)
    assert pairs(chat.messages()) == [
        ("user", "hi there"),
        ("assistant", "Hello! You said: hi there"),
        ("user", "how many?"),
        ("assistant", "You have said 2 things: hi there | how many?"),
    ]
    # Once the run has ended, the recorded conversation shows in place of the streamed turn.
    assert chat.live_view.layout.display == "none"
    shown = chat.conversation_view.value
    assert shown.index("hi there") < shown.index("Hello! You said") < shown.index("how many?")
    assert "You have said 2 things: hi there | how many?" in shown
    assert (chat.send_button.disabled, chat.cancel_button.disabled) == (False, True)
    assert chat.input_box.value == ""

    # Another widget on the same thread continues the conversation.
    resumed = ChatWidget(name, thread_id=chat.thread_id, client=api)
    chats.append(resumed)
    assert "how many?" in resumed.conversation_view.value
    with pytest.raises(RuntimeError, match="no approval is pending"):
        resumed.approve()

    old_thread = chat.thread_id
    chat.new_thread_button.click()
    started_over = chat.thread_id
    assert started_over is None
    assert "No messages yet" in chat.conversation_view.value
    chat.input_box.value = "again"
    chat.send_button.click()  # returns at once: the widget follows the run
    assert chat.wait()["output"] == "Hello! You said: again"  # the new thread's first turn
    assert chat.thread_id not in {None, old_thread}
    assert pairs(chat.messages()) == [("user", "again"), ("assistant", "Hello! You said: again")]
    assert len(api.thread_history(old_thread)) == 2


def test_a_gated_tool_call_is_approved_in_the_chat(
    api: AgentRuntimeClient, chats: list[ChatWidget]
) -> None:
    name = new_agent(api, script(calc("6*7"), {"text": "It is 42."}, tools=GATED_CALCULATOR))
    chat = ChatWidget(name, client=api)
    chats.append(chat)

    chat.send("What is 6 times 7?", wait=False)
    request = chat.wait_for_approval()

    assert (request["tool_name"], request["arguments"]) == ("calculator", {"expression": "6*7"})
    assert chat.approval_box.layout.display == ""
    assert "calculator" in chat.approval_view.value
    assert not chat.cancel_button.disabled
    assert chat.send_button.disabled
    with pytest.raises(RuntimeError, match="in progress"):
        chat.send("another")

    decided = chat.approve("fine")
    assert decided["status"] == "approved"
    assert chat.approval_box.layout.display == "none"  # no second click
    result = chat.wait()

    assert (result["status"], result["output"]) == ("succeeded", "It is 42.")
    messages = chat.messages()
    assert [m["role"] for m in messages] == ["user", "assistant", "tool", "assistant"]
    (call,) = messages[1]["tool_calls"]
    assert (call["name"], messages[2]["tool_call_id"]) == ("calculator", call["id"])
    assert json.loads(messages[2]["content"])["result"] == 42
    # The call shows collapsed, with its result; the answer after it.
    shown = chat.conversation_view.value
    assert "<details" in shown
    assert "<details open" not in shown
    assert "calculator" in shown
    assert "→ 42" in shown
    assert shown.index("→ 42") < shown.index("It is 42.")
    assert chat.approval_box.layout.display == "none"


def test_a_turn_can_be_cancelled(api: AgentRuntimeClient, chats: list[ChatWidget]) -> None:
    name = new_agent(api, script({"text": "too late", "delay_seconds": 30}))
    chat = ChatWidget(name, client=api)
    chats.append(chat)

    chat.send("take your time", wait=False)
    assert not chat.cancel_button.disabled
    chat.cancel_button.click()
    result = chat.wait(timeout=60)

    assert result["status"] == "cancelled"
    assert "cancelled" in chat.message_view.value
    assert (chat.send_button.disabled, chat.cancel_button.disabled) == (False, True)
    assert pairs(chat.messages()) == [("user", "take your time")]
