"""Where tools may connect: public addresses only, and never a cloud metadata endpoint.

An agent chooses URLs (or their arguments), so every tool connection is a potential SSRF.
The check runs on the addresses a host name resolves to, inside httpcore's `connect_tcp`:
so it covers every connection, redirects included, and the socket goes to the very address
that was checked (a DNS answer that changes between check and connect cannot slip through).
"""

import ipaddress
import socket
from collections.abc import Iterable
from functools import cache
from ssl import SSLContext
from types import ModuleType
from typing import Any

import anyio
import httpcore
import httpcore2
import httpx
import httpx2
from httpcore import AsyncNetworkBackend, AsyncNetworkStream

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
SocketOption = (
    tuple[int, int, int] | tuple[int, int, bytes | bytearray] | tuple[int, int, None, int]
)

# Instance metadata services hand out the machine's credentials: refused even when private
# networks are allowed. AWS (IPv4, ECS task, IPv6), GCP (IPv6), Alibaba; Azure, GCP and
# Oracle share AWS's 169.254.169.254.
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(address)
    for address in (
        "169.254.169.254",
        "169.254.170.2",
        "fd00:ec2::254",
        "fd20:ce::254",
        "100.100.100.200",
    )
)
METADATA_HOSTNAMES = frozenset({"metadata.google.internal"})
ALLOW_PRIVATE_HINT = "TOOL_ALLOW_PRIVATE_NETWORKS=true on the worker allows private networks"

_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")


class DestinationRefusedError(Exception):
    """A tool tried to reach an address it may not: loopback, private, metadata and the like."""

    def __init__(self, host: str, address: str | None, *, metadata: bool) -> None:
        self.host = host
        self.address = address
        self.metadata = metadata
        where = host if address is None or address == host else f"{host} ({address})"
        if metadata:
            reason = "cloud metadata endpoints are always refused"
        else:
            reason = f"it is not a public address; {ALLOW_PRIVATE_HINT}"
        super().__init__(f"refused to connect to {where}: {reason}")


def _unmapped(address: IPAddress) -> IPAddress:
    """The IPv4 address an IPv6 one stands for (mapped, IPv4-compatible, NAT64), else itself."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        if address in _NAT64 or (address in _IPV4_COMPATIBLE and int(address) > 1):
            return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address


def _six_to_four(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address a 6to4 one routes to: it must pass the same checks."""
    return address.sixtofour if isinstance(address, ipaddress.IPv6Address) else None


def _is_public(address: IPAddress) -> bool:
    # `is_global` alone lets multicast through (and, on some Pythons, a few reserved ranges).
    return address.is_global and not (
        address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or address.is_loopback
        or address.is_link_local
        or address.is_private
    )


def _parse(address: str | IPAddress) -> IPAddress:
    return _unmapped(ipaddress.ip_address(address) if isinstance(address, str) else address)


def is_metadata(address: str | IPAddress) -> bool:
    ip = _parse(address)
    return ip in METADATA_ADDRESSES or _six_to_four(ip) in METADATA_ADDRESSES


def is_allowed(address: str | IPAddress, *, allow_private_networks: bool) -> bool:
    """Whether a tool may connect to this address; metadata endpoints never."""
    ip = _parse(address)
    if is_metadata(ip):
        return False
    if allow_private_networks:
        return True
    inner = _six_to_four(ip)
    return _is_public(ip) and (inner is None or _is_public(inner))


def check_hostname(host: str) -> None:
    """Refuse the metadata host names before anything is resolved."""
    if host.lower().rstrip(".") in METADATA_HOSTNAMES:
        raise DestinationRefusedError(host, None, metadata=True)


def check_address(host: str, address: str, *, allow_private_networks: bool) -> None:
    if not is_allowed(address, allow_private_networks=allow_private_networks):
        raise DestinationRefusedError(host, address, metadata=is_metadata(address))


async def resolve(host: str, port: int, core: ModuleType = httpcore) -> list[str]:
    """Every address `host` resolves to, in the resolver's order, without repeats."""
    try:
        answers = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise core.ConnectError(f"could not resolve {host}: {exc.strerror}") from None
    except (UnicodeError, ValueError, OverflowError, OSError) as exc:
        # A name the resolver cannot even encode (an over-long label, say): as unresolvable.
        # Only httpcore's errors become httpx's, which a tool reports to the model.
        raise core.ConnectError(f"could not resolve {host!r}: {exc}") from None
    addresses: list[str] = []
    for *_, sockaddr in answers:
        address = str(sockaddr[0])
        if address not in addresses:
            addresses.append(address)
    return addresses


class GuardedNetworkBackend(AsyncNetworkBackend):
    """httpcore's default backend, connecting only to addresses the policy allows. `core` is
    httpcore, or httpcore2 for httpx2 clients (the MCP SDK's): the same interface, each with
    its own error classes."""

    def __init__(self, *, allow_private_networks: bool, core: ModuleType = httpcore) -> None:
        self.allow_private_networks = allow_private_networks
        self._core = core
        self._backend: Any = core.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's interface)
        local_address: str | None = None,
        socket_options: Iterable[SocketOption] | None = None,
    ) -> AsyncNetworkStream:
        core = self._core
        check_hostname(host)
        if not 0 < port < 65536:
            # httpx takes any number (from a URL or a redirect); the socket layer would not.
            raise core.ConnectError(f"{port} is not a TCP port")
        try:
            with anyio.fail_after(timeout):
                addresses = await resolve(host, port, core)
        except TimeoutError:
            raise core.ConnectTimeout(f"resolving {host} timed out") from None
        # All of them, not just the first: a name that also points inward is not trusted.
        for address in addresses:
            check_address(host, address, allow_private_networks=self.allow_private_networks)
        failure: Exception = core.ConnectError(f"{host} resolved to no address")
        for address in addresses:
            try:
                # The IP, not the name: no second resolution. TLS still verifies and sends
                # SNI for the name, since httpcore's start_tls takes it from the URL's origin.
                stream: AsyncNetworkStream = await self._backend.connect_tcp(
                    address,
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
                return stream
            except (core.ConnectError, core.ConnectTimeout) as exc:
                failure = exc
        raise failure

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's interface)
        socket_options: Iterable[SocketOption] | None = None,
    ) -> AsyncNetworkStream:
        raise NotImplementedError("tool connections are TCP only")

    async def sleep(self, seconds: float) -> None:
        await self._backend.sleep(seconds)


@cache
def _tls_context() -> SSLContext:
    # Built once (loading the CA bundle is not free); certifi's, as httpx does by default.
    return httpx.create_ssl_context(trust_env=False)


class GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's transport with the pool's network backend swapped for the guarded one."""

    def __init__(self, *, allow_private_networks: bool, limits: httpx.Limits) -> None:
        tls = _tls_context()
        super().__init__(verify=tls, trust_env=False, limits=limits)
        # The same pool httpx builds when no proxy is configured, plus the network backend.
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=tls,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            http1=True,
            http2=False,
            network_backend=GuardedNetworkBackend(allow_private_networks=allow_private_networks),
        )


def guarded_client(
    allow_private_networks: bool,
    timeout: float,
    follow_redirects: bool,
    *,
    max_redirects: int = 5,
    limits: httpx.Limits | None = None,
) -> httpx.AsyncClient:
    """An HTTP client for tool calls: every connection checked, no proxy from the env. The
    timeout covers waiting for a free connection: a caller running more requests at once than
    the default 10 passes `limits` to match."""
    return httpx.AsyncClient(
        transport=GuardedTransport(
            allow_private_networks=allow_private_networks,
            limits=limits or httpx.Limits(max_connections=10, max_keepalive_connections=10),
        ),
        timeout=timeout,
        follow_redirects=follow_redirects,
        max_redirects=max_redirects,
        # A proxy from HTTP(S)_PROXY would connect on our behalf and skip the check.
        trust_env=False,
    )


class GuardedTransport2(httpx2.AsyncHTTPTransport):
    """`GuardedTransport` for httpx2, the HTTP stack of the MCP SDK."""

    def __init__(self, *, allow_private_networks: bool) -> None:
        tls = httpx2.create_ssl_context(trust_env=False)
        super().__init__(verify=tls, trust_env=False)
        backend = GuardedNetworkBackend(
            allow_private_networks=allow_private_networks, core=httpcore2
        )
        self._pool = httpcore2.AsyncConnectionPool(
            ssl_context=tls,
            http1=True,
            http2=False,
            network_backend=backend,  # type: ignore[arg-type]  # httpcore2 has the same interface
        )


def guarded_client2(
    allow_private_networks: bool, timeout: float, headers: dict[str, str]
) -> httpx2.AsyncClient:
    """An httpx2 client (for the MCP SDK) whose every connection is checked, no proxy."""
    return httpx2.AsyncClient(
        transport=GuardedTransport2(allow_private_networks=allow_private_networks),
        timeout=httpx2.Timeout(timeout, read=max(timeout, 300.0)),
        headers=headers,
        trust_env=False,
    )
