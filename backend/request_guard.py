"""Requests no endpoint should see: bodies past MAX_REQUEST_BYTES (413), NUL characters in the
path, query or headers (422, no database stores them), and JSON bodies `backend.json_screen`
refuses (422). A pure ASGI middleware: a body is counted as it arrives and never read past the
limit, and a declared Content-Length past it is refused before any of it is read.
"""

import re
from typing import Any
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backend.errors import ApiError, error_response, invalid
from backend.json_screen import screen_json

_METHODS_WITHOUT_BODY = frozenset({"GET", "HEAD", "OPTIONS"})


class _ClientGoneError(Exception):
    """The client disconnected before its body arrived whole."""


class RequestGuard:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers: list[tuple[bytes, bytes]] = scope["headers"]
        refusal = _nul_in_request(scope, headers) or self._declared_too_large(headers)
        if refusal is not None:
            await error_response(refusal)(scope, receive, send)
            return
        if not _may_have_body(scope, headers):
            await self.app(scope, receive, send)
            return
        try:
            body = await self._read_body(receive)
        except _ClientGoneError:
            return  # nobody to answer, and a partial body must not reach an endpoint
        if body is None:
            await error_response(self._too_large())(scope, receive, send)
            return
        if body and _is_json(headers):
            violation = screen_json(body)
            if violation is not None:
                refusal = invalid(violation.field, "body", violation.message, kind=violation.kind)
                await error_response(refusal)(scope, receive, send)
                return
        await self.app(scope, _replaying(body, receive), send)

    def _too_large(self) -> ApiError:
        return ApiError(
            413,
            "request_too_large",
            f"the request body is larger than {self.max_bytes} bytes",
            {"max_bytes": self.max_bytes},
        )

    def _declared_too_large(self, headers: list[tuple[bytes, bytes]]) -> ApiError | None:
        for name, value in headers:
            if name == b"content-length" and value.isdigit() and int(value) > self.max_bytes:
                return self._too_large()
        return None

    async def _read_body(self, receive: Receive) -> bytes | None:
        """The whole body, or None as soon as it grows past the limit."""
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                raise _ClientGoneError
            chunk: bytes = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)


def _may_have_body(scope: Scope, headers: list[tuple[bytes, bytes]]) -> bool:
    if scope["method"] not in _METHODS_WITHOUT_BODY:
        return True
    return any(name in (b"content-length", b"transfer-encoding") for name, _ in headers)


def _is_json(headers: list[tuple[bytes, bytes]]) -> bool:
    """What FastAPI reads as JSON: no content type, or application/json or `+json`."""
    for name, value in headers:
        if name == b"content-type":
            media = value.split(b";", 1)[0].strip().lower()
            return media == b"application/json" or (
                media.startswith(b"application/") and media.endswith(b"+json")
            )
    return True


def _replaying(body: bytes, receive: Receive) -> Receive:
    """The body read, once; then the client's own messages (a disconnect)."""
    delivered = False

    async def replay() -> Message:
        nonlocal delivered
        if delivered:
            return await receive()
        delivered = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


def _nul_in_request(scope: Scope, headers: list[tuple[bytes, bytes]]) -> ApiError | None:
    path: str = scope["path"]
    if "\x00" in path:
        return _nul(_path_parameter(scope), "path")
    query: bytes = scope.get("query_string", b"")
    if b"%00" in query or b"\x00" in query:
        for name, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
            if "\x00" in name or "\x00" in value:
                return _nul(name, "query")
    for raw_name, raw_value in headers:
        if b"\x00" in raw_value:
            return _nul(_header_name(raw_name), "header")
    return None


def _nul(field: str, location: str) -> ApiError:
    return invalid(field, location, "may not contain NUL characters", kind="string_unstorable")


def _path_parameter(scope: Scope) -> str:
    """The path parameter holding the NUL, found among the documented paths (a rare path)."""
    app: Any = scope.get("app")
    templates = app.openapi().get("paths", {}) if hasattr(app, "openapi") else {}
    for template in templates:
        pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template))
        match = re.fullmatch(pattern, scope["path"])
        for name, value in (match.groupdict() if match else {}).items():
            if "\x00" in value:
                return name
    return "path"


def _header_name(raw: bytes) -> str:
    return "-".join(part.capitalize() for part in raw.decode("latin-1").split("-"))
