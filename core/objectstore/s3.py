"""The S3 object store (MinIO, AWS S3, SeaweedFS, ...), through the minio client."""

import io
import os
from collections.abc import Callable, Iterator
from typing import TypeVar
from urllib.parse import urlsplit

import certifi
import urllib3
from minio import Minio
from minio.error import InvalidResponseError, MinioException, S3Error, ServerError
from minio.helpers import check_bucket_name

from core.objectstore.base import (
    DEFAULT_CHUNK_SIZE,
    DEFAULT_CONTENT_TYPE,
    ObjectInfo,
    ObjectNotFoundError,
    ObjectStoreError,
    check_chunk_size,
    check_content_type,
    check_key,
)

# A dead endpoint must fail in seconds, not after minio's default of 5 retries and 5-minute
# timeouts: a request is tried at most 1 + S3_RETRIES times.
S3_CONNECT_TIMEOUT_SECONDS = 3.0
S3_READ_TIMEOUT_SECONDS = 30.0
S3_RETRIES = 2

T = TypeVar("T")


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
        check_content_type(content_type)
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
        check_chunk_size(chunk_size)
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
