"""Where large payloads and run artifacts live: a local directory, or an S3 bucket.

Workflow histories stay small by carrying a key instead of a payload (a claim check); the payload
itself is stored here, as are the files a run saves. Both stores have the same blocking interface,
so async callers run them in a thread. Keys are relative, slash-separated paths, checked the same
way by both stores, so a key that works on a laptop works against S3 too.
"""

from core.objectstore.base import (
    DEFAULT_CHUNK_SIZE,
    DEFAULT_CONTENT_TYPE,
    MAX_KEY_BYTES,
    ObjectInfo,
    ObjectNotFoundError,
    ObjectStore,
    ObjectStoreError,
    artifact_key,
    check_key,
)
from core.objectstore.filesystem import FilesystemStore
from core.objectstore.s3 import S3Store, parse_s3_endpoint
from core.settings import CommonSettings

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "DEFAULT_CONTENT_TYPE",
    "MAX_KEY_BYTES",
    "FilesystemStore",
    "ObjectInfo",
    "ObjectNotFoundError",
    "ObjectStore",
    "ObjectStoreError",
    "S3Store",
    "artifact_key",
    "check_key",
    "object_store_from_settings",
    "parse_s3_endpoint",
]


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
