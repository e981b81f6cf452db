"""The notebook widgets and example notebooks, against the real embedded product; no browser.

One `agent-runtime dev` serves the module. Widgets are driven in-process (buttons `.click()`);
notebooks run headless in a real kernel of this venv (nbclient); `agent-runtime notebook` is
started as a user would and asked for its status.
"""

import json
import os
import re
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import ipywidgets as widgets  # type: ignore[import-untyped]
import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell

from client import AgentRuntimeClient
from client.run_state import Approval, RunState
from notebooks import AgentRunner, VersionDiff, compare_versions
from notebooks.compare import chart_png, comparison_chart
from notebooks.formatting import duration, person, when, who
from notebooks.render import decisions_html, steps_html
from notebooks.version_diff import ABSENT, changed_fields, version_config
from tests.helpers import calc, free_port, script
from tests.stack import BIN, ROOT, DevStack, clean_env, dev_stack, stop_process

NOTEBOOKS = ROOT / "notebooks"
NOTEBOOK_FILES = ["quickstart.ipynb", "compare-versions.ipynb", "automation.ipynb", "chat.ipynb"]
KERNEL = "agent-runtime-test"  # a name no other kernelspec directory on the path holds
GATED_CALCULATOR = [
    {"type": "builtin", "name": "calculator", "requires_approval": True},
]
ADMIN = "platform admin (bootstrap)"  # the name of the dev data dir's admin key


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevStack]:
    with dev_stack(tmp_path_factory.mktemp("notebooks-stack") / "data") as running:
        yield running


@pytest.fixture(scope="module")
def admin_key(stack: DevStack) -> str:
    return (stack.data_dir / "admin.key").read_text().strip()


@pytest.fixture
def api(stack: DevStack, admin_key: str) -> Iterator[AgentRuntimeClient]:
    with AgentRuntimeClient(stack.url, admin_key) as client:
        yield client


@pytest.fixture
def runners() -> Iterator[list[AgentRunner]]:
    """Runners a test makes, closed after it."""
    made: list[AgentRunner] = []
    yield made
    for runner in made:
        runner.close()


def new_agent(api: AgentRuntimeClient, *configs: dict[str, Any]) -> dict[str, Any]:
    agent = api.create_agent(f"nb-test-{secrets.token_hex(4)}")
    for config in configs:
        api.publish_version(agent["id"], config)
    return api.get_agent(agent["id"])


def wait_until(condition: Any, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


def shown(widget: Any) -> list[tuple[Any, str]]:
    """What a person sees of a widget: each displayed leaf and its text (HTML, placeholder,
    Markdown of an Output), skipping whatever sits under a hidden (`display: none`) box."""
    if widget.layout.display == "none":
        return []
    if isinstance(widget, widgets.Box):
        return [leaf for child in widget.children for leaf in shown(child)]
    if isinstance(widget, widgets.Output):
        return [(widget, out["data"].get("text/markdown", "")) for out in widget.outputs]
    return [(widget, str(getattr(widget, "value", "") or getattr(widget, "placeholder", "")))]


def shown_text(widget: Any) -> str:
    return "\n".join(text for _, text in shown(widget))


# The widgets, in-process


def test_the_runner_draws_the_demo_run_live(
    stack: DevStack, admin_key: str, monkeypatch: pytest.MonkeyPatch, runners: list[AgentRunner]
) -> None:
    monkeypatch.setenv("AGENT_RUNTIME_URL", stack.url)
    monkeypatch.setenv("AGENT_RUNTIME_TOKEN", admin_key)
    runner = AgentRunner("demo-calculator")  # the client from the environment
    runners.append(runner)
    assert runner.agent_picker.label == "demo-calculator"
    assert runner.version_picker.value == "latest"
    assert runner.url_box.value == stack.url
    assert runner.token_box.value == ""  # widget state is saved in notebooks: no token there
    drawn: list[tuple[str | None, str]] = []
    runner.steps_view.observe(lambda change: drawn.append((runner.status, change["new"])), "value")

    result = runner.run("What is 6 times 7?", wait=True)

    assert result["status"] == runner.status == "succeeded"
    assert result["run_id"] == runner.run_id
    assert [(s["seq"], s["kind"], s["name"], s["status"]) for s in runner.steps] == [
        (1, "model", "demo", "succeeded"),
        (2, "tool", "calculator", "succeeded"),
        (3, "model", "demo", "succeeded"),
    ]
    # Redrawn as each step started and ended, while the run was still going.
    assert len(drawn) >= 6
    assert sum("⏳" in html for _, html in drawn) >= 3
    assert any(status != "succeeded" for status, _ in drawn)
    (answer,) = runner.output_view.outputs
    markdown = answer["data"]["text/markdown"]
    assert "42" in markdown
    assert "tokens in" in markdown
    assert "$" in markdown
    assert "succeeded" in runner.status_view.value
    assert runner.events[-1]["type"] == "run.completed"
    assert (runner.run_button.disabled, runner.cancel_button.disabled) == (False, True)


def test_the_runner_streams_text(api: AgentRuntimeClient, runners: list[AgentRunner]) -> None:
    answer = "Durable agents keep going when a worker dies mid run and nothing is lost."
    agent = new_agent(api, script({"text": answer, "chunk_delay_seconds": 0.05}))
    runner = AgentRunner(agent["name"], client=api)  # by name
    runners.append(runner)
    seen: list[str] = []
    shown_while_streaming: list[bool] = []

    def drawn(_change: Any) -> None:
        seen.append(runner.text)
        shown_while_streaming.append(runner.text_view.layout.display != "none")

    runner.text_view.observe(drawn, "value")
    result = runner.run("Tell me about durability", wait=True)

    assert result["status"] == "succeeded"
    assert runner.text == answer == runner.output
    partial = [text for text in seen if text and text != answer]
    assert len(partial) >= 5, seen  # it arrived piece by piece
    assert all(answer.startswith(text) for text in partial)
    assert sum(event["type"] == "model.delta" for event in runner.events) >= 6
    assert any(shown_while_streaming)  # the text was on screen as it streamed
    assert_answer_shown_once(runner, answer)

    shown_while_streaming.clear()  # the next run streams in view again
    runner.run("Once more", wait=True)
    assert any(shown_while_streaming)
    assert_answer_shown_once(runner, answer)


def assert_answer_shown_once(runner: AgentRunner, answer: str) -> None:
    # Once the run has ended, the answer shows once, rendered: not streamed text above it too.
    assert runner.text_view not in {leaf for leaf, _ in shown(runner.widget)}
    outside_steps = [text for leaf, text in shown(runner.widget) if leaf is not runner.steps_view]
    assert sum(answer in text for text in outside_steps) == 1
    (rendered,) = runner.output_view.outputs
    assert answer in rendered["data"]["text/markdown"]
    # Where Markdown is not rendered, the answer reads as itself, not as an object's repr.
    assert rendered["data"]["text/plain"] == rendered["data"]["text/markdown"]


def test_a_retried_attempts_partial_text_is_dropped() -> None:
    state = RunState()
    state.apply({"type": "step.started", "seq": 1, "kind": "model", "name": "m", "attempt": 1})
    state.apply({"type": "model.delta", "seq": 1, "attempt": 1, "text": "Half an ans"})
    state.apply({"type": "step.started", "seq": 1, "kind": "model", "name": "m", "attempt": 2})
    assert state.text == ""
    state.apply({"type": "model.delta", "seq": 1, "attempt": 1, "text": "wer"})  # late
    state.apply({"type": "model.delta", "seq": 1, "attempt": 2, "text": "A whole answer."})
    assert state.text == "A whole answer."
    assert state.steps[1].attempt == 2


def gated_agent(api: AgentRuntimeClient, **tool: Any) -> dict[str, Any]:
    tools = [{**GATED_CALCULATOR[0], **tool}]
    return new_agent(api, script(calc("6*7"), {"text": "Done."}, tools=tools))


def test_approve_with_the_button(api: AgentRuntimeClient, runners: list[AgentRunner]) -> None:
    runner = AgentRunner(gated_agent(api, approval_timeout_seconds=300)["id"], client=api)
    runners.append(runner)
    runner.input_box.value = "What is 6 times 7?"
    runner.run_button.click()
    request = runner.wait_for_approval(timeout=30)

    assert (request["tool_name"], request["arguments"]) == ("calculator", {"expression": "6*7"})
    assert runner.approval_box.layout.display == ""
    assert "calculator" in runner.approval_view.value
    # When it expires, as a person reads it: no ISO timestamp with microseconds.
    expires = datetime.fromisoformat(request["expires_at"]).astimezone(UTC).strftime("%H:%M")
    expiry = rf"\(expires in [0-5] min \({expires} UTC\)\)"  # 5 min from when it asked
    assert re.search(expiry, runner.approval_view.value), runner.approval_view.value
    assert request["expires_at"][:19] not in runner.approval_view.value
    placeholder = runner.comment_box.placeholder
    assert "rejection's" not in placeholder
    assert "Reject, the model reads it as the reason" in placeholder
    assert not runner.cancel_button.disabled
    runner.comment_box.value = "Checked."
    runner.approve_button.click()
    assert runner.approval_box.layout.display == "none"

    result = runner.wait(timeout=30)
    assert "#cf222e" not in runner.message_view.value  # no error shown
    assert (result["status"], result["output"]) == ("succeeded", "Done.")
    (approval,) = api.list_approvals(run_id=runner.run_id)
    assert (approval["status"], approval["comment"]) == ("approved", "Checked.")
    assert approval["decided_by"] == f"key:{ADMIN}"
    assert runner.steps[1]["summary"] == '{"expression": "6*7", "result": 42}'
    # Who decided, when, and why: the person, not the audit subject.
    decided = runner.decisions_view.value
    assert "approved" in decided
    assert f"by {ADMIN}" in decided
    assert "key:" not in decided
    assert re.search(rf"by {re.escape(ADMIN)} at \d\d:\d\d UTC", decided), decided
    assert "Checked." in decided


def test_a_pending_approvals_expiry_counts_down(
    api: AgentRuntimeClient, runners: list[AgentRunner], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("notebooks.runner.EXPIRY_REDRAW_SECONDS", 0.2)
    runner = AgentRunner(gated_agent(api, approval_timeout_seconds=61)["id"], client=api)
    runners.append(runner)
    runner.run("What is 6 times 7?")
    runner.wait_for_approval(timeout=30)

    # Drawn as "in 1 min" when asked; redrawn while it waits, it goes under a minute.
    wait_until(lambda: re.search(r"expires in [1-5]?\d s \(", runner.approval_view.value))
    runner.reject("Not now.")
    assert runner.wait(timeout=30)["status"] == "succeeded"


def test_a_decision_made_elsewhere_shows_who_made_it(
    api: AgentRuntimeClient, admin_key: str, stack: DevStack, runners: list[AgentRunner]
) -> None:
    runner = AgentRunner(gated_agent(api)["id"], client=api)
    runners.append(runner)
    runner.run("What is 6 times 7?")
    request = runner.wait_for_approval(timeout=30)
    tenant = api.me()["tenant_id"]
    reviewer = api.create_api_key(tenant, "Grace Hopper", role="developer")
    with AgentRuntimeClient(stack.url, reviewer["key"]) as elsewhere:  # e.g. the workbench
        elsewhere.decide_approval(
            request["run_id"], request["approval_id"], "reject", "Use a smaller number."
        )

    runner.wait(timeout=30)

    decided = runner.decisions_view.value
    assert "rejected" in decided
    assert "by Grace Hopper" in decided
    assert "key:" not in decided
    assert "Use a smaller number." in decided


def test_reject_sends_the_comment_to_the_model(
    api: AgentRuntimeClient, runners: list[AgentRunner]
) -> None:
    runner = AgentRunner(gated_agent(api)["id"], client=api)
    runners.append(runner)
    with pytest.raises(RuntimeError, match="no approval is pending"):
        runner.reject("too early")
    runner.run("What is 6 times 7?")
    runner.wait_for_approval(timeout=30)

    runner.reject("Not with this input.")
    result = runner.wait(timeout=30)

    assert result["status"] == "succeeded"
    (approval,) = api.list_approvals(run_id=runner.run_id)
    assert (approval["status"], approval["comment"]) == ("rejected", "Not with this input.")
    decided = [e for e in runner.events if e["type"] == "approval.decided"]
    assert [e["status"] for e in decided] == ["rejected"]
    tool_step = runner.steps[1]  # what the model read as the tool's result
    assert tool_step["name"] == "calculator"
    assert "Not with this input." in tool_step["error"]["message"]


def test_cancel_a_run(api: AgentRuntimeClient, runners: list[AgentRunner]) -> None:
    agent = new_agent(api, script({"text": "too late", "delay_seconds": 60}))
    runner = AgentRunner(agent["id"], client=api)
    runners.append(runner)
    runner.run("take your time")
    wait_until(lambda: runner.steps)  # the slow model step is running
    with pytest.raises(RuntimeError, match="in progress"):
        runner.run("a second one")

    runner.cancel_button.click()
    assert runner.cancel_button.disabled  # asked once: nothing more to click
    result = runner.wait(timeout=30)

    assert result["status"] == runner.status == "cancelled"
    assert "cancelled" in runner.output_view.outputs[0]["data"]["text/markdown"]
    assert not runner.run_button.disabled
    assert "cancel requested" not in runner.message_view.value  # the outcome says it now
    # The step the cancel cut short: cancelled, not failed, and no negative time.
    (step_row,) = re.findall(r"<tr><td[^>]*>1</td>.*?</tr>", runner.steps_view.value)
    assert "cancelled" in step_row
    assert "failed" not in step_row
    assert "✗" not in step_row
    assert not re.search(r">-\d", step_row), step_row


def test_steps_show_any_status_and_never_a_negative_time() -> None:
    state = RunState()
    events: list[dict[str, Any]] = [
        {"type": "step.started", "seq": 1, "kind": "model", "name": "m"},
        {"type": "step.completed", "seq": 1, "kind": "model", "name": "m", "status": "cancelled",
         "duration_ms": -0.1, "error": {"code": "cancelled", "message": "the run was cancelled"}},
        {"type": "step.started", "seq": 2, "kind": "tool", "name": "t"},
        {"type": "step.completed", "seq": 2, "kind": "tool", "name": "t", "status": "paused",
         "duration_ms": 1500},
        {"type": "step.started", "seq": 3, "kind": "model", "name": "m"},
    ]  # fmt: skip
    for event in events:
        state.apply(event)
    # A step listed without a start (cut short before it began) has no duration to show.
    state.seed(steps=[{"seq": 4, "kind": "tool", "name": "t", "status": "failed",
                       "started_at": None, "ended_at": "2026-01-01T00:00:00Z"}])  # fmt: skip

    rows = re.findall(r"<tr>(.*?)</tr>", steps_html(state.step_list()))[1:]
    cells = [re.findall(r"<td[^>]*>(.*?)</td>", row) for row in rows]

    statuses = [re.sub(r"<[^>]+>", "", row[2]) for row in cells]
    assert statuses == ["⊘ cancelled", "• paused", "⏳ running", "✗ failed"]
    assert [row[3] for row in cells] == ["0 ms", "1.5 s", "—", "—"]
    assert duration(-0.4) == "0 ms"
    assert duration(None) == "—"


def test_times_read_as_a_person_reads_them() -> None:
    now = datetime(2026, 3, 4, 15, 38, 10, tzinfo=UTC)
    assert when("2026-03-04T15:42:58.471750Z", now) == "in 4 min (15:42 UTC)"
    assert when("2026-03-04T15:35:00+00:00", now) == "3 min ago (15:35 UTC)"
    assert when("2026-03-05T15:38:09.999Z", now) == "in 23 h 59 min (2026-03-05 15:38 UTC)"
    assert when("2026-03-01T10:00:00", now) == "3 days ago (2026-03-01 10:00 UTC)"  # no zone: UTC
    assert when("2026-03-04T17:38:12+02:00", now) == "in 2 s (15:38 UTC)"
    assert when("2026-03-04T15:35:00Z", now, relative=False) == "15:35 UTC"
    assert when("2026-03-01T10:00:00Z", now, relative=False) == "2026-03-01 10:00 UTC"
    assert when(None, now) == "—"
    assert when("soon", now) == "soon"  # not a time: shown as the API gave it


def test_people_are_named_not_given_as_audit_subjects() -> None:
    assert person("key:ci bot") == "ci bot"
    assert person("oidc:00u1abc") == "00u1abc"
    assert person("oidc:00u1abc", "Ada Lovelace") == "Ada Lovelace"
    assert person(None) == "—"
    version = {"created_by": "oidc:00u1abc", "created_by_name": "Ada Lovelace"}
    assert who(version, "created_by") == "Ada Lovelace"
    assert who({"created_by": "key:ci bot", "created_by_name": None}, "created_by") == "ci bot"
    # Who published a version is no part of the configuration two versions are compared by.
    assert version_config({"number": 2, **version, "system_prompt": "Hi."}) == {
        "system_prompt": "Hi."
    }
    record = {"id": "apr_1", "status": "approved", "decided_by": "oidc:00u1abc",
              "decided_by_name": "Ada Lovelace"}  # fmt: skip
    approval = Approval("apr_1", 2, "calculator", status="approved", decided_by="oidc:00u1abc")
    approval.record = record
    assert "by Ada Lovelace" in decisions_html([approval])
    approval.record = None  # known from its event only: the subject, without its prefix
    assert "by 00u1abc" in decisions_html([approval])
    assert decisions_html([Approval("apr_2", 3, "calculator")]) == ""  # pending: not settled


def test_version_diff_shows_a_changed_system_prompt(api: AgentRuntimeClient) -> None:
    agent = new_agent(
        api,
        script({"text": "hi"}, system_prompt="You are terse."),
        script({"text": "hi"}, system_prompt="You are terse.\nAlways cite a source."),
    )

    diff = VersionDiff(agent["name"], 1, "latest", client=api)

    assert diff.changed_fields == {
        "system_prompt": ("You are terse.", "You are terse.\nAlways cite a source.")
    }
    assert "+Always cite a source." in diff.prompt_diff.splitlines()
    assert '-  "system_prompt": "You are terse.",' in diff.config_diff.splitlines()
    added = '<span class="diff_add">Always&nbsp;cite&nbsp;a&nbsp;source.</span>'
    assert added in diff.prompt_view.value  # marked as added in the side-by-side table
    assert "<code>system_prompt</code>" in diff.fields_view.value
    assert "(1 field differs)" in diff.fields_view.value
    # Who published each version, and when: the person, not the audit subject.
    assert diff.a["created_by"] == f"key:{ADMIN}"
    assert re.search(rf"<b>v1</b> by {re.escape(ADMIN)}, (just now|\d+ s ago) \(", diff.html)
    assert "<b>v2</b> by" in diff.html
    assert "key:" not in diff.html
    bundle = diff._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle


def test_version_diff_marks_a_field_one_version_lacks(api: AgentRuntimeClient) -> None:
    agent = new_agent(api, script({"text": "hi"}, tools=[]), script({"text": "hi"}))

    diff = VersionDiff(agent["id"], 1, 2, client=api)

    # The data says "absent", not how a table draws it; the table shows a dash.
    assert diff.changed_fields["tools[calculator].name"] == (ABSENT, "calculator")
    values = [value for pair in diff.changed_fields.values() for value in pair]
    assert not any(isinstance(value, str) and value in {"—", "-"} for value in values)
    row = re.search(r"<code>tools\[calculator\]\.name</code></td>(.*?)</tr>", diff.html)
    assert row is not None
    assert re.findall(r"<td[^>]*>(.*?)</td>", row.group(1)) == ["—", "calculator"]
    # A field set to null is no absent field.
    assert changed_fields({"a": None, "b": 1}, {"b": 2}) == {"a": (None, ABSENT), "b": (1, 2)}
    assert not ABSENT  # falsy, as a missing value reads


def test_compare_versions_runs_every_input_on_every_version(api: AgentRuntimeClient) -> None:
    echo = script()
    echo["model"] = {"provider": "scripted", "name": "demo"}  # no script: it echoes the input
    agent = new_agent(api, echo, script({"text": "Version two."}))

    table = compare_versions(agent["id"], [1, 2], ["alpha", "beta"], client=api, show=False)

    assert list(zip(table["version"], table["input"], table["output"], strict=True)) == [
        (1, "alpha", "alpha"),
        (1, "beta", "beta"),
        (2, "alpha", "Version two."),
        (2, "beta", "Version two."),
    ]
    assert set(table["status"]) == {"succeeded"}
    assert list(table["steps"]) == [1, 1, 1, 1]
    assert (table["tokens"] > 0).all()
    assert (table["latency_s"] > 0).all()
    assert "<table" in table._repr_html_()
    assert chart_png(table).startswith(b"\x89PNG")
    # The scripted model costs nothing: the cost axis still starts at 0, never below.
    assert set(table["cost_usd"]) == {0.0}
    cost_axes, latency_axes = comparison_chart(table).axes
    assert cost_axes.get_ylim() == (0.0, 1.0)
    assert "no cost recorded" in [text.get_text() for text in cost_axes.texts]
    assert latency_axes.get_ylim()[0] == 0.0
    assert latency_axes.get_ylim()[1] >= table.groupby("version")["latency_s"].mean().max()
    assert not latency_axes.texts


# The notebooks, in a real kernel


@pytest.fixture(scope="module")
def jupyter_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """Jupyter and IPython write under a temp dir; the test kernel is this venv's interpreter."""
    base = tmp_path_factory.mktemp("jupyter")
    env = {
        "JUPYTER_CONFIG_DIR": str(base / "config"),
        "JUPYTER_DATA_DIR": str(base / "data"),
        "JUPYTER_RUNTIME_DIR": str(base / "runtime"),
        "IPYTHONDIR": str(base / "ipython"),
        "JUPYTER_PLATFORM_DIRS": "1",
    }
    kernel = base / "data" / "kernels" / KERNEL
    kernel.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    spec = {"argv": argv, "display_name": "Python 3 (this venv)", "language": "python"}
    (kernel / "kernel.json").write_text(json.dumps(spec))
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        assert KernelSpecManager().get_kernel_spec(KERNEL).argv[0] == sys.executable
        yield env


def execute(name: str, stack: DevStack, key: str, jupyter_env: dict[str, str]) -> Any:
    """The notebook, run top to bottom; then one more cell telling which Python ran it."""
    notebook = read_notebook(name)
    notebook.cells.append(new_code_cell("import sys\nprint(sys.executable)"))  # type: ignore[no-untyped-call]
    env = clean_env(
        **jupyter_env, AGENT_RUNTIME_URL=stack.url, AGENT_RUNTIME_TOKEN=key, PYTHONPATH=str(ROOT)
    )
    resources = {"metadata": {"path": str(NOTEBOOKS)}}  # the kernel's working directory
    client = NotebookClient(notebook, timeout=120, kernel_name=KERNEL, resources=resources)
    client.execute(env=env)
    assert text_of(notebook.cells[-1]).strip() == sys.executable
    return notebook


def read_notebook(name: str) -> Any:
    return nbformat.read(NOTEBOOKS / name, as_version=4)  # type: ignore[no-untyped-call]


def text_of(cell: Any) -> str:
    return "".join(
        output.get("text", "") or output.get("data", {}).get("text/plain", "")
        for output in cell.get("outputs", [])
    )


def all_text(notebook: Any) -> str:
    return "\n".join(text_of(cell) for cell in notebook.cells)


def widget_states(notebook: Any, model_name: str) -> list[dict[str, Any]]:
    saved = notebook.metadata.get("widgets", {}).get("application/vnd.jupyter.widget-state+json")
    states = (saved or {}).get("state", {}).values()
    return [state["state"] for state in states if state["model_name"] == model_name]


@pytest.mark.parametrize("name", NOTEBOOK_FILES)
def test_notebooks_are_stored_without_outputs(name: str) -> None:
    notebook = read_notebook(name)
    nbformat.validate(notebook)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code
    assert all(not cell.outputs and cell.execution_count is None for cell in code)
    assert notebook.cells[0].cell_type == "markdown"


def test_quickstart_notebook(stack: DevStack, admin_key: str, jupyter_env: dict[str, str]) -> None:
    notebook = execute("quickstart.ipynb", stack, admin_key, jupyter_env)
    text = all_text(notebook)
    assert "asks to run calculator {'expression': '6*7'}" in text
    assert "status: succeeded" in text
    assert "output: 6 times 7 is **42**." in text
    assert "2 tool calculator succeeded" in text
    assert "'approval.requested', 'approval.decided'" in text
    # The background thread filled the widget's Output in the kernel: the saved widget state.
    outputs = [out for state in widget_states(notebook, "OutputModel") for out in state["outputs"]]
    assert any("42" in out["data"].get("text/markdown", "") for out in outputs)


def test_compare_versions_notebook(
    stack: DevStack, admin_key: str, jupyter_env: dict[str, str]
) -> None:
    notebook = execute("compare-versions.ipynb", stack, admin_key, jupyter_env)
    text = all_text(notebook)
    assert "system_prompt: 'Repeat what the user says.' -> 'You are a careful" in text
    assert "tools[calculator].name: <absent> -> 'calculator'" in text
    outputs = [output for cell in notebook.cells for output in cell.get("outputs", [])]
    assert any("image/png" in output.get("data", {}) for output in outputs)  # the chart
    assert any("text/html" in output.get("data", {}) for output in outputs)  # the tables
    rows = [line for line in text.splitlines() if re.match(r"\s+[12] .* succeeded", line)]
    assert len(rows) == 6, text
    assert sum("The answer is 42." in row for row in rows) == 3


def test_automation_notebook(stack: DevStack, admin_key: str, jupyter_env: dict[str, str]) -> None:
    text = all_text(execute("automation.ipynb", stack, admin_key, jupyter_env))
    assert "first: 202 retry: 200 other body: 422" in text
    assert "the retry returned the same run: True" in text
    assert re.search(r"step\.started\s+tool calculator", text)
    assert re.search(r"run\.completed\s+succeeded", text)
    assert "2 tool calculator succeeded" in text
    assert "status: succeeded | output: 6 times 7 is 42." in text


def test_chat_notebook(stack: DevStack, admin_key: str, jupyter_env: dict[str, str]) -> None:
    notebook = execute("chat.ipynb", stack, admin_key, jupyter_env)
    text = all_text(notebook)
    assert "answer 1: Hello! You said: Hi, I am Ada." in text
    assert "answer 2: You have said 2 things: Hi, I am Ada. | What have I said?" in text
    assert re.search(r"thread: thr_\w+", text), text
    lines = [line.strip() for line in text.splitlines()]
    roles = [line.split(":", 1)[0] for line in lines if line.startswith(("user:", "assistant:"))]
    assert roles == ["user", "assistant", "user", "assistant"], text
    # The background thread drew the recorded conversation into the widget in the kernel.
    shown = [state.get("value", "") for state in widget_states(notebook, "HTMLModel")]
    assert any("You have said 2 things" in value for value in shown)


# `agent-runtime notebook`


def test_the_notebook_command_serves_jupyter(
    stack: DevStack, admin_key: str, jupyter_env: dict[str, str], tmp_path: Path
) -> None:
    port = free_port()
    log = tmp_path / "notebook.log"
    env = {
        k: v for k, v in clean_env().items() if k not in {"AGENT_RUNTIME_TOKEN", "JUPYTER_TOKEN"}
    }
    with log.open("w") as sink:
        server = subprocess.Popen(
            [
                str(BIN / "agent-runtime"),
                "notebook",
                "--port",
                str(port),
                "--no-browser",
                "--api-url",
                stack.url,
                "--data-dir",
                str(stack.data_dir),
            ],
            stdout=sink,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
    try:
        wait_until(lambda: "token=" in log.read_text(), timeout=30)
        match = re.search(rf"http://127\.0\.0\.1:{port}/\?token=(\w+)", log.read_text())
        assert match, log.read_text()
        headers = {"Authorization": f"token {match.group(1)}"}
        status_url = f"http://127.0.0.1:{port}/api/status"
        wait_until(lambda: answers(status_url, headers), timeout=60)
        assert httpx.get(status_url).status_code == 403  # no token, no entry
        contents = httpx.get(f"http://127.0.0.1:{port}/api/contents", headers=headers).json()
        assert set(NOTEBOOK_FILES) <= {item["name"] for item in contents["content"]}
        # The printed PID is the server's own; its environment reaches the API.
        server_env = dict(
            line.split("=", 1)
            for line in Path(f"/proc/{server.pid}/environ").read_text().split("\0")
            if "=" in line
        )
        assert "jupyter_server" in Path(f"/proc/{server.pid}/cmdline").read_text()
        assert server_env["AGENT_RUNTIME_URL"] == stack.url
        assert server_env["AGENT_RUNTIME_TOKEN"] == admin_key
        os.kill(server.pid, signal.SIGTERM)
        server.wait(timeout=20)
    finally:
        stop_process(server)


def answers(url: str, headers: dict[str, str]) -> bool:
    try:
        return httpx.get(url, headers=headers, timeout=2).status_code == 200
    except httpx.TransportError:
        return False
