"""Configured HTTP tools (`HttpTool`): URL templates, secret headers that never leave their
origin, redaction of secrets from answers, bounded reads and retries of retry-safe calls.

Every network call goes through `worker.netguard`: public addresses only unless the worker
allows private networks, and never a cloud metadata endpoint.
"""

import asyncio
import json
import re
import time
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote

import httpx

from core.models.agent_config import URL_PLACEHOLDER, HttpTool, SecretRef
from core.netguard import DestinationRefusedError, guarded_client
from worker.tools.context import ToolContext
from worker.types import ToolError

# Configured HTTP tools (`HttpTool`).
HTTP_TOOL_MAX_RESPONSE_BYTES = 16 * 1024 * 1024
HTTP_TOOL_MAX_REDIRECTS = 5
# Waits between attempts of a retry-safe call: three attempts in all.
HTTP_TOOL_RETRY_BACKOFF_SECONDS = (0.5, 1.0)
HTTP_TOOL_MAX_RETRY_AFTER_SECONDS = 5.0
# All attempts of one call fit in this, below the workflow's 10-minute step timeout.
HTTP_TOOL_RETRY_BUDGET_SECONDS = 540.0
# Sending these twice does no more than sending them once.
RETRY_SAFE_METHODS = frozenset({"GET", "PUT", "DELETE", "HEAD", "OPTIONS"})
QUERY_METHODS = frozenset({"GET", "DELETE", "HEAD", "OPTIONS"})
TRANSIENT_STATUSES = frozenset({429, 502, 503, 504})
ERROR_BODY_CHARS = 500
REDACTED = "***"


async def read_limited(response: httpx.Response, limit: int) -> str:
    """The body as text, streamed so that no more than `limit` bytes are ever held."""
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise ToolError(f"the response is larger than {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > limit:
            raise ToolError(f"the response is larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks).decode(response.encoding or "utf-8", errors="replace")


def parse_url(url: str) -> httpx.URL:
    """The URL exactly as it will be requested (and checked: one parser for both).

    A model chooses URLs, so one that cannot be requested (a malformed address, a bad port, a
    control character, a host IDNA refuses) is a tool error for it to read.
    """
    try:
        parsed = httpx.URL(url)
        host = parsed.host  # decoding a punycode name can fail too
    except (httpx.InvalidURL, ValueError) as exc:  # idna's errors are ValueErrors
        raise ToolError(f"{url!r} is not a valid URL: {exc}") from None
    if parsed.scheme not in ("http", "https"):
        raise ToolError("only http and https URLs can be requested")
    if not host:
        raise ToolError(f"{url!r} is not a valid URL: it names no host")
    if parsed.port is not None and not 0 < parsed.port < 65536:
        raise ToolError(f"{url!r} is not a valid URL: {parsed.port} is not a TCP port")
    return parsed


# HTTP tools.


class Redactor:
    """Replaces resolved secret values wherever a result or an error could echo them."""

    def __init__(self, secrets: Iterable[str]) -> None:
        # Longest first, so a secret containing another is replaced whole.
        self.secrets = sorted({secret for secret in secrets if secret}, key=len, reverse=True)

    def text(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        return text

    def value(self, value: Any) -> Any:
        """The same for parsed JSON: escapes such as \\u0041 may have hidden a secret."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.value(item) for item in value]
        if isinstance(value, dict):
            return {self.text(key): self.value(item) for key, item in value.items()}
        return value


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def fill_url(template: str, arguments: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The URL with `{name}` placeholders filled, and the arguments no placeholder used."""
    used: set[str] = set()

    def segment(match: re.Match[str]) -> str:
        name = str(match.group(1))
        if name not in arguments:
            raise ToolError(f"the argument {name!r} is needed for the URL")
        value = arguments[name]
        if isinstance(value, dict | list):
            raise ToolError(f"the argument {name!r} goes into the URL and must be a single value")
        text = _as_text(value)
        if text in ("", ".", ".."):
            # Would drop or climb a path segment: another endpoint than the one configured.
            raise ToolError(f"the argument {name!r} cannot be {text!r}: it goes into the URL")
        used.add(name)
        return quote(text, safe="")

    url = URL_PLACEHOLDER.sub(segment, template)
    return url, {name: value for name, value in arguments.items() if name not in used}


def _request_headers(tool: HttpTool, context: ToolContext) -> tuple[httpx.Headers, list[str]]:
    """The headers to send, secrets resolved, and the names of those that carry one."""
    headers = httpx.Headers({"Accept": "application/json"})
    secret_headers: list[str] = []
    for name, value in tool.headers.items():
        if isinstance(value, SecretRef):
            resolved = context.secrets.get(value.secret)
            if not resolved:
                raise ToolError(
                    f"the secret {value.secret} (header {name} of {tool.name}) is not set "
                    "in the worker's environment"
                )
            headers[name] = resolved
            secret_headers.append(name)
        else:
            headers[name] = value
    headers["Idempotency-Key"] = context.idempotency_key
    return headers, secret_headers


def _secret_values(tool: HttpTool, context: ToolContext) -> list[str]:
    return [
        context.secrets.get(value.secret) or ""
        for value in tool.headers.values()
        if isinstance(value, SecretRef)
    ]


def _secrets_stay_on_origin(
    url: str, secret_headers: list[str]
) -> Callable[[httpx.Request], Awaitable[None]]:
    """A request hook: httpx strips only Authorization when a redirect leaves the origin."""
    first = httpx.URL(url)
    origin = (first.scheme, first.host, first.port)

    async def drop_secrets_elsewhere(request: httpx.Request) -> None:
        if (request.url.scheme, request.url.host, request.url.port) != origin:
            for name in secret_headers:
                request.headers.pop(name, None)

    return drop_secrets_elsewhere


def _retry_after_seconds(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "").strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _is_json(response: httpx.Response) -> bool:
    media_type = str(response.headers.get("content-type", "")).split(";")[0].strip().lower()
    return media_type == "application/json" or media_type.endswith("+json")


async def call_http_tool(
    tool: HttpTool, arguments: dict[str, Any], context: ToolContext, max_response_bytes: int
) -> Any:
    redactor = Redactor(_secret_values(tool, context))
    try:
        return await _call_http_tool(tool, arguments, context, max_response_bytes, redactor)
    except ToolError as failure:
        raise ToolError(redactor.text(str(failure))) from None


async def _call_http_tool(
    tool: HttpTool,
    arguments: dict[str, Any],
    context: ToolContext,
    max_response_bytes: int,
    redactor: Redactor,
) -> Any:
    method = tool.method
    url, rest = fill_url(tool.url, arguments)
    retry_safe = method in RETRY_SAFE_METHODS or tool.accepts_idempotency_key
    if context.attempt > 1 and not retry_safe:
        raise ToolError(
            f"{method} {url} was not sent again: an earlier attempt of this step may already "
            f"have reached the target, and a {method} is repeated only when the tool "
            "declares accepts_idempotency_key"
        )
    headers, secret_headers = _request_headers(tool, context)
    body: dict[str, Any] = {} if method in QUERY_METHODS else {"json": rest}
    target = parse_url(url)
    try:
        if method in QUERY_METHODS:
            # Merged: httpx's `params=` would replace a query the configured URL already has.
            target = target.copy_merge_params({name: _as_text(v) for name, v in rest.items()})
        async with guarded_client(
            context.allow_private_networks,
            tool.timeout_seconds,
            follow_redirects=True,
            max_redirects=HTTP_TOOL_MAX_REDIRECTS,
        ) as http:
            http.event_hooks = {"request": [_secrets_stay_on_origin(url, secret_headers)]}
            request = http.build_request(method, target, headers=headers, **body)
            label = f"{method} {url}"

            async def exchange() -> tuple[httpx.Response, str]:
                return await _exchange(
                    http, request, label, tool.timeout_seconds, max_response_bytes
                )

            started = time.monotonic()

            def another_fits(delay: float) -> bool:
                # Retries end well inside the step's own timeout, which would cut them short.
                spent = time.monotonic() - started + delay + tool.timeout_seconds
                return spent <= HTTP_TOOL_RETRY_BUDGET_SECONDS

            for backoff in HTTP_TOOL_RETRY_BACKOFF_SECONDS if retry_safe else ():
                try:
                    response, text = await exchange()
                except TransientToolError:
                    if not another_fits(backoff):
                        raise
                    await asyncio.sleep(backoff)
                    continue
                delay = _retry_delay(response, backoff)
                if delay is None or not another_fits(delay):
                    return _http_tool_result(method, url, response, text, redactor)
                await asyncio.sleep(delay)
            # The last attempt (the only one when not retry-safe): its failures are final.
            response, text = await exchange()
            return _http_tool_result(method, url, response, text, redactor)
    except DestinationRefusedError as refused:
        raise ToolError(str(refused)) from None
    # ValueError: arguments httpx cannot encode (a NaN in a JSON body, say).
    except (httpx.HTTPError, httpx.InvalidURL, ValueError) as exc:
        raise ToolError(f"{method} {url} failed: {exc}") from None


class TransientToolError(ToolError):
    """A timeout or a failed connect: another attempt may succeed."""


async def _exchange(
    http: httpx.AsyncClient,
    request: httpx.Request,
    label: str,
    deadline_seconds: float,
    max_response_bytes: int,
) -> tuple[httpx.Response, str]:
    """One attempt: send (following redirects) and read the answer within the deadline."""
    try:
        # For the whole exchange; httpx's own timeout bounds each connect, read or write.
        async with asyncio.timeout(deadline_seconds):
            response = await http.send(request, stream=True)
            try:
                text = await read_limited(response, max_response_bytes)
            finally:
                await response.aclose()
    except (httpx.TimeoutException, TimeoutError):
        raise TransientToolError(f"{label} did not answer within {deadline_seconds:g} s") from None
    except httpx.ConnectError as exc:
        raise TransientToolError(f"{label} failed: cannot connect ({exc})") from None
    return response, text


def _retry_delay(response: httpx.Response, backoff: float) -> float | None:
    """How long to wait before trying again, or None to keep this answer."""
    if response.status_code not in TRANSIENT_STATUSES:
        return None
    retry_after = _retry_after_seconds(response)
    if retry_after is None:
        return backoff
    # Asked to wait longer than a tool call should: report the answer instead.
    return retry_after if retry_after <= HTTP_TOOL_MAX_RETRY_AFTER_SECONDS else None


def _http_tool_result(
    method: str, url: str, response: httpx.Response, text: str, redactor: Redactor
) -> Any:
    text = redactor.text(text)
    if not response.is_success:
        raise ToolError(
            f"{method} {url} answered {response.status_code}: {text[:ERROR_BODY_CHARS]}"
        )
    if _is_json(response):
        try:
            return redactor.value(json.loads(text))
        except ValueError:
            return text
    return text
