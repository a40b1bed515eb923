"""Keeping the index in step with the records: one session hook for every service, one bulk path.

Services never call the index. A ``before_commit`` hook on the application's sessionmaker
rewrites the embedded index rows of every record the transaction touched, inside that same
transaction, and (with an external server configured) writes a queue row there too; the queue is
pushed after commit, so the server never sees a half-committed record and an outage loses nothing.
Bulk loads that bypass the ORM (the demo loader's executemany) call ``index_all`` instead.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from repository.models import (
    Abstract, Contributor, ContributorAffiliation, Funding, Keyword, Link, Note, OrgUnit, Person, PersonNameForm,
    Publication, PublicationIdentifier, PublicationLanguage, PublicationSubject, PublicationTitle, Relation,
    SearchDocument, SearchQueueItem, SearchState, SearchValue, SeriesMembership, StoredFile, ThesisDetails, utcnow,
)
from repository.search.documents import Document, build_documents, build_range

log = logging.getLogger(__name__)

PENDING = "hylla.search.pending"  # session.info key: what the open transaction touched
BATCH = 1000

# Parts whose rows carry ``publication_id``: a change to any of them changes the record's document.
_PARTS = (PublicationTitle, Abstract, Keyword, PublicationSubject, PublicationLanguage, PublicationIdentifier,
          Contributor, SeriesMembership, Funding, Note, Link, Relation, StoredFile, ThesisDetails)


def write_documents(conn: Connection, docs: list[Document], gone: Iterable[int]) -> int:
    """Replace the embedded index rows of ``docs`` that changed, remove those of ``gone``.

    Documents equal to what the index holds are left alone: a full rebuild then costs a read
    per record instead of FTS5 removing and re-adding every word, and the bitsets of other
    processes stay valid. Deleting a document row fires the FTS5 trigger (SQLite) that removes
    its words, or deletes its ``search_words`` row (PostgreSQL, ON DELETE CASCADE); inserting
    one writes them. Returns how many rows changed.
    """
    changed = _changed(conn, docs)
    ids = [d.publication_id for d in changed] + list(gone)
    removed = 0
    for start in range(0, len(ids), BATCH):
        chunk = ids[start:start + BATCH]
        conn.execute(delete(SearchValue).where(SearchValue.publication_id.in_(chunk)))
        removed += conn.execute(delete(SearchDocument).where(SearchDocument.publication_id.in_(chunk))).rowcount
    if changed:
        now = utcnow()
        _insert_many(conn, SearchDocument.__table__.name, [d.row(now) for d in changed])
        values = [row for d in changed for row in d.value_rows()]
        if values:
            _insert_many(conn, SearchValue.__table__.name, values)
    if changed or removed:
        _new_generation(conn)
    return len(changed) + removed


_COMPARED = [c for c in SearchDocument.__table__.c if c.name != "indexed_at"]


def _changed(conn: Connection, docs: list[Document]) -> list[Document]:
    """The documents that differ from their indexed rows (or have none)."""
    if not docs:
        return []
    ids = [d.publication_id for d in docs]
    held: dict[int, tuple[Any, ...]] = {}
    keys: dict[int, set[tuple[str, str]]] = {}
    for start in range(0, len(ids), BATCH):
        chunk = ids[start:start + BATCH]
        for row in conn.execute(select(*_COMPARED).where(SearchDocument.publication_id.in_(chunk))):
            held[row[0]] = tuple(row)
        for pid, facet, value in conn.execute(select(SearchValue.publication_id, SearchValue.facet, SearchValue.value)
                                              .where(SearchValue.publication_id.in_(chunk))):
            keys.setdefault(pid, set()).add((facet, value))
    if not held:
        return docs
    names = [c.name for c in _COMPARED]
    out = []
    for doc in docs:
        row = doc.row(utcnow())
        if held.get(doc.publication_id) != tuple(row[n] for n in names) or \
                keys.get(doc.publication_id, set()) != {(f, v) for f, vs in doc.values.items() for v in vs}:
            out.append(doc)
    return out


def _new_generation(conn: Connection) -> None:
    """Tell every process's facet bitsets that the index changed (in this same transaction)."""
    token = uuid.uuid4().hex
    changed = conn.execute(update(SearchState).where(SearchState.id == 1).values(generation=token)).rowcount
    if not changed:
        conn.execute(insert(SearchState).values(id=1, generation=token))


def _insert_many(conn: Connection, table: str, rows: list[dict[str, Any]]) -> None:
    """executemany with the driver's placeholders: per-row parameter processing in SQLAlchemy
    costs more than the insert itself at bulk volume. Timestamps go in as naive UTC, as
    ``UTCDateTime`` stores them."""
    keys = list(rows[0])
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    sql = f"INSERT INTO {table} ({', '.join(keys)}) VALUES ({', '.join(mark for _ in keys)})"
    text_stamps = conn.dialect.name == "sqlite"
    conn.exec_driver_sql(sql, [tuple(_plain(row[k], text_stamps) for k in keys) for row in rows])


def _plain(value: Any, text_stamps: bool) -> Any:
    """A timestamp as ``UTCDateTime`` binds it; on SQLite in SQLAlchemy's own text form, so that
    keyset comparisons with bound values compare like with like."""
    if isinstance(value, dt.datetime):
        naive = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
        return naive.strftime("%Y-%m-%d %H:%M:%S.%f") if text_stamps else naive
    return value


def index_ids(conn: Connection, ids: Iterable[int]) -> int:
    """Rebuild the embedded documents of ``ids`` (in the caller's transaction); how many are public."""
    ordered = sorted(set(ids))
    public = 0
    for start in range(0, len(ordered), BATCH):
        docs, gone = build_documents(conn, ordered[start:start + BATCH])
        write_documents(conn, docs, gone)
        public += len(docs)
    return public


def index_all(conn: Connection, *, batch_size: int = 2000, start_id: int | None = None,
              progress: Callable[[int], None] | None = None) -> int:
    """(Re)build the embedded index of every record (from ``start_id`` on), committing per batch.

    For loads that bypass the ORM; walking id ranges keeps each batch's queries on the
    primary key. Returns the number of public records indexed.
    """
    prepare_bulk(conn)
    query = select(Publication.id).order_by(Publication.id)
    if start_id is not None:
        query = query.where(Publication.id >= start_id)
    ids = list(conn.execute(query).scalars())
    indexed = 0
    for start in range(0, len(ids), batch_size):
        chunk = ids[start:start + batch_size]
        docs, gone = build_range(conn, chunk[0], chunk[-1])
        write_documents(conn, docs, gone)
        conn.commit()
        indexed += len(docs)
        if progress:
            progress(len(chunk))
    if ids:
        finish_bulk(conn)
    return indexed


def prepare_bulk(conn: Connection) -> None:
    """Before writing many documents on this connection.

    FTS5's segments and the index B-trees outgrow SQLite's default 2 MB page cache at bulk
    volume; 64 MB keeps them in memory while the batches go in (this connection only).
    """
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("PRAGMA cache_size=-65536")


def finish_bulk(conn: Connection) -> None:
    """After writing many documents in batches, each committed.

    Batches leave FTS5 with many small segments that every query must merge; one merge now
    makes the words of a big index as quick to read as those of a small one.
    """
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("INSERT INTO search_fts(search_fts) VALUES('optimize')")
        conn.commit()


def indexed_count(conn: Connection) -> int:
    return conn.execute(select(func.count()).select_from(SearchDocument)).scalar_one()


# --- the session hook ------------------------------------------------------------------------------

class _Pending:
    """What one transaction touched, resolved to publication ids at commit time."""

    def __init__(self) -> None:
        self.publications: set[int] = set()
        self.contributors: set[int] = set()
        self.persons: set[int] = set()
        self.units: set[int] = set()

    def __bool__(self) -> bool:
        return bool(self.publications or self.contributors or self.persons or self.units)

    def note(self, obj: Any) -> None:
        if isinstance(obj, Publication):
            if obj.id is not None:
                self.publications.add(obj.id)
        elif isinstance(obj, _PARTS):
            if obj.publication_id is not None:
                self.publications.add(obj.publication_id)
        elif isinstance(obj, ContributorAffiliation):
            if obj.contributor_id is not None:
                self.contributors.add(obj.contributor_id)
        elif isinstance(obj, PersonNameForm):
            if obj.person_id is not None:
                self.persons.add(obj.person_id)
        elif isinstance(obj, Person):
            if obj.id is not None:
                self.persons.add(obj.id)
        elif isinstance(obj, OrgUnit):
            if obj.id is not None:
                self.units.add(obj.id)

    def resolve(self, conn: Connection) -> set[int]:
        ids = set(self.publications)
        if self.contributors:
            ids.update(conn.execute(select(Contributor.publication_id)
                                    .where(Contributor.id.in_(self.contributors))).scalars())
        if self.persons:
            ids.update(conn.execute(select(Contributor.publication_id)
                                    .where(Contributor.person_id.in_(self.persons))).scalars())
        if self.units:
            ids.update(conn.execute(
                select(Contributor.publication_id)
                .join(ContributorAffiliation, ContributorAffiliation.contributor_id == Contributor.id)
                .where(ContributorAffiliation.org_unit_id.in_(self.units))).scalars())
        return ids


def _pending(session: Session) -> _Pending:
    found = session.info.get(PENDING)
    if found is None:
        found = session.info[PENDING] = _Pending()
    return found


def watch(factory: sessionmaker[Session], *, queue: bool,
          after_commit: Callable[[set[int]], None] | None = None) -> None:
    """Hook a sessionmaker so that every commit keeps the index in step.

    ``queue`` writes a ``search_queue`` row per changed record in the same transaction (for an
    external server); ``after_commit`` receives those ids once the transaction is durable.
    """
    from sqlalchemy import event

    @event.listens_for(factory, "after_flush")
    def _noted(session: Session, _context: Any) -> None:
        pending = _pending(session)
        for obj in (*session.new, *session.dirty, *session.deleted):
            pending.note(obj)

    @event.listens_for(factory, "before_commit")
    def _index(session: Session) -> None:
        session.flush()
        pending = session.info.pop(PENDING, None)
        if not pending:
            return
        conn = session.connection()
        ids = pending.resolve(conn)
        if not ids:
            return
        index_ids(conn, ids)
        if queue:
            now = utcnow()
            conn.execute(insert(SearchQueueItem), [
                {"publication_id": i, "enqueued_at": now, "attempts": 0, "next_attempt_at": now} for i in sorted(ids)])
            session.info[PENDING + ".pushed"] = ids

    @event.listens_for(factory, "after_commit")
    def _push(session: Session) -> None:
        ids = session.info.pop(PENDING + ".pushed", None)
        if ids and after_commit is not None:
            after_commit(ids)

    @event.listens_for(factory, "after_rollback")
    def _forget(session: Session) -> None:
        session.info.pop(PENDING, None)
        session.info.pop(PENDING + ".pushed", None)
