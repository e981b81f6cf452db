"""Run several child processes as one: stop all on Ctrl-C/SIGTERM, report any that dies."""

import ctypes
import ctypes.util
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from types import FrameType

from rich.console import Console

STOP_GRACE_SECONDS = 10.0
PR_SET_PDEATHSIG = 1


def _die_with_parent() -> Callable[[], None] | None:
    """On Linux, a child gets SIGTERM if the supervisor itself is killed, so none is orphaned."""
    if not sys.platform.startswith("linux"):
        return None
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)

    def arrange() -> None:
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)

    return arrange


class StopRequestedError(Exception):
    """SIGTERM arrived while the supervisor was still starting its children."""


def raise_on_sigterm() -> None:
    """Until `wait()` takes over, turn SIGTERM into an exception, so cleanup code runs."""

    def handler(_signum: int, _frame: FrameType | None) -> None:
        raise StopRequestedError

    signal.signal(signal.SIGTERM, handler)


@dataclass
class Child:
    name: str
    argv: Sequence[str]
    env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None


class Supervisor:
    def __init__(self, console: Console) -> None:
        self.console = console
        self.children: list[Child] = []
        self._stopping = False

    def start(self, child: Child) -> Child:
        child.process = subprocess.Popen(  # noqa: S603  (argv is ours)
            list(child.argv),
            env={**os.environ, **child.env},
            start_new_session=True,
            preexec_fn=_die_with_parent(),
        )
        self.children.append(child)
        return child

    def _request_stop(self, signum: int, _frame: FrameType | None) -> None:
        self._stopping = True

    def wait(self) -> int:
        """Block until a stop signal or a child's exit; then stop everyone. Returns an exit code."""
        previous = {
            sig: signal.signal(sig, self._request_stop) for sig in (signal.SIGINT, signal.SIGTERM)
        }
        exit_code = 0
        try:
            while not self._stopping:
                for child in self.children:
                    assert child.process is not None
                    code = child.process.poll()
                    if code is not None:
                        self.console.print(
                            f"[bold red]{child.name} exited unexpectedly (code {code}); "
                            "stopping everything[/]"
                        )
                        exit_code = code or 1
                        self._stopping = True
                        break
                time.sleep(0.2)
        finally:
            self.stop_all()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        return exit_code

    def stop_all(self) -> None:
        """Stop in reverse start order, so nothing loses a server it still depends on."""
        for child in reversed(self.children):
            if child.process is None or child.process.poll() is not None:
                continue
            os.killpg(child.process.pid, signal.SIGTERM)
            try:
                child.process.wait(timeout=STOP_GRACE_SECONDS)
            except subprocess.TimeoutExpired:
                self.console.print(f"[yellow]{child.name} did not stop in time; killing it[/]")
                os.killpg(child.process.pid, signal.SIGKILL)
                child.process.wait()
