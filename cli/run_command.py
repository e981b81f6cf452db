"""`agent-runtime run`: start a run of an agent and follow it live, answering its approvals.

It talks to the API through `client` only, so it works against any deployment.
"""

import json
import sys
import time
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console

from cli.run_approvals import ApproveAll, Approver, AskOnStdin, LeaveToOthers
from cli.run_view import RunView, SilentView, print_outcome, view_for
from client import AgentRuntimeClient, ApiError
from client.api import DEFAULT_BASE_URL
from client.run_state import RunState

EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


class UsageError(Exception):
    """The command named something that is not there: exit code 2."""


def resolve_agent(client: AgentRuntimeClient, reference: str) -> dict[str, Any]:
    """An agent id (`agt_...`) or an exact agent name."""
    if reference.startswith("agt_"):
        try:
            return client.get_agent(reference)
        except ApiError as exc:
            if exc.status == 404:
                raise UsageError(f"no agent has the id {reference}") from None
            raise
    named = [agent for agent in client.list_agents(search=reference) if agent["name"] == reference]
    if not named:
        raise UsageError(f"no agent is named {reference!r}; pass an agent id or exact name")
    if len(named) > 1:
        ids = ", ".join(agent["id"] for agent in named)
        raise UsageError(f"{len(named)} agents are named {reference!r}; pass an id: {ids}")
    return named[0]


def parse_context(raw: str | None) -> dict[str, Any]:
    if raw is None:
        return {}
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise typer.BadParameter(f"not JSON ({exc})", param_hint="--context") from None
    if not isinstance(value, dict):
        raise typer.BadParameter("must be a JSON object", param_hint="--context")
    return value


def follow(client: AgentRuntimeClient, run_id: str, view: RunView, approver: Approver) -> RunState:
    """Shows the run's events until it ends; returns the run as they told it."""
    for event in client.follow_events(run_id):
        change = view.show(event)
        if change.approval is not None and change.approval.status == "pending":
            approver(client, view, change.approval)
    if not view.run.finished:
        # The stream ended without run.completed (it could not be written): the run has its fields.
        view.run.seed(run=client.get_run(run_id))
    return view.run


def _detached(errors: Console, client: AgentRuntimeClient, run_id: str, rerun: bool) -> None:
    base = str(client.http.base_url).rstrip("/")
    auth = '-H "Authorization: Bearer $AGENT_RUNTIME_TOKEN"'
    errors.print(f"Stopped following {run_id}; the run goes on.")
    if rerun:
        errors.print("  follow again: repeat this command (same input and --idempotency-key)")
    errors.print(f"  follow:  curl -N {auth} {base}/v1/runs/{run_id}/events")
    errors.print(f"  cancel:  curl -X POST {auth} {base}/v1/runs/{run_id}/cancel")


def run(
    agent: Annotated[
        str, typer.Argument(metavar="AGENT", help="The agent's id (agt_...) or exact name.")
    ],
    input_text: Annotated[str, typer.Argument(metavar="INPUT", help="What to ask the agent.")],
    version: Annotated[
        int | None,
        typer.Option("--version", min=1, show_default="latest", help="The version's number."),
    ] = None,
    context: Annotated[
        str | None, typer.Option(help="A JSON object given to the run as its context.")
    ] = None,
    approve_all: Annotated[
        bool,
        typer.Option("--approve-all", "--yes", "-y", help="Approve every gated tool call."),
    ] = False,
    no_input: Annotated[
        bool,
        typer.Option(
            "--no-input",
            help="Never ask: gated tool calls wait for a decision made elsewhere.",
        ),
    ] = False,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json",
            help="No live view: print the finished run as JSON. Implies --no-input.",
        ),
    ] = False,
    idempotency_key: Annotated[
        str | None,
        typer.Option(help="Starting again with the same key follows the same run."),
    ] = None,
    url: Annotated[
        str | None,
        typer.Option(envvar="AGENT_RUNTIME_URL", show_default=DEFAULT_BASE_URL, help="The API."),
    ] = None,
    token: Annotated[
        str | None, typer.Option(envvar="AGENT_RUNTIME_TOKEN", help="An API key.")
    ] = None,
) -> None:
    r"""Run an agent and follow it live: its steps, the streamed answer, approvals, the outcome.

    A gated tool call asks "Approve? \[y/n]" on stdin (piped answers work too).
    --approve-all approves every one; --no-input never asks: the run waits
    for a decision made in the workbench or through the API.

    --json follows silently and prints the finished run; gated calls then
    wait for a decision made elsewhere, unless --approve-all.

    Exit code: 0 the run succeeded; 1 it did not, or the API failed;
    2 a usage error (an unknown agent or version); 130 Ctrl-C, which stops
    following and leaves the run going.
    """
    run_context = parse_context(context)
    console = Console()
    errors = Console(stderr=True, soft_wrap=True, highlight=False)
    approver: Approver
    if approve_all:
        approver = ApproveAll()
    elif no_input or as_json:
        approver = LeaveToOthers(errors)
    else:
        approver = AskOnStdin()

    started = time.monotonic()
    with AgentRuntimeClient(url, token) as client:
        run_id: str | None = None
        try:
            try:
                found = resolve_agent(client, agent)
                created = client.start_run(
                    found["id"],
                    input_text,
                    version=version or "latest",
                    context=run_context,
                    idempotency_key=idempotency_key,
                )
            except ApiError as exc:
                if 400 <= exc.status < 500:  # it named something wrong, e.g. a version
                    raise UsageError(exc.message) from None
                raise
            run_id = created["id"]
            if as_json:
                follow(client, run_id, SilentView(console), approver)
                finished = client.get_run(run_id)
                sys.stdout.write(json.dumps(finished, indent=2) + "\n")
                raise typer.Exit(0 if finished["status"] == "succeeded" else EXIT_FAILED)
            console.print(
                f"[dim]run {run_id}  ·  {found['name']} v{created['version']}[/]", highlight=False
            )
            view = view_for(console)
            try:
                followed = follow(client, run_id, view, approver)
            finally:
                view.close()
            print_outcome(console, followed.outcome(), run_id, time.monotonic() - started)
            raise typer.Exit(0 if followed.status == "succeeded" else EXIT_FAILED)
        except UsageError as exc:
            errors.print(f"error: {exc}", markup=False)
            raise typer.Exit(EXIT_USAGE) from None
        except ApiError as exc:
            errors.print(f"error: {exc.message} ({exc.status} {exc.code})", markup=False)
            raise typer.Exit(EXIT_FAILED) from None
        except httpx.TransportError as exc:
            errors.print(f"error: cannot reach the API at {client.http.base_url}: {exc}")
            raise typer.Exit(EXIT_FAILED) from None
        except KeyboardInterrupt:
            if run_id is not None:
                _detached(errors, client, run_id, rerun=idempotency_key is not None)
            raise typer.Exit(EXIT_INTERRUPTED) from None
