"""Local HTTP doubles of the OpenAI Chat Completions and Anthropic Messages endpoints.

They let provider tests run the real SDK clients end to end (headers, serialization, error
classes) without a network or an API key: each double answers from a script of responses and
records what it was sent. A request with `"stream": true` gets the scripted body as a stream of
server-sent events in that API's wire format, text split by word and tool arguments in pieces.
"""

import json
import re
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
    event_delay: float = 0.0
    stream_error: Any = None


@dataclass
class HttpDouble:
    """A scripted provider endpoint. Unscripted requests get a 500 that names the problem."""

    base_url: str
    path: str
    error_body: Callable[[str, str], dict[str, Any]]
    events: Callable[[Any, Any], list[str]]
    """The SSE events that stream a response body, given the request body."""
    error_event: Callable[[Any], str]
    """The SSE event that carries an error body inside a stream."""
    requests: list[RecordedRequest] = field(default_factory=list, init=False)
    _script: deque[ScriptedResponse] = field(default_factory=deque, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)
    _stopping: threading.Event = field(default_factory=threading.Event, init=False)

    def enqueue(
        self,
        status: int,
        body: Any,
        *,
        delay: float = 0.0,
        event_delay: float = 0.0,
        stream_error: Any = None,
    ) -> None:
        """Answer the next request with `body` after `delay` seconds.

        If that request streams (and `status` is 200), its events are `event_delay` seconds apart,
        and a `stream_error` body replaces the second half of them as an error event.
        """
        with self._lock:
            self._script.append(ScriptedResponse(status, body, delay, event_delay, stream_error))

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
            streams = isinstance(body, dict) and body.get("stream") is True
            try:
                if streams and reply.status == 200:
                    self._stream(reply, body)
                else:
                    self._send_json(reply)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a timeout test); nothing to tell it

        def _send_json(self, reply: ScriptedResponse) -> None:
            payload = json.dumps(reply.body).encode()
            self.send_response(reply.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def _stream(self, reply: ScriptedResponse, request_body: Any) -> None:
            events = double.events(reply.body, request_body)
            if reply.stream_error is not None:
                events = [*events[: len(events) // 2], double.error_event(reply.stream_error)]
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            self.end_headers()  # no length: the stream ends when the connection closes
            for index, event in enumerate(events):
                if index and reply.event_delay and double._stopping.wait(reply.event_delay):
                    return
                self.wfile.write(event.encode())
                self.wfile.flush()

        def log_message(self, format: str, *args: Any) -> None:
            """Silent: request lines would only clutter the test output."""

    return Handler


@contextmanager
def _serve(
    path: str,
    url_suffix: str,
    error_body: Callable[[str, str], dict[str, Any]],
    events: Callable[[Any, Any], list[str]],
    error_event: Callable[[Any], str],
) -> Iterator[HttpDouble]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    port = server.server_address[1]
    double = HttpDouble(
        base_url=f"http://127.0.0.1:{port}{url_suffix}",
        path=path,
        error_body=error_body,
        events=events,
        error_event=error_event,
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
    with _serve(
        "/v1/chat/completions", "/v1", openai_error, _completion_chunks, _openai_error_event
    ) as double:
        yield double


@contextmanager
def anthropic_messages_double() -> Iterator[HttpDouble]:
    """An Anthropic-style server; the SDK appends /v1/messages to `.base_url` itself."""
    with _serve(
        "/v1/messages", "", anthropic_error, _message_events, _anthropic_error_event
    ) as double:
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


def words(text: str) -> list[str]:
    """How the doubles split streamed text: word by word, keeping the whitespace."""
    return re.findall(r"\S+\s*|\s+", text)


def _pieces(json_text: str) -> list[str]:
    """Tool arguments in three pieces (fewer if short), cut anywhere, as providers do."""
    size = max(1, -(-len(json_text) // 3))
    return [json_text[start : start + size] for start in range(0, len(json_text), size)]


def _completion_chunks(completion: dict[str, Any], request: dict[str, Any]) -> list[str]:
    """A `chat.completion` body as OpenAI streams it: a role chunk, content and tool-call chunks,
    one with the finish reason, then (if the request asked for it) usage in a chunk without
    choices, and `[DONE]`."""
    with_usage = bool((request.get("stream_options") or {}).get("include_usage"))
    base: dict[str, Any] = {
        "id": completion["id"],
        "object": "chat.completion.chunk",
        "created": completion["created"],
        "model": completion["model"],
        "system_fingerprint": completion["system_fingerprint"],
    }
    if with_usage:
        base["usage"] = None

    def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
        return {**base, "choices": [choice]}

    choice = completion["choices"][0]
    message = choice["message"]
    content = message.get("content")
    opening = {"role": "assistant", "content": None if content is None else "", "refusal": None}
    chunks = [chunk(opening)]
    chunks += [chunk({"content": word}) for word in words(content or "")]
    for index, call in enumerate(message.get("tool_calls") or []):
        function = call["function"]
        named = {"name": function["name"], "arguments": ""}
        opened = {"index": index, "id": call["id"], "type": "function", "function": named}
        chunks.append(chunk({"tool_calls": [opened]}))
        chunks += [
            chunk({"tool_calls": [{"index": index, "function": {"arguments": piece}}]})
            for piece in _pieces(function["arguments"])
        ]
    chunks.append(chunk({}, choice["finish_reason"]))
    if with_usage:
        chunks.append({**base, "choices": [], "usage": completion["usage"]})
    return [f"data: {json.dumps(item)}\n\n" for item in chunks] + ["data: [DONE]\n\n"]


def _openai_error_event(error: Any) -> str:
    return f"data: {json.dumps(error)}\n\n"


def _message_events(message: dict[str, Any], request: dict[str, Any]) -> list[str]:
    """A Messages API `message` body as Anthropic streams it: message_start (with the input
    tokens), each content block as start / deltas / stop, then message_delta (with the stop
    reason and output tokens) and message_stop."""
    usage = message["usage"]
    started = {
        **message,
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": {"input_tokens": usage["input_tokens"], "output_tokens": 1},
    }
    events: list[dict[str, Any]] = [
        {"type": "message_start", "message": started},
        {"type": "ping"},
    ]
    for index, block in enumerate(message["content"]):
        opening: dict[str, Any]
        if block["type"] == "text":
            opening = {"type": "text", "text": ""}
            deltas = [{"type": "text_delta", "text": word} for word in words(block["text"])]
        else:
            opening = {**block, "input": {}}
            deltas = [
                {"type": "input_json_delta", "partial_json": piece}
                for piece in _pieces(json.dumps(block["input"]))
            ]
        events.append({"type": "content_block_start", "index": index, "content_block": opening})
        events += [{"type": "content_block_delta", "index": index, "delta": d} for d in deltas]
        events.append({"type": "content_block_stop", "index": index})
    events.append(
        {
            "type": "message_delta",
            "delta": {"stop_reason": message["stop_reason"], "stop_sequence": None},
            "usage": {"output_tokens": usage["output_tokens"]},
        }
    )
    events.append({"type": "message_stop"})
    return [_anthropic_event(event["type"], event) for event in events]


def _anthropic_error_event(error: Any) -> str:
    return _anthropic_event("error", error)


def _anthropic_event(name: str, data: Any) -> str:
    return f"event: {name}\ndata: {json.dumps(data)}\n\n"
