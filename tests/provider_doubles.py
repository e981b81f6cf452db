"""Local HTTP doubles of the OpenAI Chat Completions and Anthropic Messages endpoints.

They let provider tests run the real SDK clients end to end (headers, serialization, error
classes) without a network or an API key: each double answers from a script of responses and
records what it was sent.
"""

import json
import socket
import threading
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]  # names lower-cased
    body: Any


@dataclass
class ScriptedResponse:
    status: int
    body: Any
    delay: float = 0.0


@dataclass
class HttpDouble:
    """A scripted provider endpoint. Unscripted requests get a 500 that names the problem."""

    base_url: str
    path: str
    error_body: Callable[[str, str], dict[str, Any]]
    requests: list[RecordedRequest] = field(default_factory=list, init=False)
    _script: deque[ScriptedResponse] = field(default_factory=deque, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)
    _stopping: threading.Event = field(default_factory=threading.Event, init=False)

    def enqueue(self, status: int, body: Any, *, delay: float = 0.0) -> None:
        """Answer the next request with `body` after `delay` seconds."""
        with self._lock:
            self._script.append(ScriptedResponse(status, body, delay))

    def _answer(self, request: RecordedRequest) -> ScriptedResponse:
        with self._lock:
            self.requests.append(request)
            if request.path != self.path:
                return ScriptedResponse(
                    404, self.error_body("not_found", f"no route {request.path}")
                )
            if not self._script:
                return ScriptedResponse(
                    500, self.error_body("api_error", "double: nothing scripted")
                )
            return self._script.popleft()


def _handler_for(double: HttpDouble) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            try:
                body = json.loads(raw) if raw else None
            except json.JSONDecodeError:
                body = raw.decode(errors="replace")
            recorded = RecordedRequest(
                method="POST",
                path=self.path,
                headers={name.lower(): value for name, value in self.headers.items()},
                body=body,
            )
            reply = double._answer(recorded)
            if reply.delay and double._stopping.wait(reply.delay):
                return
            payload = json.dumps(reply.body).encode()
            try:
                self.send_response(reply.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a timeout test); nothing to tell it

        def log_message(self, format: str, *args: Any) -> None:
            """Silent: request lines would only clutter the test output."""

    return Handler


@contextmanager
def _serve(
    path: str, url_suffix: str, error_body: Callable[[str, str], dict[str, Any]]
) -> Iterator[HttpDouble]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    port = server.server_address[1]
    double = HttpDouble(
        base_url=f"http://127.0.0.1:{port}{url_suffix}", path=path, error_body=error_body
    )
    server.RequestHandlerClass = _handler_for(double)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield double
    finally:
        double._stopping.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@contextmanager
def chat_completions_double() -> Iterator[HttpDouble]:
    """An OpenAI-style server; `.base_url` ends in /v1 as the SDK expects."""
    with _serve("/v1/chat/completions", "/v1", openai_error) as double:
        yield double


@contextmanager
def anthropic_messages_double() -> Iterator[HttpDouble]:
    """An Anthropic-style server; the SDK appends /v1/messages to `.base_url` itself."""
    with _serve("/v1/messages", "", anthropic_error) as double:
        yield double


def closed_port_url(suffix: str = "") -> str:
    """A loopback URL nobody listens on, for connection-refused tests."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}{suffix}"


def chat_completion(
    content: str | None = None,
    tool_calls: list[tuple[str, str, dict[str, Any] | str]] | None = None,
    *,
    model: str = "gpt-test",
    prompt_tokens: int = 11,
    completion_tokens: int = 7,
) -> dict[str, Any]:
    """A `chat.completion` body. Tool calls are (id, name, arguments); a str is sent raw."""
    message: dict[str, Any] = {"role": "assistant", "content": content, "refusal": None}
    if tool_calls:
        message["tool_calls"] = [
            {
                "id": call_id,
                "type": "function",
                "function": {
                    "name": name,
                    "arguments": arguments if isinstance(arguments, str) else json.dumps(arguments),
                },
            }
            for call_id, name, arguments in tool_calls
        ]
    return {
        "id": "chatcmpl-double",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": message,
                "logprobs": None,
                "finish_reason": "tool_calls" if tool_calls else "stop",
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
        "system_fingerprint": "fp_double",
    }


def openai_error(type_: str, message: str, code: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": type_, "param": None, "code": code}}


def text_block(text: str) -> dict[str, Any]:
    return {"type": "text", "text": text}


def tool_use_block(block_id: str, name: str, input_: dict[str, Any]) -> dict[str, Any]:
    return {"type": "tool_use", "id": block_id, "name": name, "input": input_}


def anthropic_message(
    *blocks: dict[str, Any],
    model: str = "claude-test",
    input_tokens: int = 13,
    output_tokens: int = 5,
) -> dict[str, Any]:
    """A Messages API `message` body with the given content blocks."""
    uses_tools = any(block["type"] == "tool_use" for block in blocks)
    return {
        "id": "msg_double",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": list(blocks),
        "stop_reason": "tool_use" if uses_tools else "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": input_tokens, "output_tokens": output_tokens},
    }


def anthropic_error(type_: str, message: str) -> dict[str, Any]:
    return {
        "type": "error",
        "error": {"type": type_, "message": message},
        "request_id": "req_double",
    }
