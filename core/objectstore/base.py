"""The object store's interface, errors and key rules, shared by both stores.

Keys are relative, slash-separated paths, checked the same way by both stores, so a key that
works on a laptop works against S3 too.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

DEFAULT_CONTENT_TYPE = "application/octet-stream"
DEFAULT_CHUNK_SIZE = 1024 * 1024
MAX_KEY_BYTES = 1024  # S3's limit; the filesystem store keeps it too, so keys stay portable
MAX_CONTENT_TYPE_LENGTH = 255


class ObjectStoreError(Exception):
    """The store cannot do what was asked: unreachable, refused credentials, a missing bucket."""


class ObjectNotFoundError(ObjectStoreError):
    """No object has this key."""


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    size: int
    content_type: str


class ObjectStore(Protocol):
    def ensure_ready(self) -> None:
        """Create the directory or bucket if missing; fails with ObjectStoreError if it cannot."""
        ...

    def put(self, key: str, data: bytes, content_type: str = DEFAULT_CONTENT_TYPE) -> ObjectInfo:
        """Store `data` under `key`, replacing any earlier object; readers see old or new, whole."""
        ...

    def get(self, key: str) -> bytes: ...

    def stream(self, key: str, chunk_size: int = DEFAULT_CHUNK_SIZE) -> Iterator[bytes]:
        """The object in chunks; a missing key fails on the call, before any chunk is produced."""
        ...

    def stat(self, key: str) -> ObjectInfo: ...

    def delete(self, key: str) -> None:
        """Remove the object; a key that names nothing is not an error."""
        ...


def artifact_key(tenant_id: str, run_id: str, name: str) -> str:
    """Where a run's named file lives; the API and the worker agree on it here."""
    return f"tenants/{tenant_id}/runs/{run_id}/artifacts/{name}"


def check_key(key: str) -> None:
    """Raise ValueError unless `key` is a relative path of plain segments, portable to S3."""
    if not key:
        raise ValueError("an object key must not be empty")
    if key.startswith("/"):
        raise ValueError(f"object key {key!r} must be relative, not start with '/'")
    if "\\" in key:
        raise ValueError(f"object key {key!r} must use '/' as separator, not backslashes")
    if any(ord(char) < 0x20 or char == "\x7f" for char in key):
        raise ValueError(f"object key {key!r} must not contain control characters")
    if len(key.encode()) > MAX_KEY_BYTES:
        raise ValueError(f"object key is longer than {MAX_KEY_BYTES} bytes")
    for segment in key.split("/"):
        if segment in ("", ".", ".."):
            raise ValueError(f"object key {key!r} has an empty, '.' or '..' segment")


def check_content_type(content_type: str) -> None:
    # It travels as an HTTP header (S3) or in a one-line header (filesystem): printable ASCII only.
    if (
        not content_type
        or len(content_type) > MAX_CONTENT_TYPE_LENGTH
        or not content_type.isascii()
        or not content_type.isprintable()
    ):
        raise ValueError(f"invalid content type {content_type!r}")


def check_chunk_size(chunk_size: int) -> None:
    if chunk_size <= 0:
        raise ValueError("chunk_size must be positive")
