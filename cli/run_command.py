"""`agent-runtime run`: start a run of an agent and follow it live, answering its approvals.

`agent-runtime runs follow` follows a run already started the same way (`follow_to_the_end`).
It talks to the API through `client` only, so it works against any deployment.
"""

import json
import sys
import time
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.text import Text

from cli.api_access import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    NAMED_SOMETHING_WRONG,
    ApiToken,
    ApiUrl,
    api_client,
    error_console,
    resolve_agent,
    usage_error,
)
from cli.formatting import seconds_between
from cli.run_approvals import ApproveAll, Approver, AskOnStdin, LeaveToOthers
from cli.run_view import RunView, SilentView, print_outcome, view_for
from client import AgentRuntimeClient, ApiError
from client.run_state import RunState

# The options of everything that follows a run: who answers its approvals, and how it shows.
ApproveAllOption = Annotated[
    bool,
    typer.Option("--approve-all", "--yes", "-y", help="Approve every gated tool call."),
]
NoInputOption = Annotated[
    bool,
    typer.Option(
        "--no-input", help="Never ask: gated tool calls wait for a decision made elsewhere."
    ),
]


def version_reference(value: str | None) -> int | str | None:
    """`3` names version 3; anything else (`prod`, `latest`) goes to the API as it is."""
    if value is None:
        return None
    return int(value) if value.isdecimal() else value


def _checked_version(value: str | None) -> str | None:
    if value is not None and value.isdecimal() and int(value) < 1:
        raise typer.BadParameter("version numbers start at 1")
    return value


VersionOption = Annotated[
    str | None,
    typer.Option(
        "--version",
        metavar="N|ALIAS",
        show_default="latest",
        help="A version number, or an alias such as prod.",
        callback=_checked_version,
    ),
]
JsonOption = Annotated[
    bool,
    typer.Option(
        "--json", help="No live view: print the finished run as JSON. Implies --no-input."
    ),
]


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


def approver_for(approve_all: bool, no_input: bool, as_json: bool, notes: Console) -> Approver:
    if approve_all:
        return ApproveAll()
    if no_input or as_json:
        return LeaveToOthers(notes)
    return AskOnStdin()


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


def _detached(errors: Console, run_id: str, rerun: bool) -> None:
    errors.print(f"Stopped following {run_id}; the run goes on.", markup=False)
    if rerun:
        errors.print("  follow again: repeat this command (same input and --idempotency-key)")
    errors.print(f"  follow:  agent-runtime runs follow {run_id}", markup=False)
    errors.print(f"  cancel:  agent-runtime cancel {run_id}", markup=False)


def follow_to_the_end(
    client: AgentRuntimeClient,
    run_id: str,
    heading: str,
    approver: Approver,
    as_json: bool,
    started: float | None = None,
    rerun: bool = False,
) -> int:
    """Follows the run until it ends and shows it (or prints it as JSON); returns the exit code.

    `started` (a `time.monotonic()`) is when this command started the run; without it the time
    shown is the run's own, from creation to its end. Ctrl-C stops following, says how to go
    on, and exits 130.
    """
    console, errors = Console(), error_console()
    try:
        if as_json:
            follow(client, run_id, SilentView(console), approver)
            finished = client.get_run(run_id)
            sys.stdout.write(json.dumps(finished, indent=2) + "\n")
            return EXIT_OK if finished["status"] == "succeeded" else EXIT_FAILED
        console.print(Text(heading, style="dim"))
        view = view_for(console)
        try:
            followed = follow(client, run_id, view, approver)
        finally:
            view.close()
        if started is not None:
            seconds = time.monotonic() - started
        else:
            record = followed.record if followed.record is not None else client.get_run(run_id)
            seconds = seconds_between(record.get("created_at"), record.get("ended_at")) or 0.0
        print_outcome(console, followed.outcome(), run_id, seconds)
        return EXIT_OK if followed.status == "succeeded" else EXIT_FAILED
    except KeyboardInterrupt:
        _detached(errors, run_id, rerun)
        raise typer.Exit(EXIT_INTERRUPTED) from None


def run(
    agent: Annotated[
        str, typer.Argument(metavar="AGENT", help="The agent's id (agt_...) or exact name.")
    ],
    input_text: Annotated[str, typer.Argument(metavar="INPUT", help="What to ask the agent.")],
    version: VersionOption = None,
    context: Annotated[
        str | None,
        typer.Option(metavar="JSON", help="A JSON object given to the run as its context."),
    ] = None,
    approve_all: ApproveAllOption = False,
    no_input: NoInputOption = False,
    as_json: JsonOption = False,
    idempotency_key: Annotated[
        str | None,
        typer.Option(metavar="KEY", help="Starting again with the same key follows the same run."),
    ] = None,
    url: ApiUrl = None,
    token: ApiToken = None,
) -> None:
    r"""Run an agent and follow it live: its steps, the streamed answer, approvals, the outcome.

    A gated tool call asks "Approve? \[y/n]" on stdin (piped answers work too).
    --approve-all approves every one; --no-input never asks: the run waits for a
    decision made in the workbench, with `agent-runtime approve`, or through the API.

    --json follows silently and prints the finished run; gated calls then
    wait for a decision made elsewhere, unless --approve-all.

    Reads AGENT_RUNTIME_URL and AGENT_RUNTIME_TOKEN (or --url, --token).

    Exit code: 0 the run succeeded; 1 it did not (failed, cancelled, timed out),
    or the API failed or refused (a bad token, a role that may not) or cannot be
    reached; 2 a usage error: a bad argument, or an agent or version that does not
    exist; 130 Ctrl-C, which stops following and leaves the run going.
    """
    run_context = parse_context(context)
    errors = error_console()
    approver = approver_for(approve_all, no_input, as_json, errors)
    started = time.monotonic()
    with api_client(url, token, errors) as client:
        found = resolve_agent(client, agent)
        try:
            created = client.start_run(
                found["id"],
                input_text,
                version=version_reference(version) or "latest",
                context=run_context,
                idempotency_key=idempotency_key,
            )
        except ApiError as exc:
            if exc.status in NAMED_SOMETHING_WRONG:  # e.g. a version that does not exist
                raise usage_error(exc) from None
            raise
        run_id = created["id"]
        heading = f"run {run_id}  ·  {found['name']} v{created['version']}"
        code = follow_to_the_end(
            client, run_id, heading, approver, as_json, started, idempotency_key is not None
        )
    raise typer.Exit(code)
