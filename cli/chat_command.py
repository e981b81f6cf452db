"""`agent-runtime chat`: a conversation with an agent in the terminal, kept as a thread.

Each line is a run on the thread, followed live like `agent-runtime run` (steps, the streamed
answer, y/n approvals); `/new` starts a new thread, `/exit` or end of input ends the chat. The
thread id is printed so the conversation can be resumed with `--thread`.
"""

import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.markdown import Markdown
from rich.text import Text

from cli.api_access import (
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
from cli.run_approvals import Approver
from cli.run_command import (
    ApproveAllOption,
    VersionOption,
    approver_for,
    follow,
    version_reference,
)
from cli.run_view import view_for
from client import AgentRuntimeClient, ApiError

COMMANDS = "/new starts a new conversation, /exit ends this one"


def _new_thread(client: AgentRuntimeClient, agent_name: str) -> str:
    return str(client.create_thread(metadata={"agent": agent_name, "via": "cli"})["id"])


def _read_line(console: Console) -> str | None:
    """The next line the person types (or the next piped one); None at end of input."""
    if console.is_terminal:
        try:
            return console.input(Text("you> ", style="bold cyan"))
        except EOFError:
            return None
    line = sys.stdin.readline()
    return line.rstrip("\n") if line else None


def chat(
    agent: Annotated[
        str, typer.Argument(metavar="AGENT", help="The agent's id (agt_...) or exact name.")
    ],
    version: VersionOption = None,
    thread: Annotated[
        str | None,
        typer.Option("--thread", metavar="ID", help="Continue this thread instead of a new one."),
    ] = None,
    approve_all: ApproveAllOption = False,
    url: ApiUrl = None,
    token: ApiToken = None,
) -> None:
    r"""Talk with an agent: each line you type is a turn of one conversation (a thread).

    Answers stream in as they are written; a gated tool call asks "Approve? \[y/n]".
    /new starts a new thread, /exit (or Ctrl-D) ends the chat and prints the thread id
    to resume with --thread. Piped input works too: one turn per line.

    Reads AGENT_RUNTIME_URL and AGENT_RUNTIME_TOKEN (or --url, --token).

    Exit code: 0 the chat ended; 1 the API failed or refused, or cannot be reached;
    2 a usage error: an agent, version or thread that does not exist; 130 Ctrl-C.
    """
    console, errors = Console(), error_console()
    approver = approver_for(approve_all, False, False, errors)
    with api_client(url, token, errors) as client:
        found = resolve_agent(client, agent)
        try:
            thread_id = client.get_thread(thread)["id"] if thread else None
        except ApiError as exc:
            if exc.status in NAMED_SOMETHING_WRONG:
                raise usage_error(exc) from None
            raise
        thread_id = thread_id or _new_thread(client, found["name"])
        reference = version_reference(version)
        pinned = f"v{reference}" if isinstance(reference, int) else reference or "latest"
        console.print(Text(f"thread {thread_id}  ·  {found['name']} {pinned}", style="dim"))
        console.print(Text(COMMANDS, style="dim"))
        try:
            while (line := _read_line(console)) is not None:
                said = line.strip()
                if said == "/exit":
                    break
                if said == "/new":
                    thread_id = _new_thread(client, found["name"])
                    console.print(Text(f"new thread {thread_id}", style="dim"))
                    continue
                if said:
                    _turn(client, console, thread_id, found["id"], said, reference, approver)
        except KeyboardInterrupt:
            errors.print(f"Resume with: agent-runtime chat {agent} --thread {thread_id}")
            raise typer.Exit(EXIT_INTERRUPTED) from None
        console.print(Text(f"Resume with: agent-runtime chat {agent} --thread {thread_id}"))
    raise typer.Exit(EXIT_OK)


def _turn(
    client: AgentRuntimeClient,
    console: Console,
    thread_id: str,
    agent_id: str,
    said: str,
    version: int | str | None,
    approver: Approver,
) -> None:
    """One run on the thread, followed until it ends; its answer (or what went wrong) shown."""
    try:
        run = client.start_thread_run(thread_id, agent_id, said, version=version or "latest")
    except ApiError as exc:
        if exc.status in NAMED_SOMETHING_WRONG:
            raise usage_error(exc) from None
        raise
    view = view_for(console)
    try:
        followed = follow(client, run["id"], view, approver)
    finally:
        view.close()
    outcome = followed.outcome()
    output = outcome.get("output")
    if followed.status == "succeeded" and isinstance(output, str):
        console.print(Text("agent> ", style="bold green"), end="")
        console.print(Markdown(output) if console.is_terminal else output)
        return
    error = (outcome.get("error") or {}).get("message", "")
    console.print(Text(f"run {run['id']} {followed.status}: {error}".rstrip(": "), style="red"))
