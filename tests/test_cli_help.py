"""`agent-runtime ... --help` for every command, and what the CLI says without a stack behind it."""

import io
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import typer
from rich.console import Console
from typer.core import TyperOption
from typer.main import get_command
from typer.testing import CliRunner

from cli.formatting import actor, ago, expires_in, plural, span
from cli.main import app
from cli.runs_commands import run_cells, runs_lines, runs_table
from cli.tables import print_table
from tests.helpers import free_port

# Commands that talk to the API: they share --url and --token and the API's exit codes.
API_COMMANDS = {
    ("run",): ["demo", "hello"],
    ("runs", "list"): [],
    ("runs", "show"): ["run_x"],
    ("runs", "follow"): ["run_x"],
    ("cancel",): ["run_x"],
    ("approvals",): [],
    ("approve",): ["apr_x"],
    ("reject",): ["apr_x"],
    ("aliases", "set"): ["demo", "prod", "1"],
    ("aliases", "list"): ["demo"],
    ("schedules", "list"): [],
}


def command_paths(command: object, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    yield path
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        yield from command_paths(sub, (*path, name))


def command_at(path: tuple[str, ...]) -> object:
    command: object = get_command(app)
    for name in path:
        command = command.commands[name]  # type: ignore[attr-defined]
    return command


EVERY_COMMAND = list(command_paths(get_command(app)))


def invoke(*args: str) -> typer.testing.Result:
    return CliRunner().invoke(app, list(args), env={"COLUMNS": "200", "TERM": "dumb"})


def test_the_cli_has_the_commands_it_documents() -> None:
    assert {" ".join(path) for path in EVERY_COMMAND} >= {
        *("", "run", "runs", "runs list", "runs show", "runs follow", "cancel"),
        *("approvals", "approve", "reject", "dev", "api", "worker", "ui", "migrate"),
        *("admin-key", "notebook"),
    }


@pytest.mark.parametrize("path", EVERY_COMMAND, ids=lambda path: " ".join(path) or "root")
def test_help_shows_flags_as_flags_and_values_by_their_metavar(path: tuple[str, ...]) -> None:
    result = invoke(*path, "--help")
    assert result.exit_code == 0, result.output
    shown = result.output
    assert "<bool>" not in shown
    option_lines = [line for line in shown.splitlines() if re.match(r"^│ +-", line)]
    assert option_lines, shown
    for param in command_at(path).params:  # type: ignore[attr-defined]
        if not isinstance(param, TyperOption) or param.hidden:
            continue
        (line,) = [line for line in option_lines if re.match(rf"^│ +{param.opts[0]}\b", line)]
        rest = line.strip("│ ")
        for name in [*param.opts, *param.secondary_opts]:
            rest = rest.replace(name, "", 1)
        rest = rest.replace(",", "").strip()
        if param.is_flag:
            # The flag (and its negation, if any), then straight to what it does: no type.
            assert rest.startswith(" ".join(str(param.help).split()[:2])), line
        else:
            assert re.match(r"[A-Z]+\b", rest), line


@pytest.mark.parametrize("path", [p for p in EVERY_COMMAND if p and p != ("runs",)], ids=" ".join)
def test_every_command_says_its_exit_codes(path: tuple[str, ...]) -> None:
    shown = " ".join(invoke(*path, "--help").output.split())
    assert "Exit code: 0 " in shown
    if path in API_COMMANDS:
        for code in ("1 ", "2 a usage error", "130 Ctrl-C"):
            assert code in shown, (code, shown)
        assert "a bad token" in shown


def test_the_top_level_help_names_the_exit_codes() -> None:
    shown = " ".join(invoke("--help").output.split())
    assert "0 success; 1 a failure" in shown
    assert "2 a usage error" in shown
    assert "130 Ctrl-C" in shown


@pytest.mark.parametrize("path", list(API_COMMANDS), ids=" ".join)
def test_an_api_that_cannot_be_reached_exits_1(path: tuple[str, ...]) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    result = invoke(*path, *API_COMMANDS[path], "--url", url, "--token", "ark_x")
    assert result.exit_code == 1, result.output
    assert f"cannot reach the API at {url}" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    "args",
    [
        ("runs", "list", "--limit", "0"),
        ("runs", "show"),
        ("cancel", "run_x", "--timeout", "-1"),
        ("approve", "apr_x", "--arguments", "[1]"),
        ("approve", "apr_x", "--arguments", "{nope"),
        ("run", "demo", "hello", "--context", "[1]"),
        ("run", "demo", "hello", "--version", "0"),
        ("runs", "list", "--no-such-option"),
    ],
    ids=" ".join,
)
def test_bad_arguments_exit_2(args: tuple[str, ...]) -> None:
    # The API address is never reached: arguments are checked first.
    result = invoke(*args, "--url", f"http://127.0.0.1:{free_port()}")
    assert result.exit_code == 2, result.output
    assert "cannot reach" not in result.output


def test_names_of_who_did_it() -> None:
    assert actor("CI bot", "key:ci-bot") == "CI bot"
    assert actor(None, "key:ci-bot") == "ci-bot"
    assert actor("", "oidc:5f0c-77aa") == "5f0c-77aa"
    assert actor(None, "someone") == "someone"
    assert actor(None, None) == "?"


def test_counts_and_times_in_words() -> None:
    assert [plural(n, "step") for n in (0, 1, 3)] == ["0 steps", "1 step", "3 steps"]
    assert [span(s) for s in (45, 60, 192, 3600, 86_340, 90_000, 172_800)] == [
        *("45 s", "1 min", "3 min 12 s", "1 h", "23 h 59 min", "1 d 1 h", "2 d"),
    ]
    now = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
    assert ago((now - timedelta(seconds=0.2)).isoformat(), now) == "just now"
    assert ago((now - timedelta(minutes=5, seconds=3)).isoformat(), now) == "5 min ago"
    assert ago((now - timedelta(hours=3)).isoformat(), now) == "3 h ago"
    assert ago("2025-06-01T11:59:48", now) == "12 s ago"  # a timestamp without a zone is UTC
    assert re.fullmatch(r"\d{4}-\d\d-\d\d", ago((now - timedelta(days=40)).isoformat(), now))
    assert expires_in((now + timedelta(hours=23, minutes=59, seconds=30)).isoformat(), now) == (
        "in 23 h 59 min"
    )
    assert expires_in((now - timedelta(minutes=3)).isoformat(), now) == "expired 3 min ago"
    assert expires_in(None, now) == "never"


RUN_ID = "run_01a23791fac4c61283d5780a6884"
SAMPLE_RUN: dict[str, Any] = {
    "id": RUN_ID,
    "agent_id": "agt_01a237723cd10ed6728f36160d65",
    "version": 3,
    "status": "succeeded",
    "cost_usd": 0.0123,
    "created_at": "2025-06-01T12:00:00+00:00",
    "started_at": "2025-06-01T12:00:00.100000+00:00",
    "ended_at": "2025-06-01T12:03:12.100000+00:00",
    "created_by": "key:ci-bot",
}
EVERY_CELL = (
    *(RUN_ID, "support-bot", "v3", "succeeded", "3 steps", "$0.0123"),
    *("3 min 12 s", "ci-bot"),
)


def printed(console_file: io.StringIO, width: int, terminal: bool) -> str:
    rows = [run_cells(SAMPLE_RUN, 3, lambda _agent_id: "support-bot")]
    console = Console(file=console_file, width=width, force_terminal=terminal, no_color=True)
    print_table(console, runs_table(rows), lambda: runs_lines(rows))
    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", console_file.getvalue())


@pytest.mark.parametrize(("width", "terminal"), [(200, False), (60, False), (60, True)])
def test_a_narrow_console_loses_no_column_of_the_runs_table(width: int, terminal: bool) -> None:
    shown = printed(io.StringIO(), width, terminal)
    for cell in EVERY_CELL:
        assert cell in shown, (cell, shown)
    lines = shown.splitlines()
    if terminal:  # a run's lines, each within the terminal: no cell cut off or dropped
        assert lines[0].startswith(RUN_ID)
        assert all(len(line.rstrip()) <= width for line in lines), lines
    else:  # a header and one line a run, whatever the width: grep finds whole rows
        assert len(lines) == 2
        assert lines[1].startswith(RUN_ID)
        assert lines[1].rstrip().endswith("ci-bot")
