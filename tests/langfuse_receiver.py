"""A stand-in for LangFuse's ingestion: the key check and the OTLP/HTTP traces endpoint.

It checks Basic auth and the ingestion-version header, decodes the protobuf body with
opentelemetry-proto and keeps every span as a plain dict. It can stop and start again on the
same port (an outage) and answer 503 on demand (an overloaded LangFuse).
"""

import base64
import gzip
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue

PROJECT = {"id": "proj-1", "name": "test", "organization": {"id": "org-1", "name": "org"}}
TRACES_PATH = "/api/public/otel/v1/traces"
PROJECTS_PATH = "/api/public/projects"
PUBLIC_KEY = "pk-lf-test"
SECRET_KEY = "sk-lf-test"


def decode_value(value: AnyValue) -> Any:
    """An OTLP attribute value as the Python value it carries."""
    which = value.WhichOneof("value")
    if which == "array_value":
        return [decode_value(item) for item in value.array_value.values]
    if which == "kvlist_value":
        return {kv.key: decode_value(kv.value) for kv in value.kvlist_value.values}
    return getattr(value, which) if which else None


def decode_request(body: bytes) -> list[dict[str, Any]]:
    request = ExportTraceServiceRequest()
    request.ParseFromString(body)
    spans: list[dict[str, Any]] = []
    for resource_spans in request.resource_spans:
        resource = {kv.key: decode_value(kv.value) for kv in resource_spans.resource.attributes}
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                spans.append(
                    {
                        "trace_id": span.trace_id.hex(),
                        "span_id": span.span_id.hex(),
                        "parent_span_id": span.parent_span_id.hex() or None,
                        "name": span.name,
                        "start_time_unix_nano": span.start_time_unix_nano,
                        "end_time_unix_nano": span.end_time_unix_nano,
                        "status_code": span.status.code,
                        "scope": scope_spans.scope.name,
                        "resource": resource,
                        "attributes": {kv.key: decode_value(kv.value) for kv in span.attributes},
                    }
                )
    return spans


class LangfuseReceiver:
    def __init__(self, public_key: str = PUBLIC_KEY, secret_key: str = SECRET_KEY) -> None:
        self.public_key = public_key
        self.secret_key = secret_key
        self.port = 0
        self.fail_with: int | None = None  # answer every request with this status
        self.spans: list[dict[str, Any]] = []
        self.requests: list[tuple[str, str, int]] = []  # (method, path, answered status)
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Listen (again) on the same port; the first start takes a free one."""
        server = ThreadingHTTPServer(("127.0.0.1", self.port), self._handler())
        server.daemon_threads = True
        self.port = server.server_address[1]
        self._server = server
        # A short poll keeps stop() (an outage in a test) quick.
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        assert self._thread is not None
        self._thread.join()
        self._server = self._thread = None

    def observations(self) -> dict[str, dict[str, Any]]:
        """Received spans by span id; a span sent twice counts once, as at LangFuse."""
        with self._lock:
            return {span["span_id"]: span for span in self.spans}

    def _record(self, method: str, path: str, status: int, spans: list[dict[str, Any]]) -> None:
        with self._lock:
            self.requests.append((method, path, status))
            self.spans.extend(spans)

    def _authorised(self, header: str | None) -> bool:
        expected = base64.b64encode(f"{self.public_key}:{self.secret_key}".encode()).decode()
        return header == f"Basic {expected}"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass  # quiet test output

            def _answer(self, status: int, body: bytes, content_type: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _json(self, status: int, value: Any) -> None:
                receiver._record(self.command, self.path, status, [])
                self._answer(status, json.dumps(value).encode(), "application/json")

            def do_GET(self) -> None:
                if receiver.fail_with is not None:
                    return self._json(receiver.fail_with, {"message": "unavailable"})
                if self.path != PROJECTS_PATH:
                    return self._json(404, {"message": "not found"})
                if not receiver._authorised(self.headers.get("Authorization")):
                    return self._json(401, {"message": "Invalid credentials"})
                self._json(200, {"data": [PROJECT]})

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if receiver.fail_with is not None:
                    return self._json(receiver.fail_with, {"message": "unavailable"})
                if self.path != TRACES_PATH:
                    return self._json(404, {"message": "not found"})
                if not receiver._authorised(self.headers.get("Authorization")):
                    return self._json(401, {"message": "Invalid credentials"})
                if self.headers.get("x-langfuse-ingestion-version") != "4":
                    return self._json(400, {"message": "missing x-langfuse-ingestion-version"})
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                spans = decode_request(body)
                receiver._record(self.command, self.path, 200, spans)
                answer = ExportTraceServiceResponse().SerializeToString()
                self._answer(200, answer, "application/x-protobuf")

        return Handler


@contextmanager
def running_receiver(**keys: str) -> Iterator[LangfuseReceiver]:
    receiver = LangfuseReceiver(**keys)
    receiver.start()
    try:
        yield receiver
    finally:
        receiver.stop()
