"""A real S3 server for tests: SeaweedFS (`weed mini`) on free ports, stopped by PID."""

import json
import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import urllib3
from minio import Minio
from minio.error import MinioException

from tests.helpers import free_port
from tests.stack import stop_process

WEED = Path(sys.executable).parent / "weed"
# weed mini's embedded maintenance worker dials the admin server's gRPC port at the admin HTTP
# port + 10000 whatever -admin.port.grpc says, so that port is chosen to match.
ADMIN_GRPC_OFFSET = 10_000


@dataclass(frozen=True)
class S3Server:
    endpoint: str  # "127.0.0.1:PORT", plain HTTP
    access_key: str
    secret_key: str
    log: Path

    def env(self, bucket: str) -> dict[str, str]:
        return {
            "S3_ENDPOINT": self.endpoint,
            "S3_ACCESS_KEY": self.access_key,
            "S3_SECRET_KEY": self.secret_key,
            "S3_BUCKET": bucket,
            "S3_SECURE": "false",
            "S3_REGION": "us-east-1",
        }

    def client(self) -> Minio:
        return Minio(
            self.endpoint,
            access_key=self.access_key,
            secret_key=self.secret_key,
            secure=False,
            region="us-east-1",
            http_client=urllib3.PoolManager(
                timeout=urllib3.Timeout(connect=1, read=10), retries=urllib3.Retry(total=0)
            ),
        )


def _port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _ports(flags: list[str]) -> dict[str, int]:
    """A distinct free port per flag, and the admin pair at the offset weed mini assumes."""
    chosen: set[int] = set()
    while True:
        admin = free_port()
        if admin + ADMIN_GRPC_OFFSET < 65536 and _port_is_free(admin + ADMIN_GRPC_OFFSET):
            chosen |= {admin, admin + ADMIN_GRPC_OFFSET}
            break
    ports = {"admin.port": admin, "admin.port.grpc": admin + ADMIN_GRPC_OFFSET}
    for flag in flags:
        port = free_port()
        while port in chosen:
            port = free_port()
        chosen.add(port)
        ports[flag] = port
    return ports


PORT_FLAGS = [
    "s3.port",
    "s3.port.grpc",
    "master.port",
    "master.port.grpc",
    "volume.port",
    "volume.port.grpc",
    "filer.port",
    "filer.port.grpc",
]


def weed_mini_command(directory: Path, config: Path, ports: dict[str, int]) -> list[str]:
    """Every listener on 127.0.0.1 and a free port; Iceberg, Lance, WebDAV and telemetry off."""
    return [
        str(WEED),
        f"-logdir={directory}",  # glog files, which otherwise land in /tmp
        "mini",
        f"-dir={directory / 'data'}",
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",
        *(f"-{flag}={port}" for flag, port in ports.items()),
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
        f"-s3.config={config}",
        # These Unix sockets default to /tmp/seaweedfs-*-<port>.sock and outlive the process;
        # the gRPC ones stay in /tmp but are removed on a clean stop.
        f"-s3.localSocket={directory / 's3.sock'}",
        f"-filer.localSocket={directory / 'filer.sock'}",
        "-webdav=false",
        "-admin.ui=false",
        "-master.telemetry=false",
    ]


def _log_tail(log: Path, lines: int = 40) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def wait_for_s3(server: S3Server, process: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    """Until a signed request (list buckets) succeeds; fails with the log's tail otherwise."""
    client = server.client()
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise AssertionError(
                f"weed mini exited early ({process.returncode}):\n{_log_tail(server.log)}"
            )
        try:
            client.list_buckets()
            return
        except (MinioException, urllib3.exceptions.HTTPError) as exc:
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"SeaweedFS S3 not ready after {timeout:.0f} s ({exc}):\n"
                    f"{_log_tail(server.log)}"
                ) from None
        time.sleep(0.1)


@contextmanager
def running_seaweedfs(directory: Path) -> Iterator[S3Server]:
    """SeaweedFS with all its files, sockets and logs in `directory`; stopped on exit."""
    # Unix socket paths are limited to 107 bytes, and weed puts its sockets in there.
    assert len(str(directory)) < 60, f"{directory} is too long a path for weed's Unix sockets"
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "data").mkdir(exist_ok=True)
    access_key = "test-" + secrets.token_hex(8)
    secret_key = secrets.token_urlsafe(24)
    config = directory / "s3.json"
    config.write_text(
        json.dumps(
            {
                "identities": [
                    {
                        "name": "admin",
                        "credentials": [{"accessKey": access_key, "secretKey": secret_key}],
                        "actions": ["Admin", "Read", "List", "Tagging", "Write"],
                    }
                ]
            }
        )
    )
    config.chmod(0o600)
    ports = _ports(PORT_FLAGS)
    command = weed_mini_command(directory, config, ports)
    log_path = directory / "weed.log"
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            command,
            cwd=directory,
            # Its gRPC Unix sockets go to the temp dir, and some outlive a stop.
            env={**os.environ, "TMPDIR": str(directory)},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        server = S3Server(f"127.0.0.1:{ports['s3.port']}", access_key, secret_key, log_path)
        wait_for_s3(server, process)
        yield server
    finally:
        stop_process(process)
