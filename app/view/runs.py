"""Runs, their steps, approvals and artifacts as the pages show them."""

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

from app.view.format import (
    cost,
    duration,
    error_text,
    file_link,
    person,
    pretty,
    seconds_between,
    short,
    short_id,
    size,
    tokens,
    when,
)


@dataclass
class RunRow:
    id: str = ""
    short_id: str = ""
    agent_id: str = ""
    agent_name: str = ""
    version: str = ""
    alias: str = ""
    status: str = ""
    input: str = ""
    created: str = ""
    duration: str = ""
    tokens: str = ""
    cost: str = ""


def run_row(run: dict[str, Any], agent_names: dict[str, str] | None = None) -> RunRow:
    usage = run.get("usage") or {}
    total = int(usage.get("input_tokens", 0)) + int(usage.get("output_tokens", 0))
    return RunRow(
        id=run["id"],
        short_id=short_id(run["id"]),
        agent_id=run["agent_id"],
        agent_name=(agent_names or {}).get(run["agent_id"], short_id(run["agent_id"])),
        version=f"v{run.get('version')}",
        alias=str(run.get("alias") or ""),
        status=str(run["status"]),
        input=short(run.get("input"), 80),
        created=when(run.get("created_at"), seconds=True),
        duration=duration(seconds_between(run.get("started_at"), run.get("ended_at"))),
        tokens=f"{total:,}",
        cost=cost(run.get("cost_usd")),
    )


def rerun_link(run: dict[str, Any]) -> str:
    """The agent's launcher (`/agents/<id>?tab=run&version=N&input=…&context=…`), which reads
    these parameters to start from this run's input, context and version."""
    given = run.get("input")
    query = {"tab": "run", "version": str(run["version"])}
    query["input"] = given if isinstance(given, str) else json.dumps(given, ensure_ascii=False)
    if run.get("context"):
        query["context"] = json.dumps(run["context"], ensure_ascii=False, indent=2)
    return f"/agents/{run['agent_id']}?{urlencode(query)}"


@dataclass
class StepView:
    seq: int = 0
    kind: str = "model"
    name: str = ""
    status: str = "running"
    attempt: int = 1
    summary: str = ""
    text: str = ""
    tool_calls: str = ""
    arguments: str = ""
    result: str = ""
    error: str = ""
    tokens: str = ""
    cost: str = ""
    duration: str = ""
    started: str = ""
    output_url: str = ""
    input_url: str = ""
    started_at: str = ""
    ended_at: str = ""
    worker_build: str = ""


def step_view(step: dict[str, Any]) -> StepView:
    """A step as the API lists it (large payloads show as a preview and a link)."""
    output, given = step.get("output"), step.get("input")
    view = StepView(
        seq=int(step["seq"]),
        kind=str(step["kind"]),
        name=str(step["name"]),
        status=str(step["status"]),
        attempt=int(step.get("attempt", 1)),
        error=error_text(step.get("error")),
        tokens=tokens(step.get("usage")),
        cost=cost(step.get("cost_usd")),
        duration=duration(seconds_between(step.get("started_at"), step.get("ended_at"))),
        started=when(step.get("started_at"), seconds=True),
        output_url=file_link(step.get("output_url")),
        input_url=file_link(step.get("input_url")),
        started_at=str(step.get("started_at") or ""),
        ended_at=str(step.get("ended_at") or ""),
        worker_build=str(step.get("worker_build") or ""),
    )
    if isinstance(output, dict) and "$ref" in output:
        view.result = f"{size(output.get('size'))} (preview) {output.get('preview', '')}"
        output = None
    if view.kind == "model":
        if isinstance(output, dict):
            view.text = str(output.get("text") or "")
            calls = output.get("tool_calls") or []
            if calls:
                view.tool_calls = pretty(
                    [{"name": c.get("name"), "arguments": c.get("arguments")} for c in calls]
                )
                view.summary = "calls " + ", ".join(str(c.get("name")) for c in calls)
        # Without text the error says what happened, in its own callout: not twice.
        view.summary = view.summary or short(view.text, 160)
    else:
        if isinstance(given, dict) and "$ref" not in given:
            view.arguments = pretty(given.get("arguments", given))
        elif isinstance(given, dict):
            view.arguments = f"{size(given.get('size'))} (preview) {given.get('preview', '')}"
        if isinstance(output, dict):
            view.result = pretty(output.get("content", output))
        view.summary = short(view.error or view.result, 160)
    return view


@dataclass
class ApprovalView:
    id: str = ""
    run_id: str = ""
    run_short: str = ""
    agent_id: str = ""
    agent_name: str = ""
    step_seq: int = 0
    tool_name: str = ""
    arguments: str = ""
    status: str = "pending"
    requested: str = ""
    expires: str = ""
    decided_by: str = ""
    decided: str = ""
    comment: str = ""
    edited_arguments: str = ""
    requested_at: str = ""
    decided_at: str = ""
    # What led to the call, for whoever decides it away from the run page (the inbox).
    run_input: str = ""
    model_text: str = ""
    steps_before: list[str] = field(default_factory=list)


def approval_view(
    approval: dict[str, Any],
    agent_names: dict[str, str] | None = None,
    me: tuple[str, str] | None = None,
) -> ApprovalView:
    agent_id = str(approval.get("agent_id") or "")
    return ApprovalView(
        id=approval["id"],
        run_id=approval["run_id"],
        run_short=short_id(approval["run_id"]),
        agent_id=agent_id,
        agent_name=(agent_names or {}).get(agent_id, short_id(agent_id) if agent_id else ""),
        step_seq=int(approval.get("step_seq", 0)),
        tool_name=str(approval.get("tool_name", "")),
        arguments=pretty(approval.get("arguments") or {}),
        status=str(approval.get("status", "pending")),
        requested=when(approval.get("requested_at"), seconds=True),
        expires=when(approval.get("expires_at")),
        decided_by=person(approval.get("decided_by"), me, approval.get("decided_by_name")),
        decided=when(approval.get("decided_at"), seconds=True),
        comment=str(approval.get("comment") or ""),
        edited_arguments=pretty(approval.get("edited_arguments"))
        if approval.get("edited_arguments") is not None
        else "",
        requested_at=str(approval.get("requested_at") or ""),
        decided_at=str(approval.get("decided_at") or ""),
    )


def with_conversation(
    view: ApprovalView, run: dict[str, Any], steps: list[dict[str, Any]]
) -> ApprovalView:
    """The approval with what led to it: the run's input, and the steps before the call (a line
    each) with the model's last text before it."""
    before = [step_view(step) for step in steps if int(step["seq"]) < view.step_seq]
    view.run_input = pretty(run.get("input"))
    view.steps_before = [f"#{s.seq} {s.name}: {s.summary or s.error or s.status}" for s in before]
    said = [step.text for step in before if step.kind == "model" and step.text]
    view.model_text = said[-1] if said else ""
    return view


@dataclass
class ArtifactView:
    name: str = ""
    size: str = ""
    content_type: str = ""
    created: str = ""
    url: str = ""


def artifact_view(artifact: dict[str, Any]) -> ArtifactView:
    url = artifact.get("download_url") or (
        f"/v1/runs/{artifact['run_id']}/artifacts/{quote(str(artifact['name']))}"
    )
    return ArtifactView(
        name=str(artifact["name"]),
        size=size(artifact.get("size")),
        content_type=str(artifact.get("content_type", "")),
        created=when(artifact.get("created_at"), seconds=True),
        url=file_link(str(url)),
    )
