"""What the HTTP model providers share: client lifetime, parameter checks and error wording.

Each provider keeps its own wire format; only logic that is the same for every SDK lives here,
so a fix to error reporting or redaction reaches all providers at once.
"""

import json
from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any, ClassVar, Generic, Protocol, Self, TypeVar
from urllib.parse import urlsplit, urlunsplit

from core.models.model_spec import AnthropicParameters, OpenAIParameters
from worker.types import ProviderError

NO_KEY_PLACEHOLDER = "not-needed"
"""Sent when no key is configured: the SDKs insist on one and would otherwise read the worker's
env or disk; local servers ignore it."""

RUNTIME_PARAMETERS = frozenset({"base_url", "api_key_env", "script"})
"""Keys of a model's parameters that configure the runtime, never sent to the provider (stored
configurations of earlier releases may hold any of them)."""

RETRYABLE_STATUSES = frozenset({408, 409})
MAX_DETAIL_CHARS = 500
INVALID_JSON_KEY = "__invalid_json__"


class _Client(Protocol):
    @property
    def base_url(self) -> object: ...

    async def close(self) -> None: ...


ClientT = TypeVar("ClientT", bound=_Client)


class HTTPProvider(ABC, Generic[ClientT]):
    """An SDK client plus what every provider needs to report its failures safely.

    Subclasses build the client with the SDK's own retries off: the durable engine retries
    failed activities itself, so every attempt stays visible in the run's history.
    """

    detail_keys: ClassVar[tuple[str, ...]] = ("message",)
    """Fields of an error body that hold the provider's explanation, first found wins."""

    temporary_note: ClassVar[str] = "temporary failure"
    """How a 5xx (or 408/409) answer is described to the user."""

    def __init__(
        self, api_key: str | None, base_url: str | None = None, timeout: float = 120.0
    ) -> None:
        self._key_configured = bool(api_key)
        self._secret = api_key or ""
        self._timeout = timeout
        self._client = self._connect(api_key or NO_KEY_PLACEHOLDER, base_url, timeout)
        self._where = without_userinfo(str(self._client.base_url))

    @abstractmethod
    def _connect(self, api_key: str, base_url: str | None, timeout: float) -> ClientT:
        """The SDK client, with max_retries=0."""

    async def aclose(self) -> None:
        """Close pooled connections; call once the worker stops using this provider."""
        await self._client.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.aclose()

    def _redact(self, text: str) -> str:
        return text.replace(self._secret, "[redacted]") if self._secret else text

    def _timeout_error(self, label: str, model: str) -> ProviderError:
        return ProviderError(
            f"{label} at {self._where} did not answer within {self._timeout:g}s (model {model!r})",
            retryable=True,
            code="provider_unavailable",
        )

    def _connection_error(self, label: str, exc: BaseException, advice: str) -> ProviderError:
        return ProviderError(
            f"could not connect to {label} at {self._where}: {self._redact(_cause(exc))}; {advice}",
            retryable=True,
            code="provider_unavailable",
        )

    def _call_failed(self, label: str, exc: BaseException) -> ProviderError:
        return ProviderError(
            f"{label} call failed: {self._redact(str(exc))}",
            retryable=False,
            code="provider_rejected",
        )

    def _answered(
        self, label: str, status: int, body: object, note: str, *, retryable: bool, code: str
    ) -> ProviderError:
        detail = self._redact(provider_message(body, self.detail_keys))
        return ProviderError(
            f"{label} answered HTTP {status}: {detail} ({note})", retryable=retryable, code=code
        )

    def _status_error(self, label: str, model: str, status: int, body: object) -> ProviderError:
        if status == 429:
            return self._answered(
                label, status, body, "rate limited", retryable=True, code="rate_limited"
            )
        if status >= 500 or status in RETRYABLE_STATUSES:
            note = self.temporary_note
            return self._answered(
                label, status, body, note, retryable=True, code="provider_unavailable"
            )
        if status in (401, 403):
            hint = (
                f"check that the worker's API key for this provider is valid and may use {model!r}"
                if self._key_configured
                else "no API key is configured; set the provider's API key on the worker"
            )
            return self._answered(label, status, body, hint, retryable=False, code="provider_auth")
        hint = (
            f"check the model name {model!r} and the base URL {self._where}"
            if status == 404
            else "check the model name, parameters and tool schemas"
        )
        return self._answered(label, status, body, hint, retryable=False, code="provider_rejected")


def request_parameters(
    parameters: OpenAIParameters | AnthropicParameters,
    runtime: frozenset[str],
    reserved: frozenset[str],
) -> dict[str, Any]:
    """The request fields the version sets: its typed parameters as given, its `extra_body`,
    and what a stored configuration holds beyond the types (passed on verbatim, as ever)."""
    fields = {
        **parameters.model_dump(mode="json", exclude={"extra_body"}),
        **(parameters.extra_body or {}),
    }
    clash = sorted(reserved.intersection(fields))
    if clash:
        raise ProviderError(
            f"model parameters {', '.join(clash)} are set by the runtime; "
            "remove them from the agent's model parameters",
            retryable=False,
            code="provider_rejected",
        )
    return {key: value for key, value in fields.items() if key not in runtime}


def provider_message(body: object, keys: tuple[str, ...] = ("message",)) -> str:
    """The provider's own explanation, whichever error shape the server uses."""
    error = body.get("error", body) if isinstance(body, Mapping) else body
    if isinstance(error, Mapping):
        found = next((error[key] for key in keys if error.get(key)), None)
        message = found or json.dumps(error, default=str)
    elif error is None:
        message = "no error details"
    else:
        message = str(error)
    text = str(message).strip()
    return text if len(text) <= MAX_DETAIL_CHARS else text[:MAX_DETAIL_CHARS] + "..."


def json_arguments(raw: object) -> dict[str, Any]:
    """Tool-call arguments sent as JSON text. Invalid JSON is kept, not raised: the caller tells
    the model and lets it try again."""
    if isinstance(raw, dict):
        return raw
    if raw is None or raw == "":
        return {}
    text = raw if isinstance(raw, str) else str(raw)
    try:
        parsed = json.loads(text)
    except json.JSONDecodeError:
        return {INVALID_JSON_KEY: text}
    return parsed if isinstance(parsed, dict) else {INVALID_JSON_KEY: text}


def without_userinfo(url: str) -> str:
    """The base URL for messages, without any credentials embedded in it."""
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment)).rstrip("/")


def _cause(exc: BaseException) -> str:
    cause = exc.__cause__ or exc.__context__
    return str(cause) if cause is not None and str(cause) else str(exc)
