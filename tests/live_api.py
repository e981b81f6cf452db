"""The API served over real HTTP on 127.0.0.1 (uvicorn in a thread), for clients that bring
their own HTTP stack (LangGraph's SDK), and a TCP relay that can drop connections."""

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import httpx
import uvicorn
from fastapi import FastAPI

from backend.main import create_app
from backend.services.bootstrap import ensure_admin_key
from backend.settings import Settings
from tests.conftest import empty_all_tables
from tests.helpers import Api, free_port


@contextmanager
def serving(app: FastAPI) -> Iterator[str]:
    """The app at `http://127.0.0.1:<port>` until the block ends (the server is then told to
    exit and waited for)."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="live-api", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise AssertionError("the API did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@dataclass
class LiveStack:
    """The API at `url`, and two tenants' admins calling it over HTTP."""

    url: str
    app: FastAPI
    tenant: Api
    other: Api


@contextmanager
def live_stack(settings: Settings) -> Iterator[LiveStack]:
    """A fresh app on these settings, served; its tables emptied afterwards."""
    app = create_app(settings)
    try:
        with serving(app) as url, httpx.Client(base_url=url, timeout=30) as http:
            admin = Api(http, ensure_admin_key(app.state.engine, settings.admin_key_file))
            tenant, other = admin.new_tenant_admin("tenant-a"), admin.new_tenant_admin("b")
            yield LiveStack(url, app, tenant, other)
    finally:
        empty_all_tables(app)
        app.state.engine.dispose()


@dataclass
class Relay:
    """Forwards 127.0.0.1:<port> to the API; `drop()` cuts every open connection, as a proxy
    restart or a network fault would."""

    target: int
    port: int = field(default_factory=free_port)
    _open: list[socket.socket] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _listener: socket.socket | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        listener = socket.create_server(("127.0.0.1", self.port))
        self._listener = listener
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        assert self._listener is not None
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target))
            with self._lock:
                self._open += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=_pipe, args=(source, sink), daemon=True).start()

    def drop(self) -> None:
        with self._lock:
            for sock in self._open:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()
            self._open.clear()

    def stop(self) -> None:
        if self._listener is not None:
            self._listener.close()
        self.drop()


def _pipe(source: socket.socket, sink: socket.socket) -> None:
    try:
        while chunk := source.recv(65536):
            sink.sendall(chunk)
    except OSError:
        pass
    finally:
        for sock in (source, sink):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
