"""What every command that talks to the API shares: where the API is, the token, looking things
up by name or id, and the exit code each kind of failure gives.

Exit codes: 0 success; 1 the run did not succeed, or the API failed or refused (401 and 403
included) or could not be reached; 2 a usage error: bad arguments, or an agent, run, version or
approval that does not exist; 130 interrupted (Ctrl-C).
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console

from client import AgentRuntimeClient, ApiError
from client.api import DEFAULT_BASE_URL

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

ApiUrl = Annotated[
    str | None,
    typer.Option(
        "--url",
        envvar="AGENT_RUNTIME_URL",
        metavar="URL",
        show_default=DEFAULT_BASE_URL,
        help="The API.",
    ),
]
ApiToken = Annotated[
    str | None,
    typer.Option(
        "--token",
        envvar="AGENT_RUNTIME_TOKEN",
        metavar="TOKEN",
        help="An API key (ark_...) or an OIDC access token.",
    ),
]

RunId = Annotated[str, typer.Argument(metavar="RUN", help="The run's id (run_...).")]

# What the API answers when the request named something wrong: not a failure of the API.
NAMED_SOMETHING_WRONG = frozenset({400, 404, 422})


class UsageError(Exception):
    """The command was given something that is not there, or not valid: exit code 2."""


def error_console() -> Console:
    return Console(stderr=True, soft_wrap=True, highlight=False)


def usage_error(exc: ApiError) -> UsageError:
    """A 4xx answer to what the command was given, as a usage error naming the fields."""
    details = exc.details if isinstance(exc.details, list) else []
    fields = [
        f"{detail['field']}: {detail.get('message')}"
        for detail in details
        if isinstance(detail, dict) and detail.get("field")
    ]
    unsaid = [field for field in fields if field not in exc.message]
    return UsageError("; ".join([exc.message, *unsaid]))


def api_failure(exc: ApiError, token_given: bool) -> str:
    line = f"error: {exc.message} ({exc.status} {exc.code})"
    if exc.status == 401:
        if token_given:
            return f"{line}: set AGENT_RUNTIME_TOKEN (or pass --token) to a valid API key"
        return f"{line}: no token was given; set AGENT_RUNTIME_TOKEN or pass --token"
    if exc.status == 403:
        return f"{line}: this token may not do that; ask for a key with the role it needs"
    return line


@contextmanager
def api_client(url: str | None, token: str | None, errors: Console) -> Iterator[AgentRuntimeClient]:
    """A client for the API at `url` (else AGENT_RUNTIME_URL); every failure inside becomes a
    message on `errors` and the exit code it calls for."""
    with AgentRuntimeClient(url, token) as client:
        try:
            yield client
        except UsageError as exc:
            errors.print(f"error: {exc}", markup=False)
            raise typer.Exit(EXIT_USAGE) from None
        except ApiError as exc:
            token_given = "authorization" in client.http.headers
            errors.print(api_failure(exc, token_given), markup=False)
            raise typer.Exit(EXIT_FAILED) from None
        except httpx.TransportError as exc:
            errors.print(
                f"error: cannot reach the API at {client.http.base_url}: {exc}", markup=False
            )
            raise typer.Exit(EXIT_FAILED) from None
        except KeyboardInterrupt:
            raise typer.Exit(EXIT_INTERRUPTED) from None


def existing(fetch: Callable[[], dict[str, Any]], missing: str) -> dict[str, Any]:
    """What `fetch` reads; a 404 is a usage error saying `missing`."""
    try:
        return fetch()
    except ApiError as exc:
        if exc.status in NAMED_SOMETHING_WRONG:
            raise UsageError(missing) from None
        raise


def resolve_agent(client: AgentRuntimeClient, reference: str) -> dict[str, Any]:
    """An agent id (`agt_...`) or an exact agent name."""
    if reference.startswith("agt_"):
        return existing(lambda: client.get_agent(reference), f"no agent has the id {reference}")
    named = [agent for agent in client.list_agents(search=reference) if agent["name"] == reference]
    if not named:
        raise UsageError(f"no agent is named {reference!r}; pass an agent id or exact name")
    if len(named) > 1:
        ids = ", ".join(agent["id"] for agent in named)
        raise UsageError(f"{len(named)} agents are named {reference!r}; pass an id: {ids}")
    return named[0]


def get_run(client: AgentRuntimeClient, run_id: str) -> dict[str, Any]:
    return existing(lambda: client.get_run(run_id), f"no run has the id {run_id}")


def get_approval(client: AgentRuntimeClient, approval_id: str) -> dict[str, Any]:
    return existing(
        lambda: client.get_approval(approval_id), f"no approval has the id {approval_id}"
    )
