"""`agent-runtime chat` as a user types it (lines piped on stdin), against `agent-runtime dev`."""

import re
import subprocess
from collections.abc import Iterator

import pytest

from client import AgentRuntimeClient
from tests.stack import BIN, DevStack, dev_stack
from tests.test_cli_run import CALL_CALCULATOR, admin_key, cli_env, new_agent


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevStack]:
    with dev_stack(tmp_path_factory.mktemp("cli-chat") / "data") as running:
        yield running


@pytest.fixture(scope="module")
def api(stack: DevStack) -> Iterator[AgentRuntimeClient]:
    with AgentRuntimeClient(stack.url, admin_key(stack)) as client:
        yield client


def agent_runtime_chat(stack: DevStack, *args: str, stdin: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "agent-runtime"), "chat", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=cli_env(stack),
        timeout=120,
        check=False,
    )


def thread_of(output: str) -> str:
    match = re.search(r"--thread (\S+)", output)
    assert match, output
    return match.group(1)


def test_a_chat_is_one_thread_that_can_be_resumed(stack: DevStack, api: AgentRuntimeClient) -> None:
    name = new_agent(
        api,
        {"text": "hi, you said {last_user}"},
        CALL_CALCULATOR,
        {"text": "after {user_count} messages: 42"},
        {"text": "still here: {user_messages}"},
        gated=True,
    )
    # The second line's tool call is gated: the "y" after it approves it.
    chatted = agent_runtime_chat(stack, name, stdin="hello\nwhat is 6*7?\ny\n/exit\n")
    assert chatted.returncode == 0, chatted.stderr
    assert "hi, you said hello" in chatted.stdout
    assert "after 2 messages: 42" in chatted.stdout
    thread_id = thread_of(chatted.stdout)
    state = api.thread_state(thread_id)
    assert [m["role"] for m in state["messages"]] == [
        *("user", "assistant", "user", "assistant", "tool", "assistant"),
    ]
    resumed = agent_runtime_chat(stack, name, "--thread", thread_id, stdin="again\n")
    assert resumed.returncode == 0, resumed.stderr
    assert "still here: hello | what is 6*7? | again" in resumed.stdout
    assert thread_of(resumed.stdout) == thread_id
    assert len(api.thread_history(thread_id)) == 3


def test_new_starts_another_thread_and_bad_names_are_usage_errors(
    stack: DevStack, api: AgentRuntimeClient
) -> None:
    name = new_agent(api, {"text": "{user_count}"}, {"text": "{user_count}"})
    chatted = agent_runtime_chat(stack, name, stdin="one\n/new\ntwo\n")
    assert chatted.returncode == 0, chatted.stderr
    # After /new the conversation starts again: one user message each time.
    assert re.findall(r"agent> (\d+)", chatted.stdout) == ["1", "1"]
    assert chatted.stdout.count("new thread") == 1
    missing = agent_runtime_chat(stack, name, "--thread", "thr_nothing", stdin="hi\n")
    assert missing.returncode == 2
    assert "thr_nothing" in missing.stderr
    unknown = agent_runtime_chat(stack, "no-such-agent", stdin="hi\n")
    assert unknown.returncode == 2
