"""Secrets kept in the database are encrypted (Fernet: AES-CBC with an HMAC-SHA256 tag).

The key is SECRETS_KEY, the same for the API and every worker. Unset (the embedded default),
it is `<data dir>/secrets.key`: made once, readable by its owner only, and read by the API and
the workers that share the data dir. A lost or changed key makes the stored secrets unreadable;
they are then replaced (a webhook's secret is rotated), never recovered.
"""

import contextlib
import os
import secrets
from functools import lru_cache
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from core.settings import CommonSettings

KEY_FILE_NAME = "secrets.key"


class SecretBoxError(Exception):
    """A secret could not be sealed or opened; the message never holds the secret or the key."""


class SecretBox:
    """Seals secrets for the database and opens them again, under one key."""

    def __init__(self, key: bytes) -> None:
        self._fernet = Fernet(key)

    def seal(self, clear: str) -> str:
        return self._fernet.encrypt(clear.encode()).decode()

    def open(self, sealed: str) -> str:
        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except (InvalidToken, ValueError):
            raise SecretBoxError(
                "a stored secret cannot be decrypted: it was sealed under another key "
                "(SECRETS_KEY, or the data dir's secrets.key, differs between processes)"
            ) from None


def key_file_key(path: Path) -> bytes:
    """The key in `path`, written first (mode 0600) if there is none yet.

    Written to a private temporary file and then linked into place, so a process racing to
    make it either wins or reads the winner's whole key, never a partial one.
    """
    with contextlib.suppress(FileNotFoundError):
        return path.read_bytes().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    draft = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
    descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as sink:
            sink.write(Fernet.generate_key() + b"\n")
        with contextlib.suppress(FileExistsError):
            os.link(draft, path)
    finally:
        draft.unlink(missing_ok=True)
    return path.read_bytes().strip()


@lru_cache(maxsize=8)
def _box(configured: str | None, key_file: Path) -> SecretBox:
    key = configured.encode() if configured else key_file_key(key_file)
    try:
        return SecretBox(key)
    except ValueError:
        raise SecretBoxError(f"{key_file} does not hold a Fernet key") from None


def secret_box(settings: CommonSettings) -> SecretBox:
    """The process's box for these settings (the key file is read once)."""
    configured = settings.secrets_key.get_secret_value() if settings.secrets_key else None
    return _box(configured, (settings.data_dir / KEY_FILE_NAME).resolve())
