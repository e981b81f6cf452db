"""The embedded object store: files under a directory, written atomically."""

import contextlib
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

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
        check_content_type(content_type)
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
        check_chunk_size(chunk_size)
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
