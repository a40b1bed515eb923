"""``flask files verify``: re-hashing every stored file, reporting missing, changed and orphan blobs."""

from __future__ import annotations

import io

from flask import Flask

from repository.services import files
from repository.storage import FileStore
from tests.unit.files.conftest import PDF, PNG, World


def verify(app: Flask) -> tuple[int, str]:
    result = app.test_cli_runner().invoke(args=["files", "verify"])
    return result.exit_code, result.output


def test_a_healthy_store_passes(app: Flask, world: World) -> None:
    files.upload(world["owner"], world.draft.id, io.BytesIO(PDF), "a.pdf")
    files.upload(world["editor"], world.published.id, io.BytesIO(PDF), "same.pdf")  # one blob, two files
    files.upload(world["editor"], world.published.id, io.BytesIO(PNG), "b.png")
    code, output = verify(app)
    assert code == 0, output
    assert "Checking 3 files in 2 blobs" in output
    assert "2 blobs checked, 0 missing, 0 changed, 0 orphan, 0 leftover temporary files." in output


def test_a_changed_byte_a_missing_file_and_an_orphan(app: Flask, world: World, store: FileStore) -> None:
    changed = files.upload(world["owner"], world.draft.id, io.BytesIO(PDF), "a.pdf")
    missing = files.upload(world["editor"], world.published.id, io.BytesIO(PNG), "b.png")
    orphan = store.put_bytes(b"bytes no record uses")
    leftover = store.incoming()
    leftover.write(b"an upload that crashed")
    path = store.path_for(changed.sha256)
    path.chmod(0o644)
    with path.open("r+b") as fh:
        fh.seek(20)
        fh.write(b"X")
    store.path_for(missing.sha256).unlink()

    code, output = verify(app)
    assert code == 1, output
    lines = output.splitlines()
    assert any(line.startswith(f"CHANGED  {changed.sha256}  files {changed.id}") for line in lines), output
    assert any(line.startswith(f"MISSING  {missing.sha256}  files {missing.id}") for line in lines), output
    assert f"ORPHAN   {orphan.sha256}  no file record uses it" in lines
    assert any(line.startswith(f"LEFTOVER {leftover.path.name}") for line in lines)
    assert "2 blobs checked, 1 missing, 1 changed, 1 orphan, 1 leftover temporary files." in output


def test_orphans_alone_do_not_fail_the_check(app: Flask, world: World, store: FileStore) -> None:
    store.put_bytes(b"left by an upload whose commit failed")
    code, output = verify(app)
    assert code == 0 and "0 blobs checked, 0 missing, 0 changed, 1 orphan" in output
