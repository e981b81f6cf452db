"""`agent-runtime runs list | show | follow`: the tenant's runs, one run in full, one run live."""

import json
import sys
from collections.abc import Callable, Iterator
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.json import JSON
from rich.markdown import Markdown
from rich.table import Table
from rich.text import Text

from cli.api_access import (
    NAMED_SOMETHING_WRONG,
    ApiToken,
    ApiUrl,
    RunId,
    api_client,
    error_console,
    get_run,
    resolve_agent,
    usage_error,
)
from cli.cancel_command import cancel
from cli.formatting import actor, ago, plural, seconds_between, seconds_since
from cli.help_format import Command, Group
from cli.run_command import (
    ApproveAllOption,
    JsonOption,
    NoInputOption,
    approver_for,
    follow_to_the_end,
)
from cli.run_view import duration, money, one_line
from cli.tables import new_table, print_table
from client import AgentRuntimeClient, ApiError

PAGE_SIZE_MAX = 200  # the API's largest page
STATUS_STYLES = {
    "succeeded": "green",
    "failed": "red",
    "timed_out": "red",
    "cancelled": "yellow",
    "cancelling": "yellow",
    "awaiting_approval": "magenta",
}


def status_text(status: str) -> Text:
    return Text(status, style=STATUS_STYLES.get(status, "cyan"))  # cyan: still going


def run_duration(run: dict[str, Any]) -> Text:
    """From its start (or creation) to its end; a run still going shows its time so far."""
    begun = run.get("started_at") or run.get("created_at")
    if run.get("ended_at"):
        seconds = seconds_between(begun, run["ended_at"])
        return Text(duration((seconds or 0.0) * 1000))
    if not run.get("started_at"):
        return Text("—", style="dim")
    so_far = seconds_since(begun) or 0.0
    return Text(f"{duration(so_far * 1000)}…", style="dim")


def created_by(record: dict[str, Any]) -> str:
    return actor(record.get("created_by_name"), record.get("created_by"))


class AgentNames:
    """Agent ids to names, each agent read once."""

    def __init__(self, client: AgentRuntimeClient) -> None:
        self.client = client
        self.names: dict[str, str] = {}

    def __call__(self, agent_id: str) -> str:
        if agent_id not in self.names:
            try:
                self.names[agent_id] = str(self.client.get_agent(agent_id)["name"])
            except ApiError:
                self.names[agent_id] = agent_id  # e.g. not readable any more: its id says enough
        return self.names[agent_id]


def newest_runs(
    client: AgentRuntimeClient,
    agent_id: str | None,
    status: str | None,
    limit: int,
    search: str | None,
) -> list[dict[str, Any]]:
    """Up to `limit` runs, newest first, reading no more pages than that takes."""
    runs: list[dict[str, Any]] = []
    cursor: str | None = None
    try:
        while len(runs) < limit:
            page = client.list_runs_page(
                agent_id,
                status,
                limit=min(limit - len(runs), PAGE_SIZE_MAX),
                cursor=cursor,
                q=search or None,  # the API's search of the inputs: sent only when asked for
            )
            runs.extend(page["items"])
            cursor = page["next_cursor"]
            if not cursor:
                break
    except ApiError as exc:
        if exc.status in NAMED_SOMETHING_WRONG:  # e.g. a status the API does not know
            raise usage_error(exc) from None
        raise
    return runs[:limit]


def run_cells(run: dict[str, Any], steps: int, agent_name: Callable[[str], str]) -> dict[str, Any]:
    return {
        "run": run["id"],
        "agent": agent_name(run["agent_id"]),
        "version": f"v{run['version']}",
        "status": status_text(run["status"]),
        "steps": plural(steps, "step"),
        "cost": money(run.get("cost_usd") or 0),
        "duration": run_duration(run),
        "created": ago(run.get("created_at")),
        "created by": created_by(run),
    }


def runs_table(rows: list[dict[str, Any]]) -> Table:
    table = new_table()
    table.add_column("run", no_wrap=True)
    table.add_column("agent")
    table.add_column("version", justify="right")
    table.add_column("status", no_wrap=True)
    for name in ("steps", "cost", "duration"):
        table.add_column(name, justify="right", no_wrap=True)
    table.add_column("created", no_wrap=True)
    table.add_column("created by")
    for row in rows:
        table.add_row(*row.values())
    return table


def runs_lines(rows: list[dict[str, Any]]) -> Iterator[Text]:
    """Two lines a run, for a terminal too narrow for the table."""
    for row in rows:
        line = Text(f"{row['run']}  ")
        line.append_text(row["status"])
        line.append(f"  {row['steps']}  {row['cost']}  {row['duration'].plain}")
        yield line
        yield Text(
            f"  {row['agent']} {row['version']}  ·  created {row['created']} by "
            f"{row['created by']}",
            style="dim",
        )


def list_runs(
    agent: Annotated[
        str | None,
        typer.Option(metavar="AGENT", help="Only this agent's runs: its id (agt_...) or name."),
    ] = None,
    status: Annotated[
        str | None,
        typer.Option(metavar="STATUS", help="Only runs in this status, e.g. failed."),
    ] = None,
    limit: Annotated[
        int, typer.Option(metavar="N", min=1, help="At most this many runs, newest first.")
    ] = 20,
    search: Annotated[
        str | None,
        typer.Option(metavar="TEXT", help="Only runs whose input contains this text."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the runs as JSON.")] = False,
    url: ApiUrl = None,
    token: ApiToken = None,
) -> None:
    """The tenant's runs, newest first: agent, version, status, steps, cost, duration, who.

    Exit code: 0 listed (none found too); 1 the API failed or refused (a bad token,
    a role that may not) or cannot be reached; 2 a usage error: a bad argument
    (an unknown status), or an agent that does not exist; 130 Ctrl-C.
    """
    console, errors = Console(), error_console()
    with api_client(url, token, errors) as client:
        with errors.status("reading runs"):
            agent_id = resolve_agent(client, agent)["id"] if agent else None
            runs = newest_runs(client, agent_id, status, limit, search)
        if as_json:
            sys.stdout.write(json.dumps(runs, indent=2) + "\n")
            return
        if not runs:
            console.print("No runs match." if agent or status or search else "No runs yet.")
            return
        with errors.status(f"counting the steps of {plural(len(runs), 'run')}"):
            # A run's record has no step count: its steps are listed to count them.
            agent_name = AgentNames(client)
            rows = [run_cells(run, len(client.list_steps(run["id"])), agent_name) for run in runs]
        print_table(console, runs_table(rows), lambda: runs_lines(rows))


def _steps_table(steps: list[dict[str, Any]]) -> Table:
    table = new_table()
    table.add_column("#", justify="right")
    table.add_column("kind")
    table.add_column("name", overflow="fold")
    table.add_column("status", no_wrap=True)
    table.add_column("duration", justify="right", no_wrap=True)
    table.add_column("error", overflow="fold")
    for step in steps:
        seconds = seconds_between(step.get("started_at"), step.get("ended_at"))
        error = step.get("error") or {}
        table.add_row(
            str(step["seq"]),
            step["kind"],
            step["name"],
            status_text(step["status"]),
            duration(seconds * 1000) if seconds is not None else Text("—", style="dim"),
            Text(one_line(str(error.get("message") or "")), style="red"),
        )
    return table


def _print_run(
    console: Console,
    run: dict[str, Any],
    agent_name: str,
    steps: list[dict[str, Any]],
    approvals: list[dict[str, Any]],
) -> None:
    heading = Text()
    heading.append(f"{run['id']}  ·  {agent_name} v{run['version']}  ·  ")
    heading.append(run["status"], style=f"bold {STATUS_STYLES.get(run['status'], 'cyan')}")
    console.print(heading)
    usage = run.get("usage") or {}
    tokens_in, tokens_out = usage.get("input_tokens", 0), usage.get("output_tokens", 0)
    console.print(
        f"created {ago(run.get('created_at'))} by {created_by(run)}  ·  took "
        f"{run_duration(run).plain}  ·  {tokens_in + tokens_out} tokens ({tokens_in} in, "
        f"{tokens_out} out)  ·  {money(run.get('cost_usd') or 0)}",
        highlight=False,
        markup=False,
    )
    console.print(Text("input: ", style="bold") + Text(one_line(str(run.get("input")), 200)))
    if run.get("context"):
        console.print(Text("context: ", style="bold") + Text(json.dumps(run["context"])))
    if run.get("trace_url"):
        console.print(Text("trace: ", style="bold") + Text(run["trace_url"]))
    console.print()
    console.print(_steps_table(steps) if steps else Text("No steps yet.", style="dim"))
    for approval in approvals:
        line = Text(f"approval {approval['id']}  {approval['tool_name']}  {approval['status']}")
        if approval.get("decided_by"):
            line.append(f" by {actor(approval.get('decided_by_name'), approval['decided_by'])}")
        if approval.get("comment"):
            line.append(f": {approval['comment']}")
        console.print(line, style="dim")
    output, error = run.get("output"), run.get("error")
    if isinstance(output, str) and output.strip():
        console.print()
        console.print(Markdown(output))
    elif output not in (None, ""):
        console.print()
        console.print(JSON(json.dumps(output, indent=2, default=str)))
    if error:
        message = Text("error: ", style="red bold")
        message.append(str(error.get("message", error)), style="red")
        if error.get("code"):
            message.append(f" ({error['code']})", style="dim")
        console.print(message)


def show_run(
    run_id: RunId,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the run, its steps and approvals as JSON.")
    ] = False,
    url: ApiUrl = None,
    token: ApiToken = None,
) -> None:
    """One run: who started it and when, its steps, its approvals, its output or error.

    Exit code: 0 shown (whatever the run's status); 1 the API failed or refused (a bad
    token, a role that may not) or cannot be reached; 2 a usage error: a run id that
    does not exist; 130 Ctrl-C.
    """
    console, errors = Console(), error_console()
    with api_client(url, token, errors) as client:
        run = get_run(client, run_id)
        steps = client.list_steps(run_id)
        approvals = client.list_approvals(run_id=run_id)
        if as_json:
            shown = {**run, "steps": steps, "approvals": approvals}
            sys.stdout.write(json.dumps(shown, indent=2) + "\n")
            return
        _print_run(console, run, AgentNames(client)(run["agent_id"]), steps, approvals)


def follow_run(
    run_id: RunId,
    approve_all: ApproveAllOption = False,
    no_input: NoInputOption = False,
    as_json: JsonOption = False,
    url: ApiUrl = None,
    token: ApiToken = None,
) -> None:
    r"""Follow a run live, as `agent-runtime run` does; a finished run is replayed.

    Its steps, the streamed answer, approvals and the outcome, as they come.

    A gated tool call asks "Approve? \[y/n]" on stdin; --approve-all approves every
    one; --no-input never asks. --json follows silently and prints the finished run.

    Exit code: 0 the run succeeded; 1 it did not (failed, cancelled, timed out),
    or the API failed or refused (a bad token, a role that may not) or cannot be
    reached; 2 a usage error: a run id that does not exist; 130 Ctrl-C, which stops
    following and leaves the run going.
    """
    errors = error_console()
    approver = approver_for(approve_all, no_input, as_json, errors)
    with api_client(url, token, errors) as client:
        run = get_run(client, run_id)
        agent_name = AgentNames(client)(run["agent_id"])
        heading = f"run {run_id}  ·  {agent_name} v{run['version']}"
        code = follow_to_the_end(client, run_id, heading, approver, as_json)
    raise typer.Exit(code)


def register(app: typer.Typer, panel: str) -> None:
    runs = typer.Typer(
        cls=Group,
        no_args_is_help=True,
        help="The tenant's runs: list them, show one, follow one live.",
    )
    runs.command("list", cls=Command)(list_runs)
    runs.command("show", cls=Command)(show_run)
    runs.command("follow", cls=Command)(follow_run)
    app.add_typer(runs, name="runs", rich_help_panel=panel)
    app.command("cancel", cls=Command, rich_help_panel=panel)(cancel)
