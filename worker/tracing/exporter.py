"""The LangFuse exporter: outbox payloads as OTel spans, over OTLP/HTTP to LangFuse."""

import base64
from collections.abc import Sequence
from typing import Any

import httpx
import requests
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExportResult
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import SpanContext, Status, StatusCode, TraceFlags
from pydantic import SecretStr

INGESTION_VERSION = "4"
OTEL_TRACES_PATH = "/api/public/otel/v1/traces"
PROJECTS_PATH = "/api/public/projects"
MAX_BATCH = 100
SCOPE = InstrumentationScope("agent-runtime")
RESOURCE = Resource({"service.name": "agent-runtime-worker"})


class ExportError(Exception):
    """LangFuse did not take a batch; the message is safe to store (it never holds a key)."""


def to_span(payload: dict[str, Any]) -> ReadableSpan:
    """One outbox payload as an OTel span, with its explicit ids and times."""
    trace_id = int(payload["trace_id"], 16)
    parent_id = payload.get("parent_span_id")
    sampled = TraceFlags(TraceFlags.SAMPLED)
    failed = payload.get("status") == "error"
    return ReadableSpan(
        name=str(payload["name"]),
        context=SpanContext(trace_id, int(payload["span_id"], 16), False, sampled),
        parent=SpanContext(trace_id, int(parent_id, 16), False, sampled) if parent_id else None,
        resource=RESOURCE,
        attributes=dict(payload["attributes"]),
        status=Status(StatusCode.ERROR if failed else StatusCode.OK),
        start_time=int(payload["start_time_unix_nano"]),
        end_time=int(payload["end_time_unix_nano"]),
        instrumentation_scope=SCOPE,
    )


class LangfuseExporter:
    """Sends spans to LangFuse's OTLP endpoint and checks the keys; blocking, call in a thread."""

    def __init__(
        self, base_url: str, public_key: str, secret_key: SecretStr, *, timeout_seconds: float
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._public_key = public_key
        self._secret_key = secret_key
        self.timeout_seconds = timeout_seconds
        token = base64.b64encode(f"{public_key}:{secret_key.get_secret_value()}".encode()).decode()
        # The exporter reports only success or failure: a response hook keeps the status code
        # for the outbox's last_error.
        self._last_status: int | None = None
        session = requests.Session()
        session.hooks["response"].append(self._remember_status)
        self._otlp = OTLPSpanExporter(
            endpoint=f"{self.base_url}{OTEL_TRACES_PATH}",
            headers={
                "Authorization": f"Basic {token}",
                "x-langfuse-ingestion-version": INGESTION_VERSION,
            },
            timeout=timeout_seconds,
            compression=Compression.Gzip,
            session=session,
        )

    def _remember_status(self, response: requests.Response, *_args: Any, **_kwargs: Any) -> None:
        self._last_status = response.status_code

    def project_id(self) -> str:
        """Check the keys (`GET /api/public/projects`) and return the keys' project id."""
        try:
            response = httpx.get(
                f"{self.base_url}{PROJECTS_PATH}",
                auth=httpx.BasicAuth(self._public_key, self._secret_key.get_secret_value()),
                timeout=self.timeout_seconds,
            )
        except httpx.HTTPError as error:
            raise ExportError(self.scrub(f"LangFuse is unreachable: {error!r}")) from None
        if response.status_code in {401, 403}:
            raise ExportError(f"LangFuse refused the keys (HTTP {response.status_code})")
        if response.status_code != 200:
            raise ExportError(f"LangFuse answered HTTP {response.status_code} to the key check")
        try:
            return str(response.json()["data"][0]["id"])
        except (ValueError, KeyError, IndexError, TypeError):
            raise ExportError("LangFuse's project list has no project for these keys") from None

    def export(self, spans: Sequence[ReadableSpan]) -> None:
        self._last_status = None
        if self._otlp.export(spans) == SpanExportResult.SUCCESS:
            return
        answer = f"HTTP {self._last_status}" if self._last_status else "no answer"
        raise ExportError(f"LangFuse did not take the export ({answer})")

    def scrub(self, message: str) -> str:
        """Belt and braces: whatever an error says, the secret key does not leave here."""
        return message.replace(self._secret_key.get_secret_value(), "***")[:2000]

    def close(self) -> None:
        self._otlp.shutdown()  # type: ignore[no-untyped-call]
