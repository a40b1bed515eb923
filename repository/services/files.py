"""The files of a record: upload, replace, change terms, delete, and who may download what.

The stored bytes and the database rows never disagree in the harmful direction: a blob is
written, hashed and fsynced before its row is inserted, installed under its content address
while the row is flushed but not committed, and only then committed. A failure at any step
leaves at most a blob no row refers to (``files verify`` reports it as an orphan), never a row
that points at nothing. Blobs are shared between records with the same content, so a blob
is removed only when no row uses it any more, under the store's per-address lock.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from flask import current_app
from sqlalchemy import exists, func, select, update
from sqlalchemy.orm import lazyload

from exports.readmodel import FILE_ACCESS, FILE_ROLES
from repository.db import session
from repository.errors import Invalid, NotFound, PermissionDenied
from repository.models import Publication, StoredFile, User, WorkflowEvent, utcnow
from repository.permissions import can, can_download
from repository.services import records
from repository.services.file_content import detect_mime_type, sanitise_filename
from repository.services.readmodel import today_utc
from repository.storage import FileStore, IncomingBlob, StoredBlob

log = logging.getLogger(__name__)

ARTICLE_VERSIONS = ("submitted", "accepted", "published")
MAX_LICENCE_LENGTH = 255


class Embargoed(PermissionDenied):
    """The file exists and will open on ``until``; saying so is the point of an embargo."""

    def __init__(self, until: dt.date) -> None:
        super().__init__(f"This file is under embargo until {until.isoformat()}; it can be downloaded from that day.")
        self.until = until


class MissingBlob(Exception):
    """A row points at bytes the store does not have: a fault for the staff, not for the visitor."""


@dataclass(frozen=True, slots=True)
class FileTerms:
    """What a depositor says about a file: its role, who may read it, from when, under which licence."""

    role: str = "fulltext"
    access: str = "open"
    embargo_until: dt.date | None = None
    licence: str | None = None
    version: str | None = None

    def checked(self) -> FileTerms:
        """These terms, or ``Invalid`` naming every field that is wrong."""
        errors: dict[str, list[str]] = {}
        if self.role not in FILE_ROLES:
            errors["role"] = [f"choose one of {', '.join(FILE_ROLES)} (not {self.role!r})"]
        if self.access not in FILE_ACCESS:
            errors["access"] = [f"choose one of {', '.join(FILE_ACCESS)} (not {self.access!r})"]
        if self.access == "embargoed" and self.embargo_until is None:
            errors["embargo_until"] = ["an embargoed file needs the date its embargo ends"]
        if self.access != "embargoed" and self.embargo_until is not None:
            errors["embargo_until"] = ["an embargo date applies only to files whose access is 'embargoed'"]
        if self.licence is not None and (not self.licence.startswith(("http://", "https://"))
                                         or len(self.licence) > MAX_LICENCE_LENGTH):
            errors["licence"] = [f"give the licence as a web address of at most {MAX_LICENCE_LENGTH} characters, "
                                 "e.g. https://creativecommons.org/licenses/by/4.0/"]
        if self.version is not None and self.version not in ARTICLE_VERSIONS:
            errors["version"] = [f"choose one of {', '.join(ARTICLE_VERSIONS)} (not {self.version!r})"]
        if errors:
            raise Invalid(errors)
        return self


@dataclass(frozen=True, slots=True)
class Download:
    """A file the actor may fetch, where its bytes are, and whether shared caches may keep it."""

    file: StoredFile
    publication: Publication
    path: Path
    public: bool


def file_store() -> FileStore:
    return FileStore(current_app.config["FILES_ROOT"])


def max_upload_bytes() -> int:
    return int(current_app.config["MAX_UPLOAD_BYTES"])


def editable_publication(actor: User | None, publication_id: int) -> Publication:
    """The record ``actor`` may add files to; checked before a single byte of an upload is read."""
    if actor is None:
        raise PermissionDenied("log in to upload files")
    pub = session.get(Publication, publication_id)
    if pub is None or not can(actor, "read", pub):
        raise NotFound(f"no publication {publication_id}")
    if not can(actor, "edit", pub):
        raise PermissionDenied("you may not change the files of this publication")
    return pub


def upload(actor: User | None, publication_id: int, stream: BinaryIO | IncomingBlob, filename: str, *,
           declared_mime: str | None = None, role: str = "fulltext", access: str = "open",
           embargo_until: dt.date | None = None, licence: str | None = None, version: str | None = None,
           expected_size: int | None = None) -> StoredFile:
    """Store a new file of a record and return its row.

    ``stream`` is any readable binary stream (the API's request body), or an ``IncomingBlob``
    that werkzeug's multipart parser has already written into the store (the web form), so
    a 2 GB upload is copied once. ``declared_mime`` is only logged: the type is read from the
    bytes. ``expected_size`` (the Content-Length) turns a cut-off stream into an error.
    """
    with _discarded_on_error(stream):
        pub = editable_publication(actor, publication_id)
        name = sanitise_filename(filename)
        terms = FileTerms(role, access, embargo_until, licence, version).checked()
        store = file_store()
        incoming = _received(store, stream, expected_size)
    assert actor is not None  # editable_publication refused anonymous callers
    with incoming:
        blob = _finished(incoming)
        mime = _mime_type(incoming, name, declared_mime)
        now = utcnow()
        last = session.scalar(select(func.max(StoredFile.position)).where(StoredFile.publication_id == pub.id))
        row = StoredFile(
            position=0 if last is None else last + 1,
            original_filename=name, sha256=blob.sha256, md5=blob.md5, size=blob.size, mime_type=mime,
            role=terms.role, access=terms.access, embargo_until=terms.embargo_until, licence=terms.licence,
            version=terms.version, uploaded_by_id=actor.id, created_at=now)
        pub.files.append(row)
        _record_change(pub, actor, f"file added: {name}", now)
        _commit_with_blob(store, incoming, blob)
    log.info("uploaded file=%s record=%s sha256=%s size=%s by user=%s", row.id, pub.id, blob.sha256, blob.size, actor.id)
    return row


def replace(actor: User | None, file_id: int, stream: BinaryIO | IncomingBlob, filename: str, *,
            declared_mime: str | None = None, expected_size: int | None = None) -> StoredFile:
    """New content (and name) for a file, keeping its terms, its position and its download count."""
    with _discarded_on_error(stream):
        row, pub = editable_file(actor, file_id)
        name = sanitise_filename(filename)
        store = file_store()
        incoming = _received(store, stream, expected_size)
    assert actor is not None
    with incoming:
        blob = _finished(incoming)
        old_sha = row.sha256
        now = utcnow()
        row.original_filename, row.mime_type = name, _mime_type(incoming, name, declared_mime)
        row.sha256, row.md5, row.size = blob.sha256, blob.md5, blob.size
        row.uploaded_by_id, row.created_at = actor.id, now
        _record_change(pub, actor, f"file replaced: {name}", now)
        _commit_with_blob(store, incoming, blob)
    _release_blob(store, old_sha)
    log.info("replaced file=%s record=%s sha256=%s by user=%s", row.id, pub.id, blob.sha256, actor.id)
    return row


def update_terms(actor: User | None, file_id: int, terms: FileTerms) -> StoredFile:
    """Change who may read a file and under which licence (an editor lifting an embargo early)."""
    row, pub = editable_file(actor, file_id)
    assert actor is not None
    terms.checked()
    row.role, row.access, row.embargo_until = terms.role, terms.access, terms.embargo_until
    row.licence, row.version = terms.licence, terms.version
    _record_change(pub, actor, f"file terms changed: {row.original_filename}", utcnow())
    session.commit()
    return row


def delete(actor: User | None, file_id: int) -> None:
    """Remove a file from its record; its bytes go too unless another record holds the same content."""
    row, pub = editable_file(actor, file_id)
    assert actor is not None
    sha = row.sha256
    session.delete(row)
    _record_change(pub, actor, f"file removed: {row.original_filename}", utcnow())
    session.commit()
    _release_blob(file_store(), sha)
    log.info("deleted file=%s record=%s by user=%s", file_id, pub.id, actor.id)


def get_download(actor: User | None, file_id: int, *, today: dt.date | None = None,
                 now: dt.datetime | None = None) -> Download:
    """A file ``actor`` may download, or the error that says why not.

    A file of a record the actor cannot see is not found; a restricted one is not found either,
    so that its existence is not leaked; an embargoed one is refused with its opening date.
    """
    today = today or today_utc()
    row = session.get(StoredFile, file_id)
    if row is None:
        raise NotFound(f"no file {file_id}")
    # The record's row alone (its parts load on demand): a download needs its state and owners,
    # not the dozen collections a landing page loads eagerly. ``pub`` holds it while the read
    # check below finds it in the session (whose identity map keeps unchanged objects weakly).
    pub = session.get(Publication, row.publication_id, options=[lazyload("*")])
    pub = records.get_publication(actor, row.publication_id)  # NotFound, or Gone for a tombstone
    if not can_download(actor, row, pub, today, now):
        if row.access == "embargoed" and row.embargo_until is not None:
            raise Embargoed(row.embargo_until)
        raise NotFound(f"no file {file_id}")
    path = file_store().path_for(row.sha256)
    if not path.is_file():
        log.error("missing blob file=%s record=%s sha256=%s", row.id, pub.id, row.sha256)
        raise MissingBlob(f"the stored bytes of file {file_id} are missing")
    public = can_download(None, row, pub, today, now)
    return Download(row, pub, path, public)


def editable_file(actor: User | None, file_id: int) -> tuple[StoredFile, Publication]:
    """A file ``actor`` may replace, change or delete, with its record."""
    row = session.get(StoredFile, file_id)
    if row is None:
        raise NotFound(f"no file {file_id}")
    return row, editable_publication(actor, row.publication_id)


@contextmanager
def _discarded_on_error(stream: BinaryIO | IncomingBlob) -> Iterator[None]:
    """Remove a form's already-written file when the checks before it is used fail."""
    try:
        yield
    except BaseException:
        if isinstance(stream, IncomingBlob):
            stream.abort()
        raise


def _received(store: FileStore, stream: BinaryIO | IncomingBlob, expected_size: int | None) -> IncomingBlob:
    """The upload as a finished file in the store's incoming area (copied there unless the form wrote it)."""
    if isinstance(stream, IncomingBlob):
        return stream
    return store.receive(stream, max_bytes=max_upload_bytes(), expected_size=expected_size)


def _finished(incoming: IncomingBlob) -> StoredBlob:
    blob = incoming.finish()
    if blob.size == 0:
        raise Invalid({"file": ["the file is empty; choose the file again"]})
    return blob


def _mime_type(incoming: IncomingBlob, name: str, declared: str | None) -> str:
    mime = detect_mime_type(incoming.path, name)
    if declared and declared.split(";")[0].strip().lower() != mime:
        log.info("declared type %s of %r ignored: content is %s", declared, name, mime)
    return mime


def _record_change(pub: Publication, actor: User, comment: str, now: dt.datetime) -> None:
    """History for the record; a public record's datestamp moves so harvesters fetch the new file list.

    The record's row is changed with a bulk UPDATE, which leaves its optimistic-lock version
    alone: a file uploaded beside an open metadata form must not make saving that form fail.
    """
    values: dict[str, dt.datetime] = {"updated_at": now}
    if pub.state == "published":
        # A record scheduled for later (a thesis before its nailing day) keeps that moment as its datestamp.
        values["datestamp"] = max(now, pub.public_from or now)
    session.execute(update(Publication).where(Publication.id == pub.id).values(**values))
    session.add(WorkflowEvent(publication_id=pub.id, actor_id=actor.id, action="update", from_state=pub.state,
                              to_state=pub.state, comment=comment, at=now))


def _commit_with_blob(store: FileStore, incoming: IncomingBlob, blob: StoredBlob) -> None:
    """Flush the row, install the blob, commit: the order that never leaves a row without bytes."""
    try:
        with store.locked(blob.sha256):
            session.flush()
            incoming.install()
            session.commit()
    except BaseException:
        session.rollback()
        raise


def _release_blob(store: FileStore, sha256: str) -> None:
    """Delete a blob that no row uses any more (checked under the address lock, after the commit)."""
    with store.locked(sha256):
        in_use = session.scalar(select(exists().where(StoredFile.sha256 == sha256)))
        if not in_use:
            store.delete(sha256)
    session.commit()
