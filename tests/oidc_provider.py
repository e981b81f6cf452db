"""A real local OIDC provider (nanoidp) for tests, started on a free port and stopped by PID."""

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from joserfc import jwt
from joserfc.jwk import RSAKey

from tests.helpers import free_port

AUDIENCE = "agent-runtime"
CLIENT_ID = "agent-runtime-tests"
CLIENT_SECRET = "tests-secret"
PASSWORD = "correct horse"
USERS = {
    "alice": {"tenant": "acme", "roles": ["developer"]},
    "victor": {"tenant": "acme", "roles": ["viewer"]},
    "olga": {"tenant": "acme", "roles": ["platform_admin"]},
    "mallory": {"tenant": "unknown-co", "roles": ["admin"]},
    "nora": {"tenant": "acme", "roles": ["auditor"]},
}


@dataclass
class OidcProvider:
    issuer: str
    keys_dir: Path

    def password_token(self, username: str) -> str:
        response = httpx.post(
            f"{self.issuer}/token",
            data={"grant_type": "password", "username": username, "password": PASSWORD},
            auth=(CLIENT_ID, CLIENT_SECRET),
            timeout=10,
        )
        response.raise_for_status()
        return str(response.json()["access_token"])

    @property
    def signing_key(self) -> RSAKey:
        return RSAKey.import_key((self.keys_dir / "rsa_private.pem").read_bytes())

    @property
    def kid(self) -> str:
        return (self.keys_dir / "kid.txt").read_text().strip()

    def mint(self, key: RSAKey | None = None, kid: str | None = None, **overrides: Any) -> str:
        """A token signed like the provider's own, with chosen claims."""
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": AUDIENCE,
            "sub": "alice",
            "iat": now,
            "exp": now + 300,
            "tenant": "acme",
            "roles": ["developer"],
        }
        claims.update(overrides)
        header = {"alg": "RS256", "kid": kid or self.kid}
        return jwt.encode(header, claims, key or self.signing_key)


def _write_config(directory: Path, issuer: str, port: int) -> None:
    users = "\n".join(
        f'  {name}:\n    password: "{PASSWORD}"\n    tenant: "{user["tenant"]}"\n'
        f"    roles: [{', '.join(map(repr, user['roles']))}]"
        for name, user in USERS.items()
    )
    (directory / "users.yaml").write_text(f"users:\n{users}\n")
    (directory / "settings.yaml").write_text(
        f"""server:
  host: "127.0.0.1"
  port: {port}
oauth:
  issuer: "{issuer}"
  audience: "{AUDIENCE}"
  token_expiry_minutes: 15
  clients:
    - client_id: "{CLIENT_ID}"
      client_secret: "{CLIENT_SECRET}"
jwt:
  keys_dir: "{directory / "keys"}"
"""
    )


@contextmanager
def running_oidc_provider(directory: Path) -> Iterator[OidcProvider]:
    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    _write_config(directory, issuer, port)
    binary = Path(sys.executable).parent / "nanoidp"
    log = (directory / "nanoidp.log").open("wb")
    process = subprocess.Popen(
        [str(binary), "--config", str(directory), "--host", "127.0.0.1", "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=directory,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{issuer}/.well-known/jwks.json", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    "the OIDC provider did not start: " + (directory / "nanoidp.log").read_text()
                )
            time.sleep(0.1)
        yield OidcProvider(issuer, directory / "keys")
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
