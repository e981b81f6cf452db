"""Where large payloads and run artifacts live: a local directory, or an S3 bucket.

Workflow histories stay small by carrying a key instead of a payload (a claim check); the payload
itself is stored here, as are the files a run saves. Both stores have the same blocking interface,
so async callers run them in a thread. Keys are relative, slash-separated paths, checked the same
way by both stores, so a key that works on a laptop works against S3 too.
"""

import contextlib
import io
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol, TypeVar
from urllib.parse import urlsplit

import certifi
import urllib3
from minio import Minio
from minio.error import InvalidResponseError, MinioException, S3Error, ServerError
from minio.helpers import check_bucket_name

from core.settings import CommonSettings

DEFAULT_CONTENT_TYPE = "application/octet-stream"
DEFAULT_CHUNK_SIZE = 1024 * 1024
MAX_KEY_BYTES = 1024  # S3's limit; the filesystem store keeps it too, so keys stay portable
MAX_CONTENT_TYPE_LENGTH = 255

# A dead endpoint must fail in seconds, not after minio's default of 5 retries and 5-minute
# timeouts: a request is tried at most 1 + S3_RETRIES times.
S3_CONNECT_TIMEOUT_SECONDS = 3.0
S3_READ_TIMEOUT_SECONDS = 30.0
S3_RETRIES = 2

T = TypeVar("T")


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


def _check_content_type(content_type: str) -> None:
    # It travels as an HTTP header (S3) or in a one-line header (filesystem): printable ASCII only.
    if (
        not content_type
        or len(content_type) > MAX_CONTENT_TYPE_LENGTH
        or not content_type.isascii()
        or not content_type.isprintable()
    ):
        raise ValueError(f"invalid content type {content_type!r}")


def _check_chunk_size(chunk_size: int) -> None:
    if chunk_size <= 0:
        raise ValueError("chunk_size must be positive")


class FilesystemStore:
    """Objects as files under `root`, each file starting with a one-line JSON header.

    Keeping the content type inside the file, rather than in a sidecar, makes a write one atomic
    `os.replace`: a reader sees the old object or the new one, never new data with an old type.
    """

    HEADER_LIMIT = 4096

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def __repr__(self) -> str:
        return f"FilesystemStore({str(self.root)!r})"

    def ensure_ready(self) -> None:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ObjectStoreError(
                f"cannot create the object directory {self.root}: {exc}"
            ) from exc
        if not os.access(self.root, os.W_OK | os.X_OK):
            raise ObjectStoreError(f"the object directory {self.root} is not writable")

    def put(self, key: str, data: bytes, content_type: str = DEFAULT_CONTENT_TYPE) -> ObjectInfo:
        path = self._path(key)
        _check_content_type(content_type)
        header = json.dumps({"content_type": content_type}).encode() + b"\n"
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # The temporary file sits next to the target, so os.replace stays within one
            # filesystem and is atomic. mkstemp makes it readable by this user only.
            fd, temporary = tempfile.mkstemp(
                dir=path.parent, prefix=f".{path.name}.", suffix=".partial"
            )
            try:
                with os.fdopen(fd, "wb") as file:
                    file.write(header)
                    file.write(data)
                    file.flush()
                    os.fsync(file.fileno())
                os.replace(temporary, path)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(temporary)
                raise
        except (FileExistsError, NotADirectoryError, IsADirectoryError) as exc:
            # S3 allows both "a" and "a/b"; a directory tree cannot hold both.
            raise ObjectStoreError(
                f"cannot write {key!r} under {self.root}: in a directory store a key cannot be "
                "both an object and a prefix of other keys"
            ) from exc
        except OSError as exc:
            raise ObjectStoreError(f"cannot write {key!r} under {self.root}: {exc}") from exc
        # A history may refer to the key as soon as we return: make the rename durable too.
        _fsync_directory(path.parent)
        return ObjectInfo(key=key, size=len(data), content_type=content_type)

    def get(self, key: str) -> bytes:
        file, _ = self._open(key)
        with file:
            return self._read(key, file.read)

    def stream(self, key: str, chunk_size: int = DEFAULT_CHUNK_SIZE) -> Iterator[bytes]:
        _check_chunk_size(chunk_size)
        # Fail now on a missing key. The file is opened only once iteration starts, so an
        # iterator that is never consumed holds no open file.
        self.stat(key)
        return self._chunks(key, chunk_size)

    def stat(self, key: str) -> ObjectInfo:
        file, info = self._open(key)
        file.close()
        return info

    def delete(self, key: str) -> None:
        path = self._path(key)
        try:
            if path.is_dir():  # a prefix of other keys, not an object
                return
            path.unlink(missing_ok=True)
        except NotADirectoryError:  # a parent "directory" is an object: nothing under it
            return
        except OSError as exc:
            raise ObjectStoreError(f"cannot delete {key!r} under {self.root}: {exc}") from exc

    def _chunks(self, key: str, chunk_size: int) -> Iterator[bytes]:
        file, _ = self._open(key)
        with file:
            while chunk := self._read(key, lambda: file.read(chunk_size)):
                yield chunk

    def _path(self, key: str) -> Path:
        check_key(key)
        path = self.root / key
        # The key check already forbids '..'; this also stops a symlink inside the root from
        # leading reads or writes outside it.
        if not path.resolve().is_relative_to(self.root.resolve()):
            raise ValueError(f"object key {key!r} leads outside the store")
        return path

    def _open(self, key: str) -> tuple[BinaryIO, ObjectInfo]:
        """The object's file, positioned after its header, and what the header says."""
        path = self._path(key)
        try:
            file = path.open("rb")
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            raise ObjectNotFoundError(f"no object {key!r} under {self.root}") from None
        except OSError as exc:
            raise ObjectStoreError(f"cannot read {key!r} under {self.root}: {exc}") from exc
        try:
            header = self._read(key, lambda: file.readline(self.HEADER_LIMIT))
            content_type = _parse_header(header)
            if content_type is None:
                raise ObjectStoreError(f"{path} is not an object file: its header is damaged")
            size = os.fstat(file.fileno()).st_size - len(header)
        except BaseException:
            file.close()
            raise
        return file, ObjectInfo(key=key, size=size, content_type=content_type)

    def _read(self, key: str, read: Callable[[], bytes]) -> bytes:
        try:
            return read()
        except OSError as exc:
            raise ObjectStoreError(f"cannot read {key!r} under {self.root}: {exc}") from exc


def _parse_header(header: bytes) -> str | None:
    if not header.endswith(b"\n"):
        return None
    try:
        fields = json.loads(header)
    except ValueError:
        return None
    content_type = fields.get("content_type") if isinstance(fields, dict) else None
    return content_type if isinstance(content_type, str) else None


def _fsync_directory(directory: Path) -> None:
    # Best effort: some filesystems refuse fsync on a directory, and the data is written anyway.
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


# S3 error codes that mean the credentials, or what they are allowed to do, are the problem.
_REFUSED_CODES = {
    "AccessDenied",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "InvalidToken",
    "ExpiredToken",
    "AuthorizationHeaderMalformed",
}


class S3Store:
    """Objects in one bucket of an S3-compatible service, through the minio SDK.

    Every minio and urllib3 failure comes out as ObjectStoreError (or ObjectNotFoundError)
    naming the endpoint and the bucket. Messages are built from error codes and never carry
    the secret key.
    """

    def __init__(self, client: Minio, bucket: str, *, endpoint: str | None = None) -> None:
        try:
            check_bucket_name(bucket)
        except ValueError as exc:
            raise ObjectStoreError(f"{bucket!r} is not a valid S3 bucket name ({exc})") from None
        self.client = client
        self.bucket = bucket
        self.endpoint = endpoint or _endpoint_of(client)

    @classmethod
    def connect(
        cls,
        endpoint: str,
        *,
        bucket: str,
        access_key: str | None = None,
        secret_key: str | None = None,
        region: str | None = None,
        secure: bool = True,
    ) -> "S3Store":
        """A store on `endpoint` ("host:port", no scheme) with short timeouts and few retries."""
        if bool(access_key) != bool(secret_key):
            raise ObjectStoreError("S3_ACCESS_KEY and S3_SECRET_KEY must be set together")
        label = f"{'https' if secure else 'http'}://{endpoint}"
        try:
            client = Minio(
                endpoint,
                access_key=access_key or None,
                secret_key=secret_key or None,
                secure=secure,
                region=region or None,
                http_client=_http_client(),
            )
        except ValueError as exc:
            raise ObjectStoreError(f"invalid S3 endpoint {label}: {exc}") from None
        return cls(client, bucket, endpoint=label)

    def __repr__(self) -> str:
        return f"S3Store({self.endpoint!r}, bucket={self.bucket!r})"

    @property
    def where(self) -> str:
        return f"bucket {self.bucket!r} at {self.endpoint}"

    def ensure_ready(self) -> None:
        # HEAD on the bucket is signed, so this also proves the credentials.
        if self._call("check", None, lambda: self.client.bucket_exists(self.bucket)):
            return
        try:
            self.client.make_bucket(self.bucket)
        except S3Error as exc:
            if exc.code == "BucketAlreadyOwnedByYou":  # another process won the race
                return
            raise self._error("create", None, exc) from exc
        except (MinioException, urllib3.exceptions.HTTPError) as exc:
            raise self._error("create", None, exc) from exc

    def put(self, key: str, data: bytes, content_type: str = DEFAULT_CONTENT_TYPE) -> ObjectInfo:
        check_key(key)
        _check_content_type(content_type)
        self._call(
            "write",
            key,
            lambda: self.client.put_object(
                self.bucket, key, io.BytesIO(data), len(data), content_type=content_type
            ),
        )
        return ObjectInfo(key=key, size=len(data), content_type=content_type)

    def get(self, key: str) -> bytes:
        check_key(key)
        response = self._call("read", key, lambda: self.client.get_object(self.bucket, key))
        try:
            return self._call("read", key, response.read)
        finally:
            response.close()
            response.release_conn()

    def stream(self, key: str, chunk_size: int = DEFAULT_CHUNK_SIZE) -> Iterator[bytes]:
        _check_chunk_size(chunk_size)
        # Fail now on a missing key; the GET starts with the iteration, so an iterator that is
        # never consumed holds no connection.
        self.stat(key)
        return self._chunks(key, chunk_size)

    def stat(self, key: str) -> ObjectInfo:
        check_key(key)
        found = self._call("stat", key, lambda: self.client.stat_object(self.bucket, key))
        return ObjectInfo(
            key=key,
            size=found.size or 0,
            content_type=found.content_type or DEFAULT_CONTENT_TYPE,
        )

    def delete(self, key: str) -> None:
        check_key(key)
        self._call("delete", key, lambda: self.client.remove_object(self.bucket, key))

    def _chunks(self, key: str, chunk_size: int) -> Iterator[bytes]:
        response = self._call("read", key, lambda: self.client.get_object(self.bucket, key))
        try:
            chunks = response.stream(chunk_size)
            while chunk := self._call("read", key, lambda: next(chunks, b"")):
                yield chunk
        finally:
            # Also runs when the consumer stops early (a client hung up): the connection is
            # closed rather than returned to the pool with unread data on it.
            response.close()
            response.release_conn()

    def _call(self, action: str, key: str | None, operation: Callable[[], T]) -> T:
        try:
            return operation()
        except (MinioException, urllib3.exceptions.HTTPError) as exc:
            raise self._error(action, key, exc) from exc

    def _error(self, action: str, key: str | None, exc: Exception) -> ObjectStoreError:
        subject = f"{key!r} in {self.where}" if key is not None else self.where
        if isinstance(exc, S3Error):
            if exc.code == "NoSuchKey" and key is not None:
                return ObjectNotFoundError(f"no object {subject}")
            if exc.code == "NoSuchBucket":
                return ObjectStoreError(f"{self.where} does not exist (ensure_ready creates it)")
            if exc.code in _REFUSED_CODES:
                return ObjectStoreError(
                    f"S3 refused to {action} {subject} ({exc.code}): "
                    "check S3_ACCESS_KEY, S3_SECRET_KEY and what that key may do"
                )
            return ObjectStoreError(f"cannot {action} {subject}: {exc.code}: {exc.message}")
        if isinstance(exc, ServerError):
            return ObjectStoreError(
                f"cannot {action} {subject}: the server answered HTTP {exc.status_code}"
            )
        if isinstance(exc, InvalidResponseError):
            return ObjectStoreError(f"cannot {action} {subject}: {str(exc)[:300]}")
        reason = exc.reason if isinstance(exc, urllib3.exceptions.MaxRetryError) else exc
        return ObjectStoreError(f"cannot reach S3 to {action} {subject}: {reason}")


def _http_client() -> urllib3.PoolManager:
    # As minio's default client (same CA bundle), but with short timeouts and few retries.
    return urllib3.PoolManager(
        timeout=urllib3.Timeout(connect=S3_CONNECT_TIMEOUT_SECONDS, read=S3_READ_TIMEOUT_SECONDS),
        maxsize=10,
        cert_reqs="CERT_REQUIRED",
        ca_certs=os.environ.get("SSL_CERT_FILE") or certifi.where(),
        retries=urllib3.Retry(
            total=S3_RETRIES, backoff_factor=0.2, status_forcelist=[500, 502, 503, 504]
        ),
    )


def _endpoint_of(client: Minio) -> str:
    # minio keeps its endpoint private; it only labels messages, so a fallback will do.
    base_url = getattr(client, "_base_url", None)
    host = getattr(base_url, "host", None)
    if not isinstance(host, str):
        return "the S3 endpoint"
    return f"{'https' if getattr(base_url, 'is_https', True) else 'http'}://{host}"


def parse_s3_endpoint(endpoint: str, secure: bool) -> tuple[str, bool]:
    """`host:port` (secure as configured) or `http(s)://host:port` (the scheme decides)."""
    value = endpoint.strip()
    if "://" not in value:
        host, is_secure = value.rstrip("/"), secure
    else:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https"):
            raise ObjectStoreError(f"S3_ENDPOINT {endpoint!r} must use http:// or https://")
        if parts.path not in ("", "/") or parts.query or parts.fragment:
            raise ObjectStoreError(f"S3_ENDPOINT {endpoint!r} must not have a path or query")
        host, is_secure = parts.netloc, parts.scheme == "https"
    # Credentials belong in S3_ACCESS_KEY/S3_SECRET_KEY, never in a URL that ends up in messages.
    if not host or "@" in host or "/" in host:
        raise ObjectStoreError("S3_ENDPOINT must be host:port or http(s)://host:port")
    return host, is_secure


def object_store_from_settings(settings: CommonSettings) -> ObjectStore:
    """S3 when S3_ENDPOINT is set, else a directory under the data dir."""
    if not settings.s3_endpoint:
        return FilesystemStore(settings.data_dir / "objects")
    host, secure = parse_s3_endpoint(settings.s3_endpoint, settings.s3_secure)
    secret = settings.s3_secret_key.get_secret_value() if settings.s3_secret_key else None
    return S3Store.connect(
        host,
        bucket=settings.s3_bucket,
        access_key=settings.s3_access_key,
        secret_key=secret,
        region=settings.s3_region,
        secure=secure,
    )
