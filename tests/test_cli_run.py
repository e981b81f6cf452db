"""`agent-runtime run` as a user types it, against the embedded product (`agent-runtime dev`)."""

import fcntl
import io
import json
import os
import pty
import re
import select
import signal
import struct
import subprocess
import termios
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from cli.run_view import PlainView, step_line
from client import AgentRuntimeClient
from client.run_state import RunState, Step
from tests.stack import BIN, DevStack, clean_env, dev_stack

# Settings that would make rich draw for a terminal although stdout is a pipe.
TERMINAL_OVERRIDES = ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "NO_COLOR")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevStack]:
    with dev_stack(tmp_path_factory.mktemp("cli-run") / "data") as running:
        yield running


def admin_key(stack: DevStack) -> str:
    return (stack.data_dir / "admin.key").read_text().strip()


@pytest.fixture(scope="module")
def api(stack: DevStack) -> Iterator[AgentRuntimeClient]:
    with AgentRuntimeClient(stack.url, admin_key(stack)) as client:
        yield client


def cli_env(stack: DevStack, **extra: str) -> dict[str, str]:
    defaults = {"AGENT_RUNTIME_URL": stack.url, "AGENT_RUNTIME_TOKEN": admin_key(stack)}
    env = clean_env(COLUMNS="200", **{**defaults, **extra})
    for name in TERMINAL_OVERRIDES:
        env.pop(name, None)
    return env


def agent_runtime_run(
    stack: DevStack, *args: str, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "agent-runtime"), "run", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=cli_env(stack),
        timeout=120,
        check=False,
    )


def new_agent(api: AgentRuntimeClient, *turns: dict[str, Any], gated: bool = False) -> str:
    """A scripted agent with the calculator (asking for approval if `gated`); returns its name."""
    name = f"cli-run-{uuid.uuid4().hex[:8]}"
    agent = api.create_agent(name)
    calculator: dict[str, Any] = {"type": "builtin", "name": "calculator"}
    if gated:
        calculator["requires_approval"] = True
    api.publish_version(
        agent["id"],
        {
            "model": {
                "provider": "scripted",
                "name": "demo",
                "parameters": {"script": list(turns)},
            },
            "tools": [calculator],
            "limits": {"max_steps": 10, "timeout_seconds": 120},
        },
    )
    return name


CALL_CALCULATOR = {"tool_calls": [{"name": "calculator", "arguments": {"expression": "6*7"}}]}


def only_run_of(api: AgentRuntimeClient, name: str) -> dict[str, Any]:
    (agent,) = [a for a in api.list_agents(search=name) if a["name"] == name]
    (run,) = api.list_runs(agent_id=agent["id"])
    return run


def first_run_of(api: AgentRuntimeClient, name: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        (agent,) = [a for a in api.list_agents(search=name) if a["name"] == name]
        runs = api.list_runs(agent_id=agent["id"])
        if runs:
            return runs[0]
        assert time.monotonic() < deadline, f"{name} has no run"
        time.sleep(0.1)


def test_the_demo_agent_by_name(stack: DevStack) -> None:
    result = agent_runtime_run(stack, "demo-calculator", "What is 6 times 7?")
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert re.search(r"^✓ 1 model demo  \d+ ms  \d+ tok  \$0\.0000  calls calculator$", out, re.M)
    assert re.search(r"^✓ 2 tool calculator  \d+ ms  .*42", out, re.M)
    assert re.search(r"^✓ 3 model demo  \d+ ms  \d+ tok", out, re.M)
    assert "42" in out
    assert re.search(r"^succeeded in [\d.]+ s  ·  \d+ tokens \(\d+ in, \d+ out\)  ·  \$", out, re.M)
    assert "\x1b[" not in out  # stdout is a pipe: no spinners or colours


def test_json_prints_the_finished_run(stack: DevStack) -> None:
    result = agent_runtime_run(stack, "demo-calculator", "What is 6 times 7?", "--json")
    assert result.returncode == 0, result.stderr
    run = json.loads(result.stdout)
    assert run["status"] == "succeeded"
    assert "42" in run["output"]


def test_a_failing_model_exits_1_with_its_error(stack: DevStack, api: AgentRuntimeClient) -> None:
    name = new_agent(api, {"error": {"message": "boom", "retryable": False}})
    result = agent_runtime_run(stack, name, "hello")
    assert result.returncode == 1, result.stdout + result.stderr
    assert re.search(r"^✗ 1 model demo .*boom$", result.stdout, re.M)
    assert "error: boom" in result.stdout
    assert re.search(r"^failed in ", result.stdout, re.M)


def test_usage_errors_exit_2_with_a_clear_message(stack: DevStack) -> None:
    unknown = agent_runtime_run(stack, "no-such-agent", "hello")
    assert unknown.returncode == 2
    assert "no agent is named 'no-such-agent'" in unknown.stderr
    assert "Traceback" not in unknown.stderr

    unknown_id = agent_runtime_run(stack, "agt_doesnotexist", "hello")
    assert (unknown_id.returncode, unknown_id.stderr.strip()) == (
        2,
        "error: no agent has the id agt_doesnotexist",
    )

    no_version = agent_runtime_run(stack, "demo-calculator", "--version", "99", "hello")
    assert no_version.returncode == 2
    assert "99" in no_version.stderr

    bad_context = agent_runtime_run(stack, "demo-calculator", "--context", "[1]", "hello")
    assert bad_context.returncode == 2
    assert "must be a JSON object" in bad_context.stderr


def test_an_approval_answered_yes_on_stdin(stack: DevStack, api: AgentRuntimeClient) -> None:
    name = new_agent(api, CALL_CALCULATOR, {"text": "It is 42."}, gated=True)
    result = agent_runtime_run(stack, name, "6*7?", stdin="y\n")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "? 2 tool calculator asks for approval" in result.stdout
    assert '{"expression": "6*7"}' in result.stdout
    assert "Approve? [y/n]: y" in result.stdout
    # Who decided, by name: the admin key's, not its audit subject `key:...`.
    assert re.search(
        r"^✓ 2 tool call approved by platform admin \(bootstrap\)$", result.stdout, re.M
    )
    assert "key:" not in result.stdout
    assert re.search(r"^✓ 2 tool calculator .*42", result.stdout, re.M)
    (approval,) = api.list_approvals(run_id=only_run_of(api, name)["id"])
    assert approval["status"] == "approved"


def test_an_approval_answered_no_with_a_comment(stack: DevStack, api: AgentRuntimeClient) -> None:
    name = new_agent(api, CALL_CALCULATOR, {"text": "I could not calculate it."}, gated=True)
    result = agent_runtime_run(stack, name, "6*7?", stdin="n\nnot today\n")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Comment (optional): not today" in result.stdout
    assert re.search(r"^✗ 2 tool call rejected by .*: not today$", result.stdout, re.M)
    assert re.search(r"^✗ 2 tool calculator .*not today$", result.stdout, re.M)
    assert "I could not calculate it." in result.stdout
    (approval,) = api.list_approvals(run_id=only_run_of(api, name)["id"])
    assert (approval["status"], approval["comment"]) == ("rejected", "not today")


def test_approve_all_answers_without_asking(stack: DevStack, api: AgentRuntimeClient) -> None:
    name = new_agent(api, CALL_CALCULATOR, {"text": "It is 42."}, gated=True)
    result = agent_runtime_run(stack, name, "6*7?", "--approve-all", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["output"] == "It is 42."
    assert "Approve?" not in result.stdout + result.stderr


def test_streamed_text_is_printed_as_it_arrives(stack: DevStack, api: AgentRuntimeClient) -> None:
    answer = "Streaming arrives word by word, just as the model writes it."
    name = new_agent(api, {"text": answer, "chunk_delay_seconds": 0.05})
    result = agent_runtime_run(stack, name, "hello")
    assert result.returncode == 0, result.stdout + result.stderr
    # Between the step's start and its end, not only in the final answer.
    started, streamed = result.stdout.index("· 1 model demo"), result.stdout.index(answer)
    assert started < streamed < result.stdout.index("✓ 1 model demo")


def test_ctrl_c_stops_following_and_leaves_the_run_going(
    stack: DevStack, api: AgentRuntimeClient
) -> None:
    name = new_agent(api, CALL_CALCULATOR, {"text": "It is 42."}, gated=True)
    process = subprocess.Popen(
        [str(BIN / "agent-runtime"), "run", name, "6*7?", "--no-input"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=cli_env(stack),
        # Whatever the test runner ignores, Ctrl-C reaches the command.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        run = api.wait_for_run(first_run_of(api, name)["id"], {"awaiting_approval"}, timeout=60)
        time.sleep(0.5)  # the command is following, past the request
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 130, out + err
    assert f"Stopped following {run['id']}; the run goes on." in err
    assert f"agent-runtime runs follow {run['id']}" in err
    assert f"agent-runtime cancel {run['id']}" in err
    assert "Traceback" not in err
    assert api.get_run(run["id"])["status"] == "awaiting_approval"


def run_in_terminal(stack: DevStack, *args: str, answer: bytes) -> tuple[int, str]:
    """Runs the command on a pseudo-terminal, answering the first "Approve?" with `answer`."""
    primary, secondary = pty.openpty()
    fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    env = cli_env(stack, TERM="xterm-256color")
    env.pop("COLUMNS")
    process = subprocess.Popen(
        [str(BIN / "agent-runtime"), "run", *args],
        stdin=secondary,
        stdout=secondary,
        stderr=secondary,
        env=env,
        start_new_session=True,
    )
    os.close(secondary)
    shown, answered = b"", False
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            if select.select([primary], [], [], 0.2)[0]:
                try:
                    chunk = os.read(primary, 4096)
                except OSError:  # EIO: the command exited and closed the terminal
                    break
                if not chunk:
                    break
                shown += chunk
                if b"Approve?" in shown and not answered:
                    os.write(primary, answer)
                    answered = True
            elif process.poll() is not None:
                break
        return process.wait(timeout=30), shown.decode()
    finally:
        os.close(primary)
        if process.poll() is None:
            process.kill()
            process.wait()


def test_the_live_view_in_a_terminal(stack: DevStack, api: AgentRuntimeClient) -> None:
    name = new_agent(
        api, CALL_CALCULATOR, {"text": "The answer is 42.", "chunk_delay_seconds": 0.2}, gated=True
    )
    code, shown = run_in_terminal(stack, name, "6*7?", answer=b"y\n")
    assert code == 0, shown
    plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", shown)
    assert "Approve? [y/n]: y" in plain
    assert re.search(r"[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] 3 model demo", plain)  # a spinner while it streamed
    assert "✓ 3 model demo" in plain
    assert "The answer is 42." in plain
    assert "succeeded in " in plain


# The view alone, fed events: no stack needed.


def test_a_retry_shows_only_the_new_attempts_text() -> None:
    out = io.StringIO()
    view = PlainView(Console(file=out, width=100))
    view.show({"type": "step.started", "seq": 1, "kind": "model", "name": "demo", "attempt": 1})
    view.show({"type": "model.delta", "seq": 1, "attempt": 1, "text": "half an ans"})
    view.show({"type": "step.started", "seq": 1, "kind": "model", "name": "demo", "attempt": 2})
    view.show({"type": "model.delta", "seq": 1, "attempt": 1, "text": "wer (late)"})
    view.show({"type": "model.delta", "seq": 1, "attempt": 2, "text": "A whole answer."})
    view.close()
    assert out.getvalue() == (
        "· 1 model demo\n  half an ans\n· 1 model demo (attempt 2)\n  A whole answer.\n"
    )
    assert view.run.steps[1].text == "A whole answer."


def completed_step(event: dict[str, Any]) -> Step:
    step = RunState().apply({"type": "step.completed", **event}).step
    assert step is not None
    return step


def test_a_step_line() -> None:
    completed = {
        "seq": 1,
        "kind": "model",
        "name": "demo",
        "status": "succeeded",
        "attempt": 1,
        "usage": {"input_tokens": 30, "output_tokens": 5},
        "cost_usd": 0.0001,
        "duration_ms": 812.4,
        "summary": "calls calculator",
        "error": None,
    }
    line = step_line(completed_step(completed)).plain
    assert line == "✓ 1 model demo  812 ms  35 tok  $0.0001  calls calculator"
    failed = {
        **completed,
        "seq": 2,
        "kind": "tool",
        "name": "http",
        "status": "failed",
        "duration_ms": 1520,
        "error": {"code": "tool_error", "message": "connection\nrefused"},
    }
    assert step_line(completed_step(failed)).plain == "✗ 2 tool http  1.5 s  connection refused"


def test_the_plain_view_keeps_streamed_text_on_its_own_lines() -> None:
    out = io.StringIO()
    view = PlainView(Console(file=out, width=100))
    view.show({"type": "step.started", "seq": 1, "kind": "model", "name": "demo", "attempt": 1})
    for text in ("Hello ", "there.\nBye."):
        view.show({"type": "model.delta", "seq": 1, "attempt": 1, "text": text})
    view.show(
        {
            "type": "step.completed",
            "seq": 1,
            "kind": "model",
            "name": "demo",
            "status": "succeeded",
            "attempt": 1,
            "usage": {"input_tokens": 1, "output_tokens": 3},
            "cost_usd": 0,
            "duration_ms": 12,
            "summary": "Hello there.\nBye.",
        }
    )
    assert out.getvalue() == (
        "· 1 model demo\n  Hello there.\n  Bye.\n✓ 1 model demo  12 ms  4 tok  $0.0000\n"
    )


def test_help_names_the_exit_codes() -> None:
    result = subprocess.run(
        [str(BIN / "agent-runtime"), "run", "--help"],
        capture_output=True,
        text=True,
        env=clean_env(COLUMNS="200"),
        cwd=Path(__file__).parent,
        check=False,
    )
    assert result.returncode == 0
    assert "130 Ctrl-C" in result.stdout
    assert "--approve-all" in result.stdout


def test_a_run_through_an_alias(stack: DevStack, api: AgentRuntimeClient) -> None:
    name = new_agent(api, {"text": "From the first version."})
    (agent,) = [a for a in api.list_agents(search=name) if a["name"] == name]
    set_alias = api.set_alias(agent["id"], "prod", version=1)
    assert set_alias["version"] == 1
    result = agent_runtime_run(stack, name, "--version", "prod", "--json", "hello")
    assert result.returncode == 0, result.stdout + result.stderr
    run = json.loads(result.stdout)
    assert (run["version"], run["alias"], run["output"]) == (1, "prod", "From the first version.")
    missing = agent_runtime_run(stack, name, "--version", "staging", "hello")
    assert missing.returncode == 2
    assert "staging" in missing.stderr
