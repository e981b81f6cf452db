"""Tool connections reach public addresses only, checked after resolution, on every hop."""

import asyncio
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpcore
import httpx
import pytest

from core.netguard import DestinationRefusedError, guarded_client, is_allowed

REFUSED_UNLESS_PRIVATE_ALLOWED = [
    "127.0.0.1",
    "127.8.9.10",
    "10.1.2.3",
    "172.16.0.1",
    "172.31.255.254",
    "192.168.1.1",
    "169.254.1.1",
    "100.64.0.1",
    "100.127.255.254",
    "0.0.0.0",  # noqa: S104 (an address under test, not a bind)
    "224.0.0.1",
    "240.0.0.1",
    "255.255.255.255",
    "::",
    "::1",
    "fc00::1",
    "fd12:3456::1",
    "fe80::1",
    "ff02::1",
    "::ffff:127.0.0.1",
    "::ffff:10.0.0.1",
    "64:ff9b::7f00:1",  # NAT64 for 127.0.0.1
    "2002:c0a8:101::1",  # 6to4 for 192.168.1.1
]
METADATA = [
    "169.254.169.254",
    "169.254.170.2",
    "fd00:ec2::254",
    "100.100.100.200",
    "::ffff:169.254.169.254",
    "2002:a9fe:a9fe::1",  # 6to4 for 169.254.169.254
]
PUBLIC = [
    "93.184.215.14",
    "1.1.1.1",
    "2606:4700:4700::1111",
    "::ffff:8.8.8.8",
    "64:ff9b::808:808",  # NAT64 (DNS64 networks) for 8.8.8.8
    "2002:808:808::1",  # 6to4 for 8.8.8.8
]


@pytest.mark.parametrize("address", REFUSED_UNLESS_PRIVATE_ALLOWED)
def test_non_public_addresses_need_private_networks_allowed(address: str) -> None:
    assert not is_allowed(address, allow_private_networks=False)
    assert is_allowed(address, allow_private_networks=True)


@pytest.mark.parametrize("address", METADATA)
def test_metadata_endpoints_are_always_refused(address: str) -> None:
    assert not is_allowed(address, allow_private_networks=False)
    assert not is_allowed(address, allow_private_networks=True)


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_are_allowed(address: str) -> None:
    assert is_allowed(address, allow_private_networks=False)


class Redirector(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/to-metadata":
            self.send_response(302)
            self.send_header("location", "http://169.254.169.254/latest/meta-data/")
            self.send_header("content-length", "0")
            self.end_headers()
            return
        payload = b"hello"
        self.send_response(200)
        self.send_header("content-type", "text/plain")
        self.send_header("content-length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def port() -> Iterator[int]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Redirector)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield int(httpd.server_address[1])
    finally:
        httpd.shutdown()
        httpd.server_close()


async def fetch(url: str, *, allow_private_networks: bool) -> httpx.Response:
    async with guarded_client(allow_private_networks, 5.0, follow_redirects=True) as http:
        return await http.get(url)


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_a_local_server_is_refused_by_default(port: int, host: str) -> None:
    # `localhost` is a name: refusing it shows the check looks at what it resolves to.
    with pytest.raises(DestinationRefusedError) as refused:
        asyncio.run(fetch(f"http://{host}:{port}/", allow_private_networks=False))
    assert refused.value.host == host
    assert refused.value.address in ("127.0.0.1", "::1")
    assert "TOOL_ALLOW_PRIVATE_NETWORKS" in str(refused.value)


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_a_local_server_is_reached_with_private_networks_allowed(port: int, host: str) -> None:
    response = asyncio.run(fetch(f"http://{host}:{port}/", allow_private_networks=True))
    assert response.status_code == 200
    assert response.text == "hello"


def test_a_redirect_to_the_metadata_endpoint_is_refused_before_connecting(
    port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Spy on httpcore's own backend (the one that opens sockets) to see every connection made.
    connected: list[str] = []
    original = httpcore.AnyIOBackend.connect_tcp

    async def recording(self: httpcore.AnyIOBackend, host: str, *args: Any, **kwargs: Any) -> Any:
        connected.append(host)
        return await original(self, host, *args, **kwargs)

    monkeypatch.setattr(httpcore.AnyIOBackend, "connect_tcp", recording)
    with pytest.raises(DestinationRefusedError) as refused:
        asyncio.run(fetch(f"http://127.0.0.1:{port}/to-metadata", allow_private_networks=True))
    assert refused.value.metadata
    assert refused.value.address == "169.254.169.254"
    assert "always refused" in str(refused.value)
    assert connected == ["127.0.0.1"]


def test_the_metadata_host_name_is_refused_without_resolving_it() -> None:
    # Without internet access a lookup would fail with a connect error, not this.
    with pytest.raises(DestinationRefusedError, match="always refused"):
        asyncio.run(fetch("http://metadata.google.internal/", allow_private_networks=True))
