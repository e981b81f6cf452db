"""The object store: the same behaviour from a directory and from a real S3 server (SeaweedFS)."""

import os
import secrets
import time
from collections.abc import Generator
from pathlib import Path

import pytest

from core.objectstore import (
    FilesystemStore,
    ObjectInfo,
    ObjectNotFoundError,
    ObjectStore,
    ObjectStoreError,
    S3Store,
    object_store_from_settings,
    parse_s3_endpoint,
)
from core.settings import CommonSettings
from tests.helpers import free_port
from tests.s3_server import S3Server

KEY = "tenants/ten_1/runs/run_1/steps/3/output.json"
BAD_KEYS = [
    "",
    "/tenants/ten_1",
    "../escape",
    "tenants/../../escape",
    "..",
    "./tenants",
    "tenants/./x",
    "tenants//x",
    "tenants/x/",
    "tenants\\x",
    "..\\escape",
    "tenants/x\x00y",
    "tenants/line\nbreak",
    "x" * 1025,
]


@pytest.fixture(autouse=True)
def _no_ambient_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    # Settings read the environment too: a developer's S3_ENDPOINT must not redirect the tests.
    for name in os.environ:
        if name.startswith("S3_") or name == "AGENT_RUNTIME_DATA_DIR":
            monkeypatch.delenv(name)


def fresh_bucket() -> str:
    return f"test-{secrets.token_hex(6)}"


def store_from(**env: str) -> ObjectStore:
    """Through the settings, as the API and the worker build it."""
    return object_store_from_settings(CommonSettings(**env))  # type: ignore[arg-type]


@pytest.fixture(params=["filesystem", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> ObjectStore:
    if request.param == "filesystem":
        built = store_from(AGENT_RUNTIME_DATA_DIR=str(tmp_path / "data"))
        assert isinstance(built, FilesystemStore)
        assert built.root == tmp_path / "data" / "objects"
    else:
        server: S3Server = request.getfixturevalue("s3_server")
        built = store_from(**server.env(fresh_bucket()))
        assert isinstance(built, S3Store)
    built.ensure_ready()
    return built


def test_round_trip(store: ObjectStore) -> None:
    body = b'{"text": "The answer is 42."}'
    info = store.put(KEY, body, "application/json")
    assert info == ObjectInfo(KEY, len(body), "application/json")
    assert store.get(KEY) == body
    assert store.stat(KEY) == info
    assert b"".join(store.stream(KEY)) == body


def test_default_content_type_and_empty_object(store: ObjectStore) -> None:
    assert store.put("empty", b"").size == 0
    assert store.get("empty") == b""
    assert list(store.stream("empty")) == []
    assert store.stat("empty") == ObjectInfo("empty", 0, "application/octet-stream")


def test_large_payload_round_trip(store: ObjectStore) -> None:
    # Over 5 MiB, so minio uploads it in parts; the content type must survive that too.
    body = os.urandom(5 * 1024 * 1024 + 123)
    store.put("runs/run_1/artifacts/big.bin", body, "application/zip")
    assert store.stat("runs/run_1/artifacts/big.bin") == ObjectInfo(
        "runs/run_1/artifacts/big.bin", len(body), "application/zip"
    )
    assert store.get("runs/run_1/artifacts/big.bin") == body
    chunks = list(store.stream("runs/run_1/artifacts/big.bin", chunk_size=1024 * 1024))
    assert b"".join(chunks) == body
    assert len(chunks) >= 6
    assert all(len(chunk) <= 1024 * 1024 for chunk in chunks)


def test_a_stream_can_be_abandoned(store: ObjectStore) -> None:
    store.put(KEY, b"x" * 100_000)
    chunks = store.stream(KEY, chunk_size=1000)
    assert next(chunks) == b"x" * 1000
    assert isinstance(chunks, Generator)
    chunks.close()  # a client that hung up half way
    store.stream(KEY)  # never iterated: holds nothing
    assert store.get(KEY) == b"x" * 100_000


def test_missing_key(store: ObjectStore) -> None:
    store.put("tenants/ten_1/present", b"here")
    for key in ["tenants/ten_1/absent", "tenants/ten_1", "tenants/ten_1/present/below"]:
        with pytest.raises(ObjectNotFoundError, match=r"absent|ten_1"):
            store.get(key)
        with pytest.raises(ObjectNotFoundError):
            store.stat(key)
        with pytest.raises(ObjectNotFoundError):
            store.stream(key)  # on the call, before any iteration


def test_overwrite(store: ObjectStore) -> None:
    store.put(KEY, b"first version, longer", "text/plain")
    store.put(KEY, b"{}", "application/json")
    assert store.get(KEY) == b"{}"
    assert store.stat(KEY) == ObjectInfo(KEY, 2, "application/json")


def test_delete(store: ObjectStore) -> None:
    store.put(KEY, b"gone soon")
    store.put(KEY + ".keep", b"stays")
    store.delete(KEY)
    with pytest.raises(ObjectNotFoundError):
        store.get(KEY)
    store.delete(KEY)  # absent is fine
    store.delete("tenants/never/was")
    store.delete("tenants")  # a prefix of other keys, not an object
    assert store.get(KEY + ".keep") == b"stays"


@pytest.mark.parametrize("key", BAD_KEYS)
def test_bad_keys_are_refused(store: ObjectStore, tmp_path: Path, key: str) -> None:
    before = sorted(tmp_path.rglob("*"))
    with pytest.raises(ValueError, match="key"):
        store.put(key, b"payload")
    for operation in (store.get, store.stat, store.stream, store.delete):
        with pytest.raises(ValueError, match="key"):
            operation(key)
    assert sorted(tmp_path.rglob("*")) == before


def test_bad_content_type_is_refused(store: ObjectStore) -> None:
    for content_type in ["", "text/plain\r\nX-Injected: 1", "text/plâin"]:
        with pytest.raises(ValueError, match="content type"):
            store.put(KEY, b"x", content_type)


def test_filesystem_store_stays_inside_its_root(tmp_path: Path) -> None:
    store = FilesystemStore(tmp_path / "objects")
    store.ensure_ready()
    outside = tmp_path / "outside"
    outside.mkdir()
    (store.root / "link").symlink_to(outside)
    with pytest.raises(ValueError, match="outside"):
        store.put("link/escaped", b"x")
    assert list(outside.iterdir()) == []


def test_filesystem_store_writes_whole_files_only(tmp_path: Path) -> None:
    store = FilesystemStore(tmp_path / "objects")
    store.put(KEY, b"one")
    store.put(KEY, b"two", "text/plain")
    # No temporary files are left next to the object, and one file holds data and type.
    assert [path.name for path in (store.root / KEY).parent.iterdir()] == ["output.json"]
    assert store.stat(KEY) == ObjectInfo(KEY, 3, "text/plain")


def test_filesystem_store_keys_are_objects_or_prefixes(tmp_path: Path) -> None:
    store = FilesystemStore(tmp_path)
    store.put("a", b"object")
    store.put("c/d", b"object")
    for key in ["a/b", "c"]:
        with pytest.raises(ObjectStoreError, match="both an object and a prefix"):
            store.put(key, b"x")
    assert sorted(path.name for path in tmp_path.rglob("*")) == ["a", "c", "d"]


def test_filesystem_ensure_ready(tmp_path: Path) -> None:
    store = FilesystemStore(tmp_path / "a" / "b")
    store.ensure_ready()
    store.ensure_ready()
    assert store.root.is_dir()
    (tmp_path / "file").write_text("not a directory")
    with pytest.raises(ObjectStoreError, match="cannot create"):
        FilesystemStore(tmp_path / "file" / "objects").ensure_ready()


def test_filesystem_damaged_file(tmp_path: Path) -> None:
    store = FilesystemStore(tmp_path)
    (tmp_path / "stray").write_bytes(b"no header here")
    with pytest.raises(ObjectStoreError, match="damaged"):
        store.get("stray")


def test_ensure_ready_creates_the_bucket(s3_server: S3Server) -> None:
    bucket = fresh_bucket()
    client = s3_server.client()
    assert not client.bucket_exists(bucket)
    store = store_from(**s3_server.env(bucket))
    store.ensure_ready()
    assert client.bucket_exists(bucket)
    store.ensure_ready()  # idempotent
    store.put(KEY, b"stored")
    assert client.get_object(bucket, KEY).data == b"stored"


def test_missing_bucket_is_an_error_not_a_missing_object(s3_server: S3Server) -> None:
    store = store_from(**s3_server.env(fresh_bucket()))
    with pytest.raises(ObjectStoreError, match="does not exist") as raised:
        store.get(KEY)
    assert not isinstance(raised.value, ObjectNotFoundError)


def test_wrong_secret_key(s3_server: S3Server) -> None:
    wrong = "wrong-" + secrets.token_hex(12)
    env = {**s3_server.env(fresh_bucket()), "S3_SECRET_KEY": wrong}
    store = store_from(**env)
    for attempt in (store.ensure_ready, lambda: store.put(KEY, b"x"), lambda: store.get(KEY)):
        with pytest.raises(ObjectStoreError) as raised:
            attempt()
        assert not isinstance(raised.value, ObjectNotFoundError)
        message = str(raised.value)
        assert "refused" in message
        assert s3_server.endpoint in message
        assert env["S3_BUCKET"] in message
        assert wrong not in message
        assert s3_server.secret_key not in message
    assert wrong not in repr(store)


def test_unreachable_endpoint_fails_fast() -> None:
    endpoint = f"127.0.0.1:{free_port()}"  # nothing listens there
    store = store_from(
        S3_ENDPOINT=endpoint, S3_ACCESS_KEY="key", S3_SECRET_KEY="secret-value", S3_SECURE="false"
    )
    started = time.monotonic()
    where = f"bucket 'agent-runtime' at http://{endpoint}"
    with pytest.raises(ObjectStoreError, match=f"cannot reach S3 to check {where}") as raised:
        store.ensure_ready()
    assert time.monotonic() - started < 5
    assert "secret-value" not in str(raised.value)
    with pytest.raises(ObjectStoreError, match="agent-runtime"):
        store.put(KEY, b"x")


def test_endpoint_with_a_scheme(s3_server: S3Server) -> None:
    # The scheme wins over S3_SECURE (true here, and the server speaks plain HTTP).
    env = {
        **s3_server.env(fresh_bucket()),
        "S3_ENDPOINT": f"http://{s3_server.endpoint}/",
        "S3_SECURE": "true",
    }
    store = store_from(**env)
    store.ensure_ready()
    store.put(KEY, b"via a URL")
    assert store.get(KEY) == b"via a URL"


def test_parse_s3_endpoint() -> None:
    assert parse_s3_endpoint("minio:9000", True) == ("minio:9000", True)
    assert parse_s3_endpoint("minio:9000", False) == ("minio:9000", False)
    assert parse_s3_endpoint("http://minio:9000", True) == ("minio:9000", False)
    assert parse_s3_endpoint("https://s3.example.com/", False) == ("s3.example.com", True)
    for bad in ["ftp://minio:9000", "http://minio:9000/bucket", "http://user:pw@minio", "", "a/b"]:
        with pytest.raises(ObjectStoreError, match="S3_ENDPOINT"):
            parse_s3_endpoint(bad, True)


def test_half_configured_credentials_are_refused() -> None:
    with pytest.raises(ObjectStoreError, match="together"):
        store_from(S3_ENDPOINT="127.0.0.1:9000", S3_ACCESS_KEY="key")
