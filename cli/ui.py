"""Build and serve the workbench (`app/`, Reflex) on one port, in production mode.

The frontend is built once (`reflex export`) into `.web/` and rebuilt only when the workbench's
sources, `rxconfig.py` or Reflex change; starting it again reuses the build. The built frontend
finds its backend on the port it is served from, so one build serves on any port.
"""

import fcntl
import gzip
import hashlib
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WEB_DIR = ROOT / ".web"
BUN_BIN = ROOT / ".tools" / "bun" / "node_modules" / ".bin"
STAMP = WEB_DIR / "agent-runtime-build.json"
DEFAULT_PORT = 3000
# The port the frontend is built for; the built bundle is then made port-independent.
BUILD_PORT = 8000
_PATCH_VERSION = "1"


class BuildError(RuntimeError):
    """The frontend could not be built (e.g. bun is missing: run `make install`)."""


def reflex_env() -> dict[str, str]:
    """What every Reflex process of ours runs with: no telemetry, no downloads, our bun."""
    env = {
        "REFLEX_TELEMETRY_ENABLED": "false",
        "REFLEX_CHECK_LATEST_VERSION": "0",
        "BUN_RUNTIME_TRANSPILER_CACHE_PATH": "0",
        "BUN_INSTALL_CACHE_DIR": str(ROOT / ".tools" / "bun-cache"),
        "DO_NOT_TRACK": "1",
    }
    if (BUN_BIN / "bun").exists():
        env["REFLEX_USE_SYSTEM_BUN"] = "1"
        env["PATH"] = f"{BUN_BIN}{os.pathsep}{os.environ.get('PATH', '')}"
    return env


def _sources_digest() -> str:
    digest = hashlib.sha256()
    digest.update(f"reflex {version('reflex')} patch {_PATCH_VERSION}\n".encode())
    files = [ROOT / "rxconfig.py", *sorted((ROOT / "app").rglob("*"))]
    lock = ROOT / "reflex.lock" / "bun.lock"
    if lock.exists():
        files.append(lock)
    for path in files:
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(ROOT)).encode() + b"\0")
            digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def build_is_current() -> bool:
    try:
        stamp = json.loads(STAMP.read_text())
    except (OSError, ValueError):
        return False
    client = WEB_DIR / "build" / "client" / "index.html"
    return client.exists() and stamp.get("sources") == _sources_digest()


@contextmanager
def _build_lock() -> Iterator[None]:
    lock_path = ROOT / ".web.lock"
    with lock_path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _make_port_independent() -> None:
    """Point the bundle's backend URLs at whatever port the page itself came from."""
    assets = WEB_DIR / "build" / "client" / "assets"
    chunks = sorted(assets.glob("reflex-env-*.js"))
    if not chunks:
        raise BuildError(f"no reflex-env chunk in {assets}: the Reflex build layout changed")
    pattern = re.compile(rf"`(https?|wss?)://localhost:{BUILD_PORT}/")
    for chunk in chunks:
        text = chunk.read_text()
        patched, count = pattern.subn(r"`\1://localhost:${location.port}/", text)
        if count == 0:
            raise BuildError(f"{chunk.name} names no backend on port {BUILD_PORT}")
        chunk.write_text(patched)
        compressed = chunk.with_name(chunk.name + ".gz")
        if compressed.exists():
            compressed.write_bytes(gzip.compress(patched.encode(), mtime=0))
        for other in (".br", ".zst"):
            chunk.with_name(chunk.name + other).unlink(missing_ok=True)


def build(force: bool = False, quiet: bool = False) -> bool:
    """Build the frontend unless the current build is up to date. Returns whether it built."""
    with _build_lock():
        if not force and build_is_current():
            return False
        if not (BUN_BIN / "bun").exists() and not os.environ.get("REFLEX_BUN_PATH"):
            raise BuildError(
                f"bun is not installed in {BUN_BIN}: run `make install` "
                "(npm install --prefix .tools/bun bun@1.4.4)"
            )
        env = {
            **os.environ,
            **reflex_env(),
            "REFLEX_API_URL": f"http://localhost:{BUILD_PORT}",
            "REFLEX_FRONTEND_PORT": str(BUILD_PORT),
            "REFLEX_BACKEND_PORT": str(BUILD_PORT),
        }
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "reflex",
                "export",
                "--frontend-only",
                "--no-zip",
                "--env",
                "prod",
                "--loglevel",
                "warning",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE if quiet else None,
            stderr=subprocess.STDOUT if quiet else None,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise BuildError(f"the workbench build failed:\n{result.stdout or ''}")
        _make_port_independent()
        STAMP.write_text(json.dumps({"sources": _sources_digest()}))
        return True


def serve(host: str, port: int, api_url: str, data_dir: Path) -> None:
    """Serve the built workbench (frontend, its backend and websocket) on `host:port`."""
    os.chdir(ROOT)
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    os.environ.update(reflex_env())
    os.environ["AGENT_RUNTIME_URL"] = api_url
    os.environ["AGENT_RUNTIME_DATA_DIR"] = str(data_dir)
    os.environ.setdefault("GRANIAN_LOG_LEVEL", "warning")

    from reflex.utils import exec as reflex_exec
    from reflex_base.constants import Env, LogLevel
    from reflex_base.environment import environment

    environment.REFLEX_ENV_MODE.set(Env.PROD)
    environment.REFLEX_SKIP_COMPILE.set(True)
    environment.REFLEX_FRONTEND_PORT.set(port)
    environment.REFLEX_BACKEND_PORT.set(port)
    reflex_exec.run_backend_prod(host, port, LogLevel.WARNING, mount_frontend_compiled_app=True)
