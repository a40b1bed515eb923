"""The content-addressed store: hashing while streaming, atomic installs, limits, cut-off streams, ranges."""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

import pytest

from repository.storage import FileStore, IncompleteUpload, UploadTooLarge, format_size
from tests.unit.files.conftest import stored_paths


class TrickleStream(io.RawIOBase):
    """Hands out its bytes a few at a time, as a slow network does."""

    def __init__(self, data: bytes, step: int) -> None:
        self.data, self.step, self.pos = data, step, 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        chunk = self.data[self.pos:self.pos + min(self.step, size if size > 0 else self.step)]
        self.pos += len(chunk)
        return chunk


class BrokenStream(io.RawIOBase):
    """Gives some bytes, then fails as a reset connection does."""

    def __init__(self, data: bytes) -> None:
        self.data, self.sent = data, False

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if self.sent:
            raise ConnectionResetError("peer went away")
        self.sent = True
        return self.data


def test_streamed_hashes_match_hashlib_and_the_file_lands_at_its_address(tmp_path: Path) -> None:
    data = os.urandom(3 * 1024 * 1024 + 17)
    store = FileStore(tmp_path / "store")
    blob = store.put_stream(TrickleStream(data, 65_536), max_bytes=10 * 1024 * 1024, expected_size=len(data))
    assert blob.sha256 == hashlib.sha256(data).hexdigest()
    assert blob.md5 == hashlib.md5(data).hexdigest()
    assert blob.size == len(data)
    path = store.path_for(blob.sha256)
    assert path == tmp_path / "store" / blob.sha256[:2] / blob.sha256[2:4] / blob.sha256
    assert path.read_bytes() == data
    assert path.stat().st_mode & 0o777 == 0o440  # read-only: content never changes in place
    assert stored_paths(store.root) == [path]  # no temporary file left behind


def test_over_the_limit_is_a_clear_error_and_leaves_nothing(tmp_path: Path) -> None:
    store = FileStore(tmp_path / "store")
    with pytest.raises(UploadTooLarge) as caught:
        store.put_stream(TrickleStream(b"x" * 5000, 1000), max_bytes=4096)
    assert str(caught.value) == "the file is larger than the limit of 4.0 kB"
    assert stored_paths(store.root) == []


def test_an_announced_size_over_the_limit_is_refused_before_reading(tmp_path: Path) -> None:
    store = FileStore(tmp_path / "store")
    stream = TrickleStream(b"x" * 10, 10)
    with pytest.raises(UploadTooLarge):
        store.receive(stream, max_bytes=100, expected_size=101)
    assert stream.pos == 0 and stored_paths(store.root) == []


def test_a_stream_cut_off_halfway_leaves_nothing(tmp_path: Path) -> None:
    store = FileStore(tmp_path / "store")
    with pytest.raises(IncompleteUpload) as caught:
        store.put_stream(TrickleStream(b"y" * 500, 100), expected_size=1000)
    assert "cut off after 500 of 1000 bytes" in str(caught.value)
    with pytest.raises(ConnectionResetError):
        store.put_stream(BrokenStream(b"z" * 100))
    assert stored_paths(store.root) == []


def test_an_incoming_file_is_invisible_until_installed_and_removed_on_error(tmp_path: Path) -> None:
    store = FileStore(tmp_path / "store")
    with pytest.raises(RuntimeError):
        with store.incoming() as incoming:
            incoming.write(b"half a thesis")
            blob = incoming.finish()
            assert not store.exists(blob.sha256)
            assert incoming.path.name.startswith(".incoming-") and incoming.path.parent == store.root
            raise RuntimeError("the database insert failed")
    assert stored_paths(store.root) == []


def test_identical_content_is_stored_once(tmp_path: Path) -> None:
    store = FileStore(tmp_path / "store")
    first = store.put_bytes(b"same bytes")
    second = store.put_stream(io.BytesIO(b"same bytes"))
    assert first == second
    assert stored_paths(store.root) == [store.path_for(first.sha256)]


def test_reading_ranges(tmp_path: Path) -> None:
    store = FileStore(tmp_path / "store")
    data = bytes(range(256)) * 40
    sha = store.put_bytes(data).sha256
    assert b"".join(store.read(sha)) == data
    assert b"".join(store.read(sha, 0, 10)) == data[:10]
    assert b"".join(store.read(sha, 1000, 5000, chunk_size=333)) == data[1000:5000]
    assert b"".join(store.read(sha, len(data) - 5)) == data[-5:]
    assert b"".join(store.read(sha, len(data) + 10)) == b""
    with pytest.raises(ValueError):
        list(store.read(sha, 10, 5))


def test_rehash_sees_a_changed_byte(tmp_path: Path) -> None:
    store = FileStore(tmp_path / "store")
    blob = store.put_bytes(b"a" * 1000)
    path = store.path_for(blob.sha256)
    path.chmod(0o644)
    with path.open("r+b") as fh:
        fh.seek(500)
        fh.write(b"b")
    again = store.rehash(blob.sha256)
    assert again.size == 1000 and again.sha256 != blob.sha256 and again.md5 != blob.md5


def test_listing_blobs_and_leftovers(tmp_path: Path) -> None:
    store = FileStore(tmp_path / "store")
    shas = sorted(store.put_bytes(bytes([i]) * 10).sha256 for i in range(3))
    (store.root / "README").write_text("not a blob")
    (store.root / shas[0][:2] / shas[0][2:4] / "notes.txt").write_text("not a blob either")
    crashed = store.incoming()
    crashed.write(b"a crash came before the rename")
    assert list(store.blobs()) == shas
    assert store.leftovers() == [crashed.path]
    assert store.delete(shas[0]) and not store.delete(shas[0])
    assert list(store.blobs()) == shas[1:]


def test_path_for_refuses_anything_but_a_digest(tmp_path: Path) -> None:
    store = FileStore(tmp_path)
    for bad in ("../../etc/passwd", "A" * 64, "0" * 63, ""):
        with pytest.raises(ValueError):
            store.path_for(bad)


def test_sizes_for_people() -> None:
    assert format_size(512) == "512 bytes"
    assert format_size(2 * 1024**3) == "2.0 GB"
    assert format_size(1536 * 1024) == "1.5 MB"
