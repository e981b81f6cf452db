"""A local HTTP endpoint an agent's HTTP tool calls: it answers and counts what it was sent."""

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class ToolEndpoint:
    base_url: str
    calls: list[dict[str, Any]] = field(default_factory=list)
    # Bytes of the answer to /large, when a test wants a big tool result.
    large_size: int = 0
    # How long /slow takes to answer (after counting the call), to keep a tool step in flight.
    slow_seconds: float = 0.0

    def calls_to(self, path: str) -> list[dict[str, Any]]:
        return [call for call in self.calls if call["path"].split("?")[0] == path]


def _handler(endpoint: ToolEndpoint, lock: threading.Lock) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            raw = self.rfile.read(length) if length else b""
            body = json.loads(raw) if raw else None
            with lock:
                endpoint.calls.append(
                    {
                        "method": self.command,
                        "path": self.path,
                        "headers": {k.lower(): v for k, v in self.headers.items()},
                        "body": body,
                    }
                )
            if self.path.startswith("/slow"):
                time.sleep(endpoint.slow_seconds)
            if self.path.startswith("/large"):
                # A JSON document of `large_size` bytes.
                filler = "x" * max(0, endpoint.large_size - len('{"blob":""}'))
                payload = json.dumps({"blob": filler}).encode()
            else:
                payload = json.dumps({"received": body, "path": self.path}).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = _answer  # noqa: N815
        do_POST = _answer  # noqa: N815
        do_PUT = _answer  # noqa: N815

        def log_message(self, *_args: object) -> None:
            pass

    return Handler


@contextmanager
def running_tool_endpoint() -> Iterator[ToolEndpoint]:
    lock = threading.Lock()
    endpoint = ToolEndpoint(base_url="")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(endpoint, lock))
    endpoint.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield endpoint
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
