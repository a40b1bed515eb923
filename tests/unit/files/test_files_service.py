"""The files service: uploads that keep rows and blobs consistent, permissions, replace and delete."""

from __future__ import annotations

import datetime as dt
import hashlib
import io

import pytest
from flask import Flask
from sqlalchemy import select

from repository.db import session
from repository.errors import Invalid, NotFound, PermissionDenied
from repository.models import StoredFile, WorkflowEvent
from repository.services import files, fixity, records
from repository.storage import FileStore, IncompleteUpload, UploadTooLarge
from tests.unit.files.conftest import PDF, PNG, World, row_count, stored_paths


def test_upload_stores_blob_and_row_together(world: World, store: FileStore) -> None:
    before, version = world.published.datestamp, world.draft.version
    row = files.upload(world["owner"], world.draft.id, io.BytesIO(PDF), "Ålgräs.pdf", declared_mime="text/html")
    assert (row.original_filename, row.mime_type, row.size) == ("Ålgräs.pdf", "application/pdf", len(PDF))
    assert row.sha256 == hashlib.sha256(PDF).hexdigest() and row.md5 == hashlib.md5(PDF).hexdigest()
    assert row.uploaded_by_id == world["owner"].id and row.position == 0
    assert store.path_for(row.sha256).read_bytes() == PDF
    assert stored_paths(store.root) == [store.path_for(row.sha256)]
    second = files.upload(world["owner"], world.draft.id, io.BytesIO(PNG), "figur.png", role="supplementary")
    assert second.position == 1
    event = session.scalars(select(WorkflowEvent).where(WorkflowEvent.publication_id == world.draft.id)
                            .order_by(WorkflowEvent.id.desc())).first()
    assert event is not None and event.comment == "file added: figur.png"
    files.upload(world["editor"], world.published.id, io.BytesIO(PDF), "postprint.pdf", version="accepted")
    assert world.published.datestamp > before  # harvesters must fetch the new file list
    # An open metadata form (built from the record's version) can still be saved after an upload.
    assert world.draft.version == version
    assert [f.original_filename for f in world.draft.files] == ["Ålgräs.pdf", "figur.png"]


def test_over_the_limit_leaves_no_row_and_nothing_in_the_store(
        app: Flask, world: World, store: FileStore, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(app.config, "MAX_UPLOAD_BYTES", 1000)
    with pytest.raises(UploadTooLarge, match="larger than the limit of 1000 bytes"):
        files.upload(world["owner"], world.draft.id, io.BytesIO(b"%PDF" + b"0" * 2000), "big.pdf")
    assert row_count(StoredFile) == 0 and stored_paths(store.root) == []


def test_a_cut_off_stream_leaves_nothing(world: World, store: FileStore) -> None:
    with pytest.raises(IncompleteUpload):
        files.upload(world["owner"], world.draft.id, io.BytesIO(PDF[:50]), "half.pdf", expected_size=len(PDF))
    assert row_count(StoredFile) == 0 and stored_paths(store.root) == []


def test_bad_terms_are_refused_before_the_stream_is_read(world: World, store: FileStore) -> None:
    stream = io.BytesIO(PDF)
    with pytest.raises(Invalid) as caught:
        files.upload(world["owner"], world.draft.id, stream, "a.pdf", role="poster", access="embargoed",
                     licence="CC-BY", version="final")
    assert set(caught.value.errors) == {"role", "embargo_until", "licence", "version"}
    assert stream.tell() == 0
    with pytest.raises(Invalid, match="applies only to files whose access is 'embargoed'"):
        files.upload(world["owner"], world.draft.id, stream, "a.pdf", embargo_until=dt.date(2030, 1, 1))
    with pytest.raises(Invalid, match="empty"):
        files.upload(world["owner"], world.draft.id, io.BytesIO(b""), "empty.pdf")
    assert row_count(StoredFile) == 0 and stored_paths(store.root) == []


def test_who_may_upload(world: World, store: FileStore) -> None:
    with pytest.raises(PermissionDenied):
        files.upload(None, world.published.id, io.BytesIO(PDF), "a.pdf")
    with pytest.raises(NotFound):  # someone else's draft is not admitted to exist
        files.upload(world["other"], world.draft.id, io.BytesIO(PDF), "a.pdf")
    with pytest.raises(PermissionDenied):  # a published record is the editors' now
        files.upload(world["owner"], world.published.id, io.BytesIO(PDF), "a.pdf")
    with pytest.raises(NotFound):
        files.upload(world["kth_editor"], world.draft.id, io.BytesIO(PDF), "a.pdf")
    assert files.upload(world["admin"], world.draft.id, io.BytesIO(PDF), "a.pdf").id
    with pytest.raises(NotFound):
        files.upload(world["admin"], 999_999, io.BytesIO(PDF), "a.pdf")


def test_a_failed_commit_leaves_an_orphan_blob_never_a_row_without_bytes(
        world: World, store: FileStore, monkeypatch: pytest.MonkeyPatch) -> None:
    def failing_commit() -> None:
        raise ConnectionError("the database went away")

    monkeypatch.setattr(session, "commit", failing_commit)
    with pytest.raises(ConnectionError):
        files.upload(world["owner"], world.draft.id, io.BytesIO(PDF), "a.pdf")
    monkeypatch.undo()
    assert row_count(StoredFile) == 0
    sha = hashlib.sha256(PDF).hexdigest()
    report = fixity.verify(store, fixity.plan(store))
    assert report.orphans == [sha] and report.ok


def test_delete_removes_bytes_only_when_no_other_file_uses_them(world: World, store: FileStore) -> None:
    first = files.upload(world["owner"], world.draft.id, io.BytesIO(PDF), "a.pdf")
    shared = files.upload(world["editor"], world.published.id, io.BytesIO(PDF), "same.pdf")
    files.delete(world["owner"], first.id)
    assert store.exists(shared.sha256) and session.get(StoredFile, first.id) is None
    with pytest.raises(PermissionDenied):
        files.delete(world["owner"], shared.id)
    files.delete(world["editor"], shared.id)
    assert stored_paths(store.root) == []
    with pytest.raises(NotFound):
        files.delete(world["editor"], shared.id)


def test_replace_keeps_the_row_and_frees_the_old_bytes(world: World, store: FileStore) -> None:
    row = files.upload(world["owner"], world.draft.id, io.BytesIO(PDF), "utkast.pdf", access="embargoed",
                       embargo_until=dt.date(2031, 1, 1))
    old = row.sha256
    replaced = files.replace(world["owner"], row.id, io.BytesIO(PNG), "figur.png")
    assert replaced.id == row.id and replaced.access == "embargoed" and replaced.mime_type == "image/png"
    assert not store.exists(old) and store.path_for(replaced.sha256).read_bytes() == PNG


def test_update_terms_lifts_an_embargo(world: World) -> None:
    row = files.upload(world["editor"], world.published.id, io.BytesIO(PDF), "a.pdf", access="embargoed",
                       embargo_until=dt.date(2099, 1, 1))
    with pytest.raises(files.Embargoed):
        files.get_download(None, row.id)
    files.update_terms(world["editor"], row.id, files.FileTerms(access="open"))
    assert files.get_download(None, row.id).public


def test_a_missing_blob_is_a_fault_not_a_secret(world: World, store: FileStore) -> None:
    row = files.upload(world["editor"], world.published.id, io.BytesIO(PDF), "a.pdf")
    store.path_for(row.sha256).unlink()
    with pytest.raises(files.MissingBlob):
        files.get_download(None, row.id)


def test_downloads_of_withdrawn_records_answer_gone(world: World) -> None:
    row = files.upload(world["editor"], world.published.id, io.BytesIO(PDF), "a.pdf")
    records.withdraw(world["editor"], world.published.id, "Duplicate")
    from repository.errors import Gone

    with pytest.raises(Gone):
        files.get_download(None, row.id)
