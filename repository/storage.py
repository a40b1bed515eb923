"""Content-addressed file store under FILES_ROOT: a file lives at ``ab/cd/<sha256>``.

Writes stream into a temporary file in the store's own folder (so the final rename never
crosses a file system), are hashed while they stream, fsynced, and only then renamed into
place. A crash or an aborted upload can leave a ``.incoming-*`` file behind, never a half
file under a real name.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

CHUNK_SIZE = 1024 * 1024
INCOMING_PREFIX = ".incoming-"
BLOB_MODE = 0o440  # stored content never changes in place; readable by the server's group (e.g. a proxy)
_HEX = frozenset("0123456789abcdef")


@dataclass(frozen=True, slots=True)
class StoredBlob:
    sha256: str
    md5: str
    size: int


class UploadTooLarge(ValueError):
    """More bytes arrived than the configured limit allows."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"the file is larger than the limit of {format_size(limit)}")
        self.limit = limit


class IncompleteUpload(ValueError):
    """The stream ended before the length its sender announced: the client went away."""

    def __init__(self, received: int, expected: int) -> None:
        super().__init__(f"the upload was cut off after {received} of {expected} bytes; nothing was stored")
        self.received = received
        self.expected = expected


def format_size(size: int) -> str:
    """A byte count as people read it (``2.0 GB``), for error messages."""
    value, unit = float(size), "bytes"
    for larger in ("kB", "MB", "GB", "TB"):
        if value < 1024:
            break
        value, unit = value / 1024, larger
    return f"{size} bytes" if unit == "bytes" else f"{value:.1f} {unit}"


def is_sha256(text: str) -> bool:
    return len(text) == 64 and set(text) <= _HEX


class IncomingBlob:
    """A file being written into the store: hashed as it grows, invisible until ``install``.

    Used as a context manager, it removes its temporary file on the way out unless it was
    installed, so every error path (too large, cut off, a failed database insert) cleans up.
    It is also a writable stream, which lets werkzeug's multipart parser write into it directly.
    """

    def __init__(self, store: FileStore, max_bytes: int | None) -> None:
        self.store = store
        self.max_bytes = max_bytes
        store.root.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=store.root, prefix=INCOMING_PREFIX)
        self.path = Path(name)
        self._file: BinaryIO | None = os.fdopen(fd, "wb")
        self._sha256 = hashlib.sha256()
        self._md5 = hashlib.md5(usedforsecurity=False)
        self.size = 0
        self.blob: StoredBlob | None = None
        self.installed = False

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:
        if self._file is None:
            raise ValueError("this upload is already finished")
        self.size += len(data)
        if self.max_bytes is not None and self.size > self.max_bytes:
            self.abort()
            raise UploadTooLarge(self.max_bytes)
        self._file.write(data)
        self._sha256.update(data)
        self._md5.update(data)
        return len(data)

    def seek(self, offset: int, whence: int = 0) -> int:
        """werkzeug rewinds a finished file part; the bytes are already on disk, so this is a no-op."""
        return 0

    def finish(self, *, durable: bool = True) -> StoredBlob:
        """Close the temporary file (fsynced unless ``durable=False``) and return its hashes."""
        if self.blob is not None:
            return self.blob
        if self._file is None:
            raise ValueError("this upload was aborted")
        self._file.flush()
        if durable:
            os.fsync(self._file.fileno())
        self._file.close()
        self._file = None
        self.blob = StoredBlob(self._sha256.hexdigest(), self._md5.hexdigest(), self.size)
        return self.blob

    def install(self) -> StoredBlob:
        """Rename the finished file to its content address; identical content already there wins."""
        blob = self.finish()
        target = self.store.path_for(blob.sha256)
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():
            self.path.unlink(missing_ok=True)
        else:
            os.chmod(self.path, BLOB_MODE)
            os.replace(self.path, target)
            _fsync_directory(target.parent)
        self.installed = True
        return blob

    def abort(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        if not self.installed:
            self.path.unlink(missing_ok=True)

    def __enter__(self) -> IncomingBlob:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if not self.installed:
            self.abort()


def _fsync_directory(path: Path) -> None:
    """Make a rename durable: the new directory entry must reach the disk, not only the data."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class FileStore:
    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def path_for(self, sha256: str) -> Path:
        if not is_sha256(sha256):
            raise ValueError(f"not a SHA-256 hex digest: {sha256!r}")
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def exists(self, sha256: str) -> bool:
        return self.path_for(sha256).is_file()

    @contextmanager
    def locked(self, sha256: str) -> Iterator[None]:
        """Hold one content address against other processes while installing or deleting it.

        Content is shared between records, so deleting a file's blob must not race with another
        upload of the same bytes: that upload holds this lock from installing the blob until its
        database row is committed, and a delete checks for rows only while holding it.
        """
        locks = self.root / ".locks"
        locks.mkdir(parents=True, exist_ok=True)
        with (locks / self.path_for(sha256).name[:2]).open("a+b") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def incoming(self, max_bytes: int | None = None) -> IncomingBlob:
        """A new temporary file in the store, to be written, finished and installed (or aborted)."""
        return IncomingBlob(self, max_bytes)

    def receive(self, stream: BinaryIO, *, max_bytes: int | None = None, expected_size: int | None = None,
                chunk_size: int = CHUNK_SIZE) -> IncomingBlob:
        """Copy ``stream`` into a finished (hashed, fsynced) but not yet installed file.

        The caller installs it once the database row is in place; any error here leaves nothing.
        ``expected_size`` (a Content-Length) turns an early end of the stream into ``IncompleteUpload``.
        """
        if expected_size is not None and max_bytes is not None and expected_size > max_bytes:
            raise UploadTooLarge(max_bytes)
        incoming = self.incoming(max_bytes)
        try:
            while chunk := stream.read(chunk_size):
                incoming.write(chunk)
            if expected_size is not None and incoming.size != expected_size:
                raise IncompleteUpload(incoming.size, expected_size)
            incoming.finish()
        except BaseException:
            incoming.abort()
            raise
        return incoming

    def put_stream(self, stream: BinaryIO, *, max_bytes: int | None = None,
                   expected_size: int | None = None) -> StoredBlob:
        """Store a stream at once (for callers with no database row to wait for)."""
        with self.receive(stream, max_bytes=max_bytes, expected_size=expected_size) as incoming:
            return incoming.install()

    def put_bytes(self, data: bytes, *, durable: bool = True) -> StoredBlob:
        """Store ``data`` (small files: demo data, generated sheets); big uploads stream instead.

        ``durable=False`` skips fsync, for bulk demo loads where speed matters more than a crash.
        """
        with self.incoming() as incoming:
            incoming.write(data)
            incoming.finish(durable=durable)
            return incoming.install()

    def read(self, sha256: str, start: int = 0, stop: int | None = None,
             chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
        """The bytes ``[start, stop)`` of a stored file, in chunks (``stop=None``: to the end)."""
        if start < 0 or (stop is not None and stop < start):
            raise ValueError(f"not a byte range: {start}-{stop}")
        with self.path_for(sha256).open("rb") as fh:
            fh.seek(start)
            remaining = None if stop is None else stop - start
            while remaining is None or remaining > 0:
                chunk = fh.read(chunk_size if remaining is None else min(chunk_size, remaining))
                if not chunk:
                    return
                if remaining is not None:
                    remaining -= len(chunk)
                yield chunk

    def rehash(self, sha256: str, progress: Callable[[int], object] | None = None) -> StoredBlob:
        """Hash a stored file again from disk, as fixity checks do (``progress`` gets each chunk's size)."""
        digest, md5, size = hashlib.sha256(), hashlib.md5(usedforsecurity=False), 0
        for chunk in self.read(sha256):
            digest.update(chunk)
            md5.update(chunk)
            size += len(chunk)
            if progress is not None:
                progress(len(chunk))
        return StoredBlob(digest.hexdigest(), md5.hexdigest(), size)

    def delete(self, sha256: str) -> bool:
        """Remove a stored file; False when it was not there."""
        path = self.path_for(sha256)
        try:
            path.unlink()
        except FileNotFoundError:
            return False
        _fsync_directory(path.parent)
        return True

    def blobs(self) -> Iterator[str]:
        """The SHA-256 of every file under a content address, in sorted order."""
        if not self.root.is_dir():
            return
        for first in sorted(self.root.iterdir()):
            if not first.is_dir() or len(first.name) != 2:
                continue
            for second in sorted(first.iterdir()):
                if not second.is_dir() or len(second.name) != 2:
                    continue
                for entry in sorted(second.iterdir()):
                    if entry.is_file() and is_sha256(entry.name) and entry.name[:4] == first.name + second.name:
                        yield entry.name

    def leftovers(self) -> list[Path]:
        """Temporary files of uploads that never finished (a crash, a killed process)."""
        if not self.root.is_dir():
            return []
        return sorted(p for p in self.root.glob(INCOMING_PREFIX + "*") if p.is_file())
