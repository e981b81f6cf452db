"""`agent-runtime aliases set | list` and `agent-runtime schedules list`: an agent's aliases
(`prod` -> v3) moved and read, and the tenant's schedules, from a terminal."""

import json
import sys
from collections.abc import Iterator
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from cli.api_access import (
    NAMED_SOMETHING_WRONG,
    ApiToken,
    ApiUrl,
    api_client,
    error_console,
    resolve_agent,
    usage_error,
)
from cli.formatting import actor, ago
from cli.help_format import Command, Group
from cli.tables import new_table, print_table
from client import ApiError

AgentArgument = Annotated[
    str, typer.Argument(metavar="AGENT", help="The agent: its id (agt_...) or exact name.")
]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print them as JSON.")]


def targets(versions: Any) -> str:
    """`v3`, or a split: `v3 90% · v4 10%`; `—` for none."""
    items = [t for t in versions or [] if isinstance(t, dict)]
    if len(items) == 1:
        return f"v{items[0]['version']}"
    total = sum(int(t.get("weight") or 0) for t in items) or 1
    split = [f"v{t['version']} {round(100 * int(t['weight']) / total)}%" for t in items]
    return " · ".join(split) or "—"


def set_alias(
    agent: AgentArgument,
    name: Annotated[str, typer.Argument(metavar="ALIAS", help="The alias, e.g. prod.")],
    version: Annotated[
        int, typer.Argument(metavar="VERSION", min=1, help="The version number it names.")
    ],
    url: ApiUrl = None,
    token: ApiToken = None,
) -> None:
    """Point ALIAS of AGENT at VERSION (created the first time). Runs and schedules that ask
    for ALIAS get VERSION from now on; runs already started keep theirs.

    Exit code: 0 set; 1 the API failed or refused (a bad token, a role that may not) or
    cannot be reached; 2 a usage error: an agent or version that does not exist, an alias
    name that is not valid; 130 Ctrl-C.
    """
    console, errors = Console(), error_console()
    with api_client(url, token, errors) as client:
        found = resolve_agent(client, agent)
        try:
            alias = client.set_alias(found["id"], name, version)
            moves = client.alias_history(found["id"], name)
        except ApiError as exc:
            if exc.status in NAMED_SOMETHING_WRONG:
                raise usage_error(exc) from None
            raise
        line = Text(f"{alias['name']} → {targets(alias['versions'])}", style="bold")
        line.append(f"  {found['name']}", style="dim")
        before = moves[0]["from_versions"] if moves else []
        if before and moves[0]["to_versions"] == alias["versions"]:
            line.append(f"  (was {targets(before)})")
        console.print(line)


def alias_rows(aliases: list[dict[str, Any]]) -> list[dict[str, str]]:
    return [
        {
            "alias": str(alias["name"]),
            "points at": targets(alias.get("versions")),
            "moved by": actor(alias.get("updated_by_name"), alias.get("updated_by")),
            "moved": ago(alias.get("updated_at")),
        }
        for alias in aliases
    ]


def rows_table(rows: list[dict[str, str]], columns: list[str]) -> Table:
    table = new_table()
    for column in columns:
        table.add_column(column, no_wrap=column != "when")
    for row in rows:
        table.add_row(*[row[column] for column in columns])
    return table


def row_lines(rows: list[dict[str, str]], first: str) -> Iterator[Text]:
    """Two lines a row, for a terminal too narrow for the table."""
    for row in rows:
        yield Text(row[first], style="bold")
        rest = [f"{name} {value}" for name, value in row.items() if name != first]
        yield Text("  " + "  ·  ".join(rest), style="dim")


def list_aliases(
    agent: AgentArgument,
    as_json: JsonFlag = False,
    url: ApiUrl = None,
    token: ApiToken = None,
) -> None:
    """The aliases of AGENT: the version (or weighted split) each names, who moved it, when.

    Exit code: 0 listed (none too); 1 the API failed or refused (a bad token) or cannot be
    reached; 2 a usage error: an agent that does not exist; 130 Ctrl-C.
    """
    console, errors = Console(), error_console()
    with api_client(url, token, errors) as client:
        aliases = client.list_aliases(resolve_agent(client, agent)["id"])
        if as_json:
            sys.stdout.write(json.dumps(aliases, indent=2) + "\n")
            return
        if not aliases:
            console.print("No aliases yet: `agent-runtime aliases set AGENT prod VERSION`.")
            return
        rows = alias_rows(aliases)
        columns = ["alias", "points at", "moved by", "moved"]
        print_table(console, rows_table(rows, columns), lambda: row_lines(rows, "alias"))


def schedule_rows(schedules: list[dict[str, Any]], names: dict[str, str]) -> list[dict[str, str]]:
    def when(schedule: dict[str, Any]) -> str:
        if schedule.get("cron"):
            return f"cron {schedule['cron']} ({schedule.get('timezone') or 'UTC'})"
        return f"every {schedule.get('interval_seconds')} s"

    rows = []
    for schedule in schedules:
        upcoming = schedule.get("next_fire_times") or []
        version = str(schedule.get("version"))
        rows.append(
            {
                "schedule": str(schedule["id"]),
                "agent": names.get(schedule["agent_id"], schedule["agent_id"]),
                "version": f"v{version}" if version.isdigit() else version,
                "when": when(schedule),
                "next fire": str(upcoming[0]) if upcoming else "—",
                "state": "paused" if schedule.get("paused") else "active",
                "fires": str(schedule.get("fires", 0)),
            }
        )
    return rows


def list_schedules(
    agent: Annotated[
        str | None,
        typer.Option(metavar="AGENT", help="Only this agent's schedules: its id or name."),
    ] = None,
    as_json: JsonFlag = False,
    url: ApiUrl = None,
    token: ApiToken = None,
) -> None:
    """The tenant's schedules, newest first: agent, version, cron or interval, the next fire
    (UTC), paused or active, how many fires so far.

    Exit code: 0 listed (none too); 1 the API failed or refused (a bad token) or cannot be
    reached; 2 a usage error: an agent that does not exist; 130 Ctrl-C.
    """
    console, errors = Console(), error_console()
    with api_client(url, token, errors) as client:
        agent_id = resolve_agent(client, agent)["id"] if agent else None
        schedules = client.list_schedules(agent_id=agent_id)
        if as_json:
            sys.stdout.write(json.dumps(schedules, indent=2) + "\n")
            return
        if not schedules:
            console.print("No schedules match." if agent else "No schedules yet.")
            return
        agents = [*client.list_agents(), *client.list_agents(archived=True)]
        rows = schedule_rows(schedules, {a["id"]: a["name"] for a in agents})
        columns = list(rows[0])
        print_table(console, rows_table(rows, columns), lambda: row_lines(rows, "schedule"))


def register(app: typer.Typer, panel: str) -> None:
    aliases = typer.Typer(
        cls=Group,
        no_args_is_help=True,
        help="An agent's aliases (prod, staging): point one at a version, list them. "
        "Exit code: 0 success; each command's --help says the others.",
    )
    aliases.command("set", cls=Command)(set_alias)
    aliases.command("list", cls=Command)(list_aliases)
    app.add_typer(aliases, name="aliases", rich_help_panel=panel)
    schedules = typer.Typer(
        cls=Group,
        no_args_is_help=True,
        help="The tenant's schedules (runs fired by cron or interval): list them. "
        "Exit code: 0 success; each command's --help says the others.",
    )
    schedules.command("list", cls=Command)(list_schedules)
    app.add_typer(schedules, name="schedules", rich_help_panel=panel)
