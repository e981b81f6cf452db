"""Tools, called as the worker calls them: validated, then executed against real servers."""

import asyncio
import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

import pytest
from pydantic import ValidationError

from core.models.agent_config import BuiltinTool, HttpTool
from worker.tools import HTTP_MAX_RESPONSE_BYTES, ToolContext, execute
from worker.types import ToolError


def call(
    name: str, arguments: dict[str, Any], *, allow_private_networks: bool = False, **tool: Any
) -> Any:
    spec = BuiltinTool(type="builtin", name=name, **tool)
    context = ToolContext("run_x", 7, spec, allow_private_networks=allow_private_networks)
    return asyncio.run(execute(spec, arguments, context))


@contextmanager
def serving(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """A real HTTP server on a free local port, for the duration of the block."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_calculator_does_arithmetic() -> None:
    assert call("calculator", {"expression": "6*7"})["result"] == 42
    assert call("calculator", {"expression": "(2 + 3) ** 2 / 5 - -1"})["result"] == 6
    assert call("calculator", {"expression": "7 // 2 + 7 % 2"})["result"] == 4


@pytest.mark.parametrize(
    "expression",
    [
        "__import__('os').system('true')",
        "open('/etc/passwd')",
        "[1, 2]",
        "x + 1",
        "9 ** 9999",
        "1/0",
    ],
)
def test_calculator_refuses_anything_else(expression: str) -> None:
    with pytest.raises(ToolError):
        call("calculator", {"expression": expression})


def test_arguments_are_validated_against_the_schema() -> None:
    with pytest.raises(ToolError, match="expression"):
        call("calculator", {"expr": "1"})
    with pytest.raises(ToolError, match="not valid JSON"):
        call("calculator", {"__invalid_json__": "{oops"})


def test_current_time() -> None:
    utc = call("current_time", {})
    assert utc["timezone"] == "UTC"
    assert utc["iso"].endswith("+00:00")
    assert call("current_time", {"timezone": "Asia/Tokyo"})["iso"].endswith("+09:00")
    with pytest.raises(ToolError, match="time zone"):
        call("current_time", {"timezone": "Mars/Olympus"})


class Recorder(BaseHTTPRequestHandler):
    seen: list[dict[str, Any]] = []  # noqa: RUF012

    def _answer(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length).decode() if length else None
        Recorder.seen.append({"path": self.path, "headers": dict(self.headers), "body": body})
        if self.path == "/big":
            payload = b"x" * (HTTP_MAX_RESPONSE_BYTES + 1)
        else:
            payload = json.dumps({"ok": True, "path": self.path}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = _answer  # noqa: N815
    do_POST = _answer  # noqa: N815

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    with serving(Recorder) as url:
        yield url


def test_http_request_reaches_allowed_hosts_with_an_idempotency_key(server: str) -> None:
    Recorder.seen.clear()
    result = call(
        "http_request",
        {"url": f"{server}/orders", "method": "POST", "body": {"id": 1}},
        allowed_hosts=["127.0.0.1"],
        allow_private_networks=True,
    )
    assert result["status"] == 200
    assert json.loads(result["body"]) == {"ok": True, "path": "/orders"}
    (request,) = Recorder.seen
    assert request["headers"]["Idempotency-Key"] == "run_x:7"
    assert json.loads(request["body"]) == {"id": 1}


def test_http_request_refuses_other_hosts_and_oversized_answers(server: str) -> None:
    with pytest.raises(ToolError, match="allow-list"):
        call("http_request", {"url": f"{server}/x"}, allowed_hosts=["example.org"])
    with pytest.raises(ToolError, match="allow-list"):
        call("http_request", {"url": f"{server}/x"})
    with pytest.raises(ToolError, match="larger than"):
        call(
            "http_request",
            {"url": f"{server}/big"},
            allowed_hosts=["127.0.0.1"],
            allow_private_networks=True,
        )
    with pytest.raises(ToolError, match="http"):
        call("http_request", {"url": "file:///etc/passwd"}, allowed_hosts=["127.0.0.1"])


def test_http_request_refuses_private_addresses_even_on_the_allow_list(server: str) -> None:
    Recorder.seen.clear()
    with pytest.raises(ToolError, match=r"127\.0\.0\.1.*TOOL_ALLOW_PRIVATE_NETWORKS"):
        call("http_request", {"url": f"{server}/orders"}, allowed_hosts=["127.0.0.1"])
    assert Recorder.seen == []


# HTTP tools: a version's `{"type": "http", ...}` tools, against a local target.

ORDER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "order_id": {"type": "string"},
        "note": {"type": "string"},
        "limit": {"type": "integer"},
        "flags": {"type": "object"},
        "urgent": {"type": "boolean"},
    },
    "required": ["order_id"],
}
SECRET = "s3cr3t-value-42"


class Target(BaseHTTPRequestHandler):
    """Answers by path; records every request it receives."""

    calls: ClassVar[list[dict[str, Any]]] = []

    def _answer(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length).decode() if length else ""
        route = urlsplit(self.path)
        request = {
            "method": self.command,
            "path": route.path,
            "query": parse_qs(route.query),
            "headers": {name.lower(): value for name, value in self.headers.items()},
            "body": json.loads(raw) if raw else None,
        }
        Target.calls.append(request)
        seen = sum(1 for c in Target.calls if c["path"] == route.path)
        if route.path.startswith("/flaky") and seen == 1:
            extra = {"retry-after": "0"} if route.path.endswith("soon") else {}
            self._send(503, b"try again", "text/plain", extra)
        elif route.path == "/unavailable":
            self._send(503, b"down for maintenance", "text/plain", {"retry-after": "60"})
        elif route.path == "/missing":
            key = self.headers.get("x-api-key", "")
            self._send(404, f"no such order (key {key})".encode(), "text/plain")
        elif route.path == "/slow":
            time.sleep(1.0)
            self._send(200, b"late", "text/plain")
        elif route.path == "/big":
            self._send(200, b"x" * 2000, "text/plain")
        elif route.path == "/big-unannounced":
            self._send(200, b"x" * 2000, "text/plain", length=False)
        elif route.path == "/text":
            self._send(200, b"plain words", "text/plain")
        elif route.path == "/redirect":
            self._send(302, b"", "text/plain", {"location": parse_qs(route.query)["to"][0]})
        else:
            self._send(200, json.dumps(request).encode(), "application/json; charset=utf-8")

    def _send(
        self,
        status: int,
        payload: bytes,
        content_type: str,
        extra: dict[str, str] | None = None,
        *,
        length: bool = True,
    ) -> None:
        try:
            self.send_response(status)
            self.send_header("content-type", content_type)
            if length:
                self.send_header("content-length", str(len(payload)))
            for name, value in (extra or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (the timeout test)

    do_GET = _answer  # noqa: N815
    do_POST = _answer  # noqa: N815
    do_PUT = _answer  # noqa: N815
    do_DELETE = _answer  # noqa: N815

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def target() -> Iterator[str]:
    Target.calls.clear()
    with serving(Target) as url:
        yield url


def http_tool(url: str, **fields: Any) -> HttpTool:
    return HttpTool(type="http", name="orders", url=url, parameters=ORDER_SCHEMA, **fields)


def run_http(
    tool: HttpTool,
    arguments: dict[str, Any],
    *,
    attempt: int = 1,
    secrets: dict[str, str] | None = None,
    allow_private_networks: bool = True,
    **options: Any,
) -> Any:
    context = ToolContext(
        "run_x",
        7,
        tool,
        attempt=attempt,
        allow_private_networks=allow_private_networks,
        secrets=secrets or {},
    )
    return asyncio.run(execute(tool, arguments, context, **options))


def test_post_sends_a_json_body_and_an_idempotency_key(target: str) -> None:
    tool = http_tool(f"{target}/orders", method="POST")
    echoed = run_http(tool, {"order_id": "A1", "note": "rush", "flags": {"gift": True}})
    (request,) = Target.calls
    assert echoed == request
    assert request["method"] == "POST"
    assert request["body"] == {"order_id": "A1", "note": "rush", "flags": {"gift": True}}
    assert request["headers"]["idempotency-key"] == "run_x:7"
    assert request["headers"]["accept"] == "application/json"
    assert request["headers"]["content-type"] == "application/json"


def test_get_sends_the_arguments_as_query_parameters(target: str) -> None:
    tool = http_tool(f"{target}/orders", method="GET")
    run_http(tool, {"order_id": "A 1", "limit": 3, "urgent": True, "flags": {"gift": True}})
    (request,) = Target.calls
    assert request["body"] is None
    assert request["query"] == {
        "order_id": ["A 1"],
        "limit": ["3"],
        "urgent": ["true"],
        "flags": ['{"gift": true}'],
    }
    assert request["headers"]["idempotency-key"] == "run_x:7"


def test_path_placeholders_are_filled_encoded_and_not_sent_again(target: str) -> None:
    tool = http_tool(f"{target}/orders/{{order_id}}/items", method="DELETE")
    run_http(tool, {"order_id": "a b/../c", "limit": 2})
    (request,) = Target.calls
    assert request["method"] == "DELETE"
    assert request["path"] == "/orders/a%20b%2F..%2Fc/items"
    assert request["query"] == {"limit": ["2"]}
    with pytest.raises(ToolError, match="order_id"):
        run_http(tool, {"order_id": ".."})
    assert len(Target.calls) == 1


def test_url_placeholders_must_be_required_parameters() -> None:
    with pytest.raises(ValidationError, match=r"\{customer\}"):
        http_tool("https://crm.example/customers/{customer}")
    optional = {"type": "object", "properties": {"customer": {"type": "string"}}}
    with pytest.raises(ValidationError, match=r"\{customer\}.*required"):
        HttpTool(
            type="http",
            name="crm",
            url="https://crm.example/customers/{customer}",
            parameters=optional,
        )
    with pytest.raises(ValidationError, match="host"):
        http_tool("https://{order_id}.example/orders")
    assert http_tool("https://crm.example/orders/{order_id}").url.endswith("{order_id}")


def test_secret_headers_are_sent_and_never_returned(target: str) -> None:
    tool = http_tool(
        f"{target}/orders",
        method="GET",
        headers={"X-Api-Key": {"secret": "TARGET_KEY"}, "X-Plain": "hello"},
    )
    echoed = run_http(tool, {"order_id": "A1"}, secrets={"TARGET_KEY": SECRET})
    (request,) = Target.calls
    assert request["headers"]["x-api-key"] == SECRET
    assert echoed["headers"]["x-api-key"] == "***"
    assert echoed["headers"]["x-plain"] == "hello"
    assert SECRET not in json.dumps(echoed)
    # Nor in an error that quotes the answer.
    missing = http_tool(
        f"{target}/missing", method="GET", headers={"X-Api-Key": {"secret": "TARGET_KEY"}}
    )
    with pytest.raises(ToolError) as failure:
        run_http(missing, {"order_id": "A1"}, secrets={"TARGET_KEY": SECRET})
    assert "(key ***)" in str(failure.value)
    assert SECRET not in str(failure.value)


def test_a_missing_secret_names_the_variable_and_sends_nothing(target: str) -> None:
    tool = http_tool(f"{target}/orders", headers={"Authorization": {"secret": "TARGET_KEY"}})
    with pytest.raises(ToolError, match="TARGET_KEY"):
        run_http(tool, {"order_id": "A1"}, secrets={"OTHER": SECRET})
    assert Target.calls == []


def test_secret_headers_do_not_follow_a_redirect_to_another_origin(target: str) -> None:
    with serving(Target) as elsewhere:
        tool = http_tool(
            f"{target}/redirect?to={elsewhere}/landing",
            method="GET",
            headers={"X-Api-Key": {"secret": "TARGET_KEY"}, "X-Plain": "hello"},
        )
        landed = run_http(tool, {"order_id": "A1"}, secrets={"TARGET_KEY": SECRET})
    first, second = Target.calls
    assert first["headers"]["x-api-key"] == SECRET
    assert second["path"] == "/landing"
    assert "x-api-key" not in second["headers"]
    assert second["headers"]["x-plain"] == "hello"
    assert landed["path"] == "/landing"


def test_answers_other_than_2xx_are_errors_with_the_status(target: str) -> None:
    tool = http_tool(f"{target}/missing", method="GET")
    with pytest.raises(ToolError, match=r"GET http://.*/missing answered 404: no such order"):
        run_http(tool, {"order_id": "A1"})


def test_text_answers_are_returned_as_text(target: str) -> None:
    assert run_http(http_tool(f"{target}/text", method="GET"), {"order_id": "A1"}) == (
        "plain words"
    )


def test_a_slow_target_times_out(target: str) -> None:
    tool = http_tool(f"{target}/slow", method="POST", timeout_seconds=0.5)
    started = time.monotonic()
    with pytest.raises(ToolError, match=r"did not answer within 0\.5 s"):
        run_http(tool, {"order_id": "A1"})
    assert time.monotonic() - started < 1.0
    assert len(Target.calls) == 1


@pytest.mark.parametrize("path", ["/big", "/big-unannounced"])
def test_oversized_answers_are_refused(target: str, path: str) -> None:
    tool = http_tool(f"{target}{path}", method="GET")
    with pytest.raises(ToolError, match="larger than 1000 bytes"):
        run_http(tool, {"order_id": "A1"}, max_response_bytes=1000)
    assert run_http(tool, {"order_id": "A1"}, max_response_bytes=2000) == "x" * 2000


def test_a_get_is_retried_after_a_503(target: str) -> None:
    result = run_http(http_tool(f"{target}/flaky", method="GET"), {"order_id": "A1"})
    assert result["path"] == "/flaky"
    assert len(Target.calls) == 2


def test_no_retry_when_another_attempt_could_outlast_the_step(target: str) -> None:
    # With a 10-minute timeout a second attempt might not end before the step's own timeout.
    patient = http_tool(f"{target}/flaky", method="GET", timeout_seconds=600)
    with pytest.raises(ToolError, match="answered 503: try again"):
        run_http(patient, {"order_id": "A1"})
    assert len(Target.calls) == 1


def test_a_long_retry_after_is_reported_not_awaited(target: str) -> None:
    with pytest.raises(ToolError, match="answered 503: down for maintenance"):
        run_http(http_tool(f"{target}/unavailable", method="GET"), {"order_id": "A1"})
    assert len(Target.calls) == 1


def test_a_post_is_not_retried_unless_the_target_accepts_idempotency_keys(target: str) -> None:
    with pytest.raises(ToolError, match="answered 503"):
        run_http(http_tool(f"{target}/flaky-soon", method="POST"), {"order_id": "A1"})
    assert len(Target.calls) == 1
    Target.calls.clear()
    tool = http_tool(f"{target}/flaky-soon", method="POST", accepts_idempotency_key=True)
    assert run_http(tool, {"order_id": "A1"})["path"] == "/flaky-soon"
    assert [call["headers"]["idempotency-key"] for call in Target.calls] == ["run_x:7"] * 2


def test_a_re_executed_step_does_not_send_a_post_again(target: str) -> None:
    with pytest.raises(ToolError, match=r"earlier attempt.*accepts_idempotency_key"):
        run_http(http_tool(f"{target}/orders", method="POST"), {"order_id": "A1"}, attempt=2)
    assert Target.calls == []
    # Retry-safe calls go out again, with the same key.
    run_http(http_tool(f"{target}/orders", method="PUT"), {"order_id": "A1"}, attempt=2)
    tool = http_tool(f"{target}/orders", method="POST", accepts_idempotency_key=True)
    run_http(tool, {"order_id": "A1"}, attempt=2)
    assert [call["method"] for call in Target.calls] == ["PUT", "POST"]


def test_http_tools_refuse_private_addresses_by_default(target: str) -> None:
    with pytest.raises(ToolError, match=r"127\.0\.0\.1.*TOOL_ALLOW_PRIVATE_NETWORKS"):
        run_http(http_tool(f"{target}/orders"), {"order_id": "A1"}, allow_private_networks=False)
    assert Target.calls == []


def test_http_tools_never_reach_the_metadata_endpoint(target: str) -> None:
    tool = http_tool(f"{target}/redirect?to=http://169.254.169.254/latest/meta-data/", method="GET")
    with pytest.raises(ToolError, match=r"169\.254\.169\.254.*always refused"):
        run_http(tool, {"order_id": "A1"})
    assert len(Target.calls) == 1


def test_an_unreachable_target_is_a_tool_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    tool = http_tool(f"http://127.0.0.1:{closed_port}/orders", method="POST")
    with pytest.raises(ToolError, match="cannot connect"):
        run_http(tool, {"order_id": "A1"})
