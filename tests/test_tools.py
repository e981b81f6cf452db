"""Built-in tools, called as the worker calls them: validated, then executed."""

import asyncio
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from backend.models.agent_config import BuiltinTool
from worker.tools import HTTP_MAX_RESPONSE_BYTES, ToolContext, execute
from worker.types import ToolError


def call(name: str, arguments: dict[str, Any], **tool: Any) -> Any:
    spec = BuiltinTool(type="builtin", name=name, **tool)
    return asyncio.run(execute(spec, arguments, ToolContext("run_x", 7, spec)))


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
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_http_request_reaches_allowed_hosts_with_an_idempotency_key(server: str) -> None:
    Recorder.seen.clear()
    result = call(
        "http_request",
        {"url": f"{server}/orders", "method": "POST", "body": {"id": 1}},
        allowed_hosts=["127.0.0.1"],
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
        call("http_request", {"url": f"{server}/big"}, allowed_hosts=["127.0.0.1"])
    with pytest.raises(ToolError, match="http"):
        call("http_request", {"url": "file:///etc/passwd"}, allowed_hosts=["127.0.0.1"])
