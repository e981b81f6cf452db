"""`agent-runtime approvals | approve | reject`: the tool calls waiting for a person, decided."""

import json
import sys
from collections.abc import Iterator
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from cli.api_access import (
    EXIT_FAILED,
    NAMED_SOMETHING_WRONG,
    ApiToken,
    ApiUrl,
    api_client,
    error_console,
    get_approval,
    resolve_agent,
    usage_error,
)
from cli.formatting import actor, ago, expires_in
from cli.help_format import Command
from cli.run_view import one_line
from cli.tables import new_table, print_table
from client import ApiError

ARGUMENTS_WIDTH = 60

ApprovalId = Annotated[
    str,
    typer.Argument(metavar="APPROVAL", help="The approval's id (from `agent-runtime approvals`)."),
]
Comment = Annotated[str | None, typer.Option(metavar="TEXT", help="Why; kept with the decision.")]


def approval_cells(approval: dict[str, Any]) -> dict[str, str]:
    arguments = json.dumps(approval.get("arguments") or {}, ensure_ascii=False)
    return {
        "approval": approval["id"],
        "run": approval["run_id"],
        "tool": approval["tool_name"],
        "arguments": one_line(arguments, ARGUMENTS_WIDTH),
        "requested": ago(approval.get("requested_at")),
        "expires": expires_in(approval.get("expires_at")),
    }


def approvals_table(rows: list[dict[str, str]]) -> Table:
    table = new_table()
    for name in ("approval", "run"):
        table.add_column(name, no_wrap=True)
    table.add_column("tool")
    table.add_column("arguments")
    for name in ("requested", "expires"):
        table.add_column(name, no_wrap=True)
    for row in rows:
        table.add_row(*row.values())
    return table


def approvals_lines(rows: list[dict[str, str]]) -> Iterator[Text]:
    """Two lines an approval, for a terminal too narrow for the table."""
    for row in rows:
        yield Text(f"{row['approval']}  {row['tool']} {row['arguments']}")
        yield Text(
            f"  run {row['run']}  ·  requested {row['requested']}  ·  expires {row['expires']}",
            style="dim",
        )


def list_pending(
    agent: Annotated[
        str | None,
        typer.Option(metavar="AGENT", help="Only this agent's runs: its id (agt_...) or name."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print them as JSON.")] = False,
    url: ApiUrl = None,
    token: ApiToken = None,
) -> None:
    """The tool calls waiting for a decision: run, tool, arguments, when asked, when they expire.

    Decide with `agent-runtime approve APPROVAL` or `agent-runtime reject APPROVAL`.

    Exit code: 0 listed (none waiting too); 1 the API failed or refused (a bad token)
    or cannot be reached; 2 a usage error: an agent that does not exist; 130 Ctrl-C.
    """
    console, errors = Console(), error_console()
    with api_client(url, token, errors) as client:
        agent_id = resolve_agent(client, agent)["id"] if agent else None
        pending = [
            approval
            for approval in client.list_approvals(status="pending")
            if agent_id is None or approval.get("agent_id") == agent_id
        ]
        if as_json:
            sys.stdout.write(json.dumps(pending, indent=2) + "\n")
            return
        if not pending:
            console.print("No approvals are waiting.")
            return
        rows = [approval_cells(approval) for approval in pending]
        print_table(console, approvals_table(rows), lambda: approvals_lines(rows))


def decision_line(approval: dict[str, Any]) -> Text:
    """`✓ approved appr_…  calculator {"expression": "6*7"}  run run_…  by ci-bot: fine`"""
    approved = approval["status"] == "approved"
    line = Text()
    line.append("✓ " if approved else "✗ ", style="green" if approved else "red")
    line.append(f"{approval['status']} {approval['id']}  ", style="bold")
    arguments = approval.get("edited_arguments") or approval.get("arguments") or {}
    line.append(f"{approval['tool_name']} {one_line(json.dumps(arguments), ARGUMENTS_WIDTH)}")
    line.append(f"  run {approval['run_id']}", style="dim")
    line.append(f"  by {actor(approval.get('decided_by_name'), approval.get('decided_by'))}")
    if approval.get("comment"):
        line.append(f": {approval['comment']}")
    return line


def _decide(
    approval_id: str,
    decision: str,
    comment: str | None,
    arguments: dict[str, Any] | None,
    url: str | None,
    token: str | None,
) -> None:
    console, errors = Console(), error_console()
    with api_client(url, token, errors) as client:
        approval = get_approval(client, approval_id)
        try:
            decided = client.decide_approval(
                approval["run_id"], approval_id, decision, comment, arguments
            )
        except ApiError as exc:
            if exc.status == 409:  # decided otherwise already, or expired
                now = client.get_approval(approval_id)
                by = f" by {actor(now.get('decided_by_name'), now['decided_by'])}"
                errors.print(
                    f"error: {approval_id} is {now['status']} already"
                    + (by if now.get("decided_by") else ""),
                    markup=False,
                )
                raise typer.Exit(EXIT_FAILED) from None
            if exc.status in NAMED_SOMETHING_WRONG:  # e.g. arguments the tool's schema refuses
                raise usage_error(exc) from None
            raise
        console.print(decision_line(decided), soft_wrap=True, highlight=False)


def _json_object(raw: str | None) -> dict[str, Any] | None:
    if raw is None:
        return None
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise typer.BadParameter(f"not JSON ({exc})", param_hint="--arguments") from None
    if not isinstance(value, dict):
        raise typer.BadParameter("must be a JSON object", param_hint="--arguments")
    return value


def approve(
    approval_id: ApprovalId,
    comment: Comment = None,
    arguments: Annotated[
        str | None,
        typer.Option(
            metavar="JSON",
            help="Run the tool with these arguments instead (a JSON object, checked against "
            "the tool's schema).",
        ),
    ] = None,
    url: ApiUrl = None,
    token: ApiToken = None,
) -> None:
    """Approve a waiting tool call: the run goes on and the tool runs.

    Exit code: 0 approved (or approved already); 1 it was decided otherwise or has
    expired, or the API failed or refused (a bad token, a viewer's role) or cannot be
    reached; 2 a usage error: an approval id that does not exist, or --arguments the
    tool's schema refuses; 130 Ctrl-C.
    """
    _decide(approval_id, "approve", comment, _json_object(arguments), url, token)


def reject(
    approval_id: ApprovalId,
    comment: Annotated[
        str | None,
        typer.Option(metavar="TEXT", help="Why; the model reads it as the tool's result."),
    ] = None,
    url: ApiUrl = None,
    token: ApiToken = None,
) -> None:
    """Reject a waiting tool call: the tool does not run, and the model is told why.

    Exit code: 0 rejected (or rejected already); 1 it was decided otherwise or has
    expired, or the API failed or refused (a bad token, a viewer's role) or cannot be
    reached; 2 a usage error: an approval id that does not exist; 130 Ctrl-C.
    """
    _decide(approval_id, "reject", comment, None, url, token)


def register(app: typer.Typer, panel: str) -> None:
    app.command("approvals", cls=Command, rich_help_panel=panel)(list_pending)
    app.command("approve", cls=Command, rich_help_panel=panel)(approve)
    app.command("reject", cls=Command, rich_help_panel=panel)(reject)
