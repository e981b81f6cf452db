"""A Postgres cluster of the test's own, on a free port, that the test may stop and start again.

Tests run as root and `initdb` refuses root, so the cluster belongs to the `postgres` OS user,
in a directory of its own outside pytest's (root-only) temporary tree.
"""

import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from tests.helpers import free_port

OS_USER = "postgres"


def _as_postgres(*command: str) -> list[str]:
    return ["runuser", "-u", OS_USER, "--", *command] if os.geteuid() == 0 else list(command)


class PostgresCluster:
    def __init__(self, directory: Path, port: int) -> None:
        self.directory = directory
        self.data = directory / "data"
        self.sockets = directory / "sockets"
        self.log = directory / "postgres.log"
        self.port = port

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://{OS_USER}@127.0.0.1:{self.port}/postgres"

    def init(self) -> None:
        subprocess.run(
            _as_postgres("initdb", "-D", str(self.data), "-A", "trust", "-U", OS_USER),
            check=True,
            capture_output=True,
        )

    def start(self) -> None:
        options = (
            f"-c listen_addresses=127.0.0.1 -p {self.port} "
            f"-c unix_socket_directories={self.sockets}"
        )
        subprocess.run(
            _as_postgres(
                *("pg_ctl", "start", "-w", "-t", "60", "-D", str(self.data)),
                *("-l", str(self.log), "-o", options),
            ),
            check=True,
            capture_output=True,
        )

    def stop(self) -> None:
        """As an outage: connections are cut, new ones refused, until `start`."""
        subprocess.run(
            _as_postgres("pg_ctl", "stop", "-w", "-t", "60", "-m", "fast", "-D", str(self.data)),
            check=True,
            capture_output=True,
        )

    def postmaster_pid(self) -> int | None:
        pid_file = self.data / "postmaster.pid"
        with suppress(FileNotFoundError, ValueError, IndexError):
            return int(pid_file.read_text().splitlines()[0])
        return None

    def kill(self) -> None:
        """The last resort when `pg_ctl stop` fails: the postmaster by PID (its children follow)."""
        pid = self.postmaster_pid()
        if pid is None:
            return
        with suppress(ProcessLookupError):
            os.kill(pid, signal.SIGQUIT)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                os.kill(pid, 0)
                time.sleep(0.1)
            os.kill(pid, signal.SIGKILL)


@contextmanager
def postgres_cluster() -> Iterator[PostgresCluster]:
    """A running cluster (trust auth, loopback only), stopped and removed afterwards."""
    directory = Path(tempfile.mkdtemp(prefix="agent-runtime-pg-"))
    cluster = PostgresCluster(directory, free_port())
    try:
        cluster.sockets.mkdir()
        if os.geteuid() == 0:
            for path in (directory, cluster.sockets):
                shutil.chown(path, OS_USER, OS_USER)
        cluster.init()
        cluster.start()
        yield cluster
    finally:
        if cluster.postmaster_pid() is not None:
            try:
                cluster.stop()
            except subprocess.CalledProcessError:
                cluster.kill()
        shutil.rmtree(directory, ignore_errors=True)
