"""`agent-runtime cancel`: ask a run to stop and, unless told not to, wait until it has."""

from typing import Annotated, Any

import typer
from rich.console import Console
from rich.text import Text

from cli.api_access import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    ApiToken,
    ApiUrl,
    RunId,
    api_client,
    error_console,
    get_run,
)
from client import AgentRuntimeClient, ApiError


def _ending(console: Console, run: dict[str, Any], note: str = "") -> int:
    """Prints how the run ended; exit 0 only if it ended cancelled."""
    cancelled = run["status"] == "cancelled"
    line = Text()
    line.append(run["status"], style="yellow bold" if cancelled else "red bold")
    line.append(f"  ·  {run['id']}")
    if note:
        line.append(f"  ({note})", style="dim")
    console.print(line)
    return EXIT_OK if cancelled else EXIT_FAILED


def _request(client: AgentRuntimeClient, run_id: str) -> dict[str, Any] | None:
    """Asks the run to stop: the run as the API then has it, or None if it had ended already."""
    try:
        return client.cancel_run(run_id)
    except ApiError as exc:
        if exc.status == 409 and exc.code == "run_finished":
            return None
        raise


def cancel(
    run_id: RunId,
    wait: Annotated[
        bool,
        typer.Option("--wait/--no-wait", help="Wait for the run to stop, or only ask it to."),
    ] = True,
    timeout: Annotated[
        float,
        typer.Option(metavar="SECONDS", min=0, help="How long to wait for the run to stop."),
    ] = 120.0,
    url: ApiUrl = None,
    token: ApiToken = None,
) -> None:
    """Cancel a run: ask it to stop, then wait until it has and print how it ended.

    A run waiting for an approval stops at once; a running step stops at its next heartbeat.

    Exit code: 0 the run ended cancelled (or had been cancelled already), or with
    --no-wait the API took the request; 1 the run had already ended otherwise
    (succeeded, failed, timed out: it says so) or ended otherwise before the cancel
    reached it, it was still stopping after --timeout, or the API failed or refused (a bad
    token, a role that may not) or cannot be reached; 2 a usage error: a run id that
    does not exist; 130 Ctrl-C, which stops waiting (the cancel goes on).
    """
    console, errors = Console(), error_console()
    with api_client(url, token, errors) as client:
        get_run(client, run_id)  # an id that is no run is a usage error, not a failed cancel
        asked = _request(client, run_id)
        if asked is None:
            ended = client.get_run(run_id)
            already = "cancelled already" if ended["status"] == "cancelled" else "nothing to cancel"
            raise typer.Exit(_ending(console, ended, f"it had ended before: {already}"))
        if asked.get("ended_at"):  # nothing was running: the API ended it at once
            raise typer.Exit(_ending(console, asked))
        if not wait:
            line = Text(asked["status"], style="yellow bold")
            line.append(f"  ·  {run_id}  (asked to stop; it stops on its own)", style="dim")
            console.print(line)
            raise typer.Exit(EXIT_OK)
        try:
            with errors.status(f"waiting for {run_id} to stop ({asked['status']})"):
                ended = client.wait_for_run(run_id, timeout=timeout)
        except TimeoutError:
            errors.print(
                f"error: {run_id} is still {client.get_run(run_id)['status']} after "
                f"{timeout:g} s; the cancel goes on",
                markup=False,
            )
            raise typer.Exit(EXIT_FAILED) from None
        except KeyboardInterrupt:
            errors.print(f"Stopped waiting for {run_id}; the cancel goes on.", markup=False)
            raise typer.Exit(EXIT_INTERRUPTED) from None
        note = "" if ended["status"] == "cancelled" else "it ended before the cancel reached it"
        raise typer.Exit(_ending(console, ended, note))
