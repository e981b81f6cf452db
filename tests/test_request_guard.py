"""The request guard refuses a body past the limit without reading it whole."""

import asyncio
import json
from typing import Any

from starlette.types import Message, Receive, Scope, Send

from backend.json_screen import screen_json
from backend.request_guard import RequestGuard

LIMIT = 4096


class Endpoint:
    """An ASGI app that records the body it was given."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        self.bodies.append(body)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})


def call(headers: list[tuple[bytes, bytes]], chunks: list[bytes]) -> tuple[int, Any, int, Endpoint]:
    """(status, JSON answer, chunks the client was asked for, the endpoint)."""
    endpoint = Endpoint()
    guard = RequestGuard(endpoint, LIMIT)
    scope = {"type": "http", "method": "POST", "path": "/v1/x", "query_string": b""}
    pulled = 0
    sent: list[Message] = []

    async def receive() -> Message:
        nonlocal pulled
        pulled += 1
        more = pulled < len(chunks)
        return {"type": "http.request", "body": chunks[pulled - 1], "more_body": more}

    async def send(message: Message) -> None:
        sent.append(message)

    asyncio.run(guard({**scope, "headers": headers}, receive, send))
    status = sent[0]["status"]
    body = b"".join(m.get("body", b"") for m in sent[1:])
    answer = json.loads(body) if status != 200 else body
    return status, answer, pulled, endpoint


def test_a_declared_length_past_the_limit_is_refused_before_any_byte_is_read() -> None:
    status, answer, pulled, endpoint = call([(b"content-length", b"999999999")], [b"x"])
    assert (status, answer["error"]["code"], pulled) == (413, "request_too_large", 0)
    assert endpoint.bodies == []


def test_a_streamed_body_is_refused_at_the_limit_not_read_on() -> None:
    chunks = [b"x" * 1024] * 100
    status, answer, pulled, endpoint = call([(b"transfer-encoding", b"chunked")], chunks)
    assert (status, answer["error"]["code"]) == (413, "request_too_large")
    assert pulled == LIMIT // 1024 + 1
    assert endpoint.bodies == []


def test_a_body_within_the_limit_reaches_the_endpoint_whole() -> None:
    chunks = [b'{"a": ', b'"' + b"x" * 3000 + b'"', b"}"]
    status, _answer, _pulled, endpoint = call([(b"transfer-encoding", b"chunked")], chunks)
    assert status == 200
    assert endpoint.bodies == [b"".join(chunks)]


def test_screening_names_the_json_path_of_the_offending_value() -> None:
    cases = {
        b'{"a": {"b": [1, "x\\u0000"]}}': ("a.b.1", "string_unstorable"),
        b'{"a": [{"\\ud800": 1}]}': ("a.0.\ud800", "string_unstorable"),
        b'{"n": -9223372036854775809}': ("n", "integer_out_of_range"),
        b'{"f": [1e999]}': ("f.0", "number_finite"),
        b"[NaN]": ("0", "number_finite"),
    }
    for body, (field, kind) in cases.items():
        violation = screen_json(body)
        assert violation is not None, body
        assert (violation.field, violation.kind) == (field, kind)


def test_screening_lets_ordinary_json_through() -> None:
    for body in [
        b'{"text": "NaN and Infinity are words", "n": 9223372036854775807, "e": 1e308}',
        b'{"emoji": "\\ud83d\\ude00", "escaped": "\\\\u0000"}',
        b"not json at all",
    ]:
        assert screen_json(body) is None, body
