"""`agent-runtime runs | cancel | approvals | approve | reject` as a user types them, against the
embedded product (`agent-runtime dev`), and the exit codes every command that talks to it shares."""

import json
import os
import re
import select
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from client import AgentRuntimeClient
from tests.stack import BIN, DevStack, dev_stack
from tests.test_cli_run import CALL_CALCULATOR, admin_key, cli_env, new_agent

# The bootstrap admin key's name: who every run and decision here is by.
ADMIN = "platform admin (bootstrap)"
SLOW_ANSWER = {"text": "Done, slowly.", "delay_seconds": 60}


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevStack]:
    with dev_stack(tmp_path_factory.mktemp("cli-runs") / "data") as running:
        yield running


@pytest.fixture(scope="module")
def api(stack: DevStack) -> Iterator[AgentRuntimeClient]:
    with AgentRuntimeClient(stack.url, admin_key(stack)) as client:
        yield client


def agent_runtime(
    stack: DevStack, *args: str, stdin: str = "", **env: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "agent-runtime"), *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=cli_env(stack, **env),
        timeout=120,
        check=False,
    )


def agent_id(api: AgentRuntimeClient, name: str) -> str:
    (agent,) = [a for a in api.list_agents(search=name) if a["name"] == name]
    return str(agent["id"])


def started(api: AgentRuntimeClient, name: str, until: set[str] | None = None) -> dict[str, Any]:
    """A run of the agent, started through the API, once its status is in `until` (or ended)."""
    run = api.start_run(agent_id(api, name), "What is 6 times 7?")
    return api.wait_for_run(run["id"], until=until, timeout=60)


def pending_approval(api: AgentRuntimeClient, run_id: str) -> dict[str, Any]:
    (approval,) = api.list_approvals(run_id=run_id)
    assert approval["status"] == "pending"
    return approval


def read_until(process: subprocess.Popen[bytes], wanted: bytes, timeout: float) -> bytes:
    """What the process wrote to stderr until it wrote `wanted` (failing after `timeout`)."""
    assert process.stderr is not None
    seen, deadline = b"", time.monotonic() + timeout
    while wanted not in seen:
        assert time.monotonic() < deadline, seen.decode()
        if select.select([process.stderr], [], [], 0.2)[0]:
            chunk = os.read(process.stderr.fileno(), 4096)
            assert chunk, f"exited ({process.poll()}): {seen.decode()}"
            seen += chunk
    return seen


def row_of(output: str, run_id: str) -> str:
    (row,) = [line for line in output.splitlines() if line.startswith(run_id)]
    return row


def test_runs_list_is_a_table_of_the_newest_runs(stack: DevStack, api: AgentRuntimeClient) -> None:
    three_steps = new_agent(api, CALL_CALCULATOR, {"text": "It is 42."})
    one_step = new_agent(api, {"text": "Hello."})
    older, newer = started(api, three_steps), started(api, three_steps)
    single = started(api, one_step)

    listed = agent_runtime(stack, "runs", "list", "--agent", three_steps)
    assert listed.returncode == 0, listed.stderr
    header = listed.stdout.splitlines()[0].split()
    assert header == [
        *("run", "agent", "version", "status", "steps", "cost", "duration", "created"),
        *("created", "by"),
    ]
    row = row_of(listed.stdout, newer["id"])
    assert re.fullmatch(
        rf"{newer['id']}\s+{three_steps}\s+v1\s+succeeded\s+3 steps\s+\$0\.0000\s+"
        rf"\d+(\.\d)? m?s\s+(just now|\d+ s ago)\s+{re.escape(ADMIN)}\s*",
        row,
    ), row
    # Newest first, this agent's runs only.
    assert listed.stdout.index(newer["id"]) < listed.stdout.index(older["id"])
    assert single["id"] not in listed.stdout

    singular = agent_runtime(stack, "runs", "list", "--agent", agent_id(api, one_step))
    assert re.search(r"\s1 step\s", row_of(singular.stdout, single["id"]))

    newest = agent_runtime(stack, "runs", "list", "--agent", three_steps, "--limit", "1", "--json")
    assert newest.returncode == 0, newest.stderr
    assert [run["id"] for run in json.loads(newest.stdout)] == [newer["id"]]

    none = agent_runtime(stack, "runs", "list", "--agent", three_steps, "--status", "failed")
    assert (none.returncode, none.stdout.strip()) == (0, "No runs match.")


def test_runs_list_refuses_what_does_not_exist(stack: DevStack) -> None:
    unknown_status = agent_runtime(stack, "runs", "list", "--status", "exploded")
    assert unknown_status.returncode == 2
    assert unknown_status.stderr.startswith("error: status: ")
    assert "'succeeded'" in unknown_status.stderr  # the statuses there are
    unknown_agent = agent_runtime(stack, "runs", "list", "--agent", "no-such-agent")
    assert unknown_agent.returncode == 2
    assert "no agent is named 'no-such-agent'" in unknown_agent.stderr


def test_runs_list_searches_the_inputs(stack: DevStack, api: AgentRuntimeClient) -> None:
    parameters = api.http.get("/openapi.json").json()["paths"]["/v1/runs"]["get"]["parameters"]
    if "q" not in {parameter["name"] for parameter in parameters}:
        pytest.skip("this API does not search runs by their input (GET /v1/runs?q=)")
    name = new_agent(api, {"text": "Hello."})
    marker = uuid.uuid4().hex
    wanted = api.start_run(agent_id(api, name), f"find {marker} here")
    other = api.start_run(agent_id(api, name), "something else")
    found = agent_runtime(stack, "runs", "list", "--search", marker, "--json")
    assert found.returncode == 0, found.stderr
    assert [run["id"] for run in json.loads(found.stdout)] == [wanted["id"]]
    assert other["id"] not in found.stdout


def test_runs_show_a_run_its_steps_and_output(stack: DevStack, api: AgentRuntimeClient) -> None:
    name = new_agent(api, CALL_CALCULATOR, {"text": "It is 42."})
    run = started(api, name)
    shown = agent_runtime(stack, "runs", "show", run["id"])
    assert shown.returncode == 0, shown.stderr
    out = shown.stdout
    assert out.startswith(f"{run['id']}  ·  {name} v1  ·  succeeded\n")
    assert re.search(rf"^created .* by {re.escape(ADMIN)}  ·  took ", out, re.M)
    assert "input: What is 6 times 7?" in out
    assert re.search(r"^1\s+model\s+demo\s+succeeded\s+\d+ ms", out, re.M)
    assert re.search(r"^2\s+tool\s+calculator\s+succeeded\s+\d+ ms", out, re.M)
    assert re.search(r"^3\s+model\s+demo\s+succeeded", out, re.M)
    assert "It is 42." in out

    as_json = json.loads(agent_runtime(stack, "runs", "show", run["id"], "--json").stdout)
    assert (as_json["id"], as_json["output"]) == (run["id"], "It is 42.")
    assert [step["name"] for step in as_json["steps"]] == ["demo", "calculator", "demo"]

    failing = new_agent(api, {"error": {"message": "boom", "retryable": False}})
    failed = agent_runtime(stack, "runs", "show", started(api, failing)["id"])
    assert failed.returncode == 0  # shown: the run's own status is not the command's
    assert re.search(r"^1\s+model\s+demo\s+failed\s+.*boom", failed.stdout, re.M)
    assert "error: boom" in failed.stdout

    missing = agent_runtime(stack, "runs", "show", "run_doesnotexist")
    assert (missing.returncode, missing.stderr.strip()) == (
        2,
        "error: no run has the id run_doesnotexist",
    )


def test_runs_follow_answers_approvals_and_names_who_decided(
    stack: DevStack, api: AgentRuntimeClient
) -> None:
    name = new_agent(api, CALL_CALCULATOR, {"text": "It is 42."}, gated=True)
    run = started(api, name, until={"awaiting_approval"})
    followed = agent_runtime(stack, "runs", "follow", run["id"], stdin="y\n")
    assert followed.returncode == 0, followed.stdout + followed.stderr
    out = followed.stdout
    assert out.startswith(f"run {run['id']}  ·  {name} v1\n")
    assert "? 2 tool calculator asks for approval  (expires in 23 h" in out
    assert "Approve? [y/n]: y" in out
    assert re.search(rf"^✓ 2 tool call approved by {re.escape(ADMIN)}$", out, re.M)
    assert "key:" not in out
    assert re.search(r"^succeeded in [\d.]+ s  ·  ", out, re.M)
    assert api.get_run(run["id"])["status"] == "succeeded"

    replayed = agent_runtime(stack, "runs", "follow", run["id"], "--json")
    assert replayed.returncode == 0, replayed.stderr
    assert json.loads(replayed.stdout)["output"] == "It is 42."


def test_runs_follow_exits_1_when_the_run_fails(stack: DevStack, api: AgentRuntimeClient) -> None:
    name = new_agent(api, {"error": {"message": "boom", "retryable": False}})
    run = api.start_run(agent_id(api, name), "hello")
    followed = agent_runtime(stack, "runs", "follow", run["id"])
    assert followed.returncode == 1, followed.stdout + followed.stderr
    assert "error: boom" in followed.stdout
    assert re.search(r"^failed in ", followed.stdout, re.M)
    assert agent_runtime(stack, "runs", "follow", "run_doesnotexist").returncode == 2


def test_ctrl_c_stops_runs_follow_and_leaves_the_run_going(
    stack: DevStack, api: AgentRuntimeClient
) -> None:
    name = new_agent(api, CALL_CALCULATOR, {"text": "It is 42."}, gated=True)
    run = started(api, name, until={"awaiting_approval"})
    process = subprocess.Popen(
        [str(BIN / "agent-runtime"), "runs", "follow", run["id"], "--no-input"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=cli_env(stack),
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        # It says it waits for a decision made elsewhere: it is following, past the request.
        said = read_until(process, b"waiting for a decision on", timeout=60)
        process.send_signal(signal.SIGINT)
        out_bytes, err_bytes = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    out, err = out_bytes.decode(), (said + err_bytes).decode()
    assert process.returncode == 130, out + err
    assert f"Stopped following {run['id']}; the run goes on." in err
    assert "Traceback" not in err
    assert api.get_run(run["id"])["status"] == "awaiting_approval"


def test_cancel_waits_for_the_run_to_stop(stack: DevStack, api: AgentRuntimeClient) -> None:
    name = new_agent(api, SLOW_ANSWER)
    run = started(api, name, until={"running"})
    cancelled = agent_runtime(stack, "cancel", run["id"])
    assert cancelled.returncode == 0, cancelled.stdout + cancelled.stderr
    assert cancelled.stdout.strip() == f"cancelled  ·  {run['id']}"
    assert api.get_run(run["id"])["status"] == "cancelled"

    again = agent_runtime(stack, "cancel", run["id"])
    assert again.returncode == 0, again.stderr
    assert "(it had ended before: cancelled already)" in again.stdout


def test_cancel_without_waiting(stack: DevStack, api: AgentRuntimeClient) -> None:
    run = started(api, new_agent(api, SLOW_ANSWER), until={"running"})
    asked = agent_runtime(stack, "cancel", run["id"], "--no-wait")
    assert asked.returncode == 0, asked.stderr
    assert re.fullmatch(rf"(cancelling|cancelled)  ·  {run['id']}.*", asked.stdout.strip())
    assert api.wait_for_run(run["id"], timeout=60)["status"] == "cancelled"


def test_cancel_of_a_run_that_ended_otherwise_exits_1(
    stack: DevStack, api: AgentRuntimeClient
) -> None:
    run = started(api, new_agent(api, {"text": "Hello."}))
    late = agent_runtime(stack, "cancel", run["id"])
    assert late.returncode == 1, late.stdout + late.stderr
    assert late.stdout.strip() == (
        f"succeeded  ·  {run['id']}  (it had ended before: nothing to cancel)"
    )
    missing = agent_runtime(stack, "cancel", "run_doesnotexist")
    assert (missing.returncode, missing.stderr.strip()) == (
        2,
        "error: no run has the id run_doesnotexist",
    )


def test_approvals_are_listed_approved_and_rejected(
    stack: DevStack, api: AgentRuntimeClient
) -> None:
    name = new_agent(api, CALL_CALCULATOR, {"text": "It is 42."}, gated=True)
    first = started(api, name, until={"awaiting_approval"})
    second = started(api, name, until={"awaiting_approval"})
    to_approve, to_reject = pending_approval(api, first["id"]), pending_approval(api, second["id"])

    listed = agent_runtime(stack, "approvals", "--agent", name)
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.splitlines()[0].split() == [
        *("approval", "run", "tool", "arguments", "requested", "expires"),
    ]
    for approval, run in ((to_approve, first), (to_reject, second)):
        (row,) = [line for line in listed.stdout.splitlines() if line.startswith(approval["id"])]
        assert re.fullmatch(
            rf"{approval['id']}\s+{run['id']}\s+calculator\s+"
            r'\{"expression": "6\*7"\}\s+(just now|\d+ s ago)\s+in 23 h \d+ min\s*',
            row,
        ), row
    everyone = json.loads(agent_runtime(stack, "approvals", "--json").stdout)
    assert {to_approve["id"], to_reject["id"]} <= {approval["id"] for approval in everyone}

    approved = agent_runtime(stack, "approve", to_approve["id"], "--comment", "fine")
    assert approved.returncode == 0, approved.stderr
    assert approved.stdout.startswith(f"✓ approved {to_approve['id']}  calculator")
    assert approved.stdout.rstrip().endswith(f"by {ADMIN}: fine")
    assert api.wait_for_run(first["id"], timeout=60)["status"] == "succeeded"

    rejected = agent_runtime(stack, "reject", to_reject["id"], "--comment", "not today")
    assert rejected.returncode == 0, rejected.stderr
    assert rejected.stdout.rstrip().endswith(f"by {ADMIN}: not today")
    assert api.get_approval(to_reject["id"])["status"] == "rejected"

    # The same decision again is harmless; the other one is refused.
    assert agent_runtime(stack, "approve", to_approve["id"]).returncode == 0
    otherwise = agent_runtime(stack, "reject", to_approve["id"])
    assert otherwise.returncode == 1
    assert otherwise.stderr.strip() == f"error: {to_approve['id']} is approved already by {ADMIN}"

    missing = agent_runtime(stack, "approve", "apr_doesnotexist")
    assert (missing.returncode, missing.stderr.strip()) == (
        2,
        "error: no approval has the id apr_doesnotexist",
    )
    waiting = agent_runtime(stack, "approvals", "--agent", name)
    assert (waiting.returncode, waiting.stdout.strip()) == (0, "No approvals are waiting.")


def test_approving_with_arguments_the_tool_refuses_exits_2(
    stack: DevStack, api: AgentRuntimeClient
) -> None:
    name = new_agent(api, CALL_CALCULATOR, {"text": "It is 42."}, gated=True)
    approval = pending_approval(api, started(api, name, until={"awaiting_approval"})["id"])
    refused = agent_runtime(stack, "approve", approval["id"], "--arguments", '{"expression": 5}')
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "arguments.expression" in refused.stderr
    assert api.get_approval(approval["id"])["status"] == "pending"


# Every command that talks to the API, with arguments naming things that exist or not: a bad
# token is refused before anything is looked up.
API_COMMANDS = [
    ("run", "demo-calculator", "hello"),
    ("runs", "list"),
    ("runs", "show", "run_x"),
    ("runs", "follow", "run_x"),
    ("cancel", "run_x"),
    ("approvals",),
    ("approve", "apr_x"),
    ("reject", "apr_x"),
]


@pytest.mark.parametrize("args", API_COMMANDS, ids=" ".join)
def test_a_bad_token_is_an_api_failure_exit_1(stack: DevStack, args: tuple[str, ...]) -> None:
    refused = agent_runtime(stack, *args, AGENT_RUNTIME_TOKEN="ark_not_a_key")
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert "(401 unauthorized)" in refused.stderr
    assert "AGENT_RUNTIME_TOKEN" in refused.stderr
    assert "Traceback" not in refused.stderr

    no_token = agent_runtime(stack, *args, AGENT_RUNTIME_TOKEN="")
    assert no_token.returncode == 1, no_token.stdout + no_token.stderr
    assert "no token was given" in no_token.stderr


def test_a_role_that_may_not_is_an_api_failure_exit_1(
    stack: DevStack, api: AgentRuntimeClient
) -> None:
    viewer = api.create_api_key(api.me()["tenant_id"], f"viewer-{uuid.uuid4().hex[:6]}", "viewer")
    name = new_agent(api, CALL_CALCULATOR, {"text": "It is 42."}, gated=True)
    run = started(api, name, until={"awaiting_approval"})
    approval = pending_approval(api, run["id"])
    as_viewer = {"AGENT_RUNTIME_TOKEN": viewer["key"]}
    for args in (
        ("approve", approval["id"]),
        ("reject", approval["id"]),
        ("cancel", run["id"]),
        ("run", name, "hello"),
    ):
        refused = agent_runtime(stack, *args, **as_viewer)
        assert refused.returncode == 1, (args, refused.stdout + refused.stderr)
        assert "(403 forbidden)" in refused.stderr, refused.stderr
    # What a viewer may do, it does.
    assert agent_runtime(stack, "runs", "show", run["id"], **as_viewer).returncode == 0
    assert approval["id"] in agent_runtime(stack, "approvals", **as_viewer).stdout
    assert api.get_run(run["id"])["status"] == "awaiting_approval"
