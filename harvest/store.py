"""The harvester's SQL: sources and their leases, runs and their logs, harvested records, blocking keys and works.

The national bibliography's search (``harvest.bibliography``) and the quality reports
(``harvest.quality_reports``) keep their read-only queries in modules of their own.

Nothing here commits: the caller (the harvest loop, dedup, the CLI) owns the transaction, so a
page's records and its checkpoint are written in one. Writes are in bulk (one statement per page
and kind of change), since a national harvest moves millions of rows.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import operator
import re
import urllib.parse
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import orjson
from sqlalchemy import Column, ColumnElement, Connection, Select, Table, Text, cast, delete, func, select, text, update
from sqlalchemy.orm import Session

from exports.jsontext import json_text
from harvest import bibliography, xslt
from harvest.schedule import parse_cron
from harvest.models import (
    METADATA_PREFIXES, BlockingKey, DedupPending, HarvestedRecord, HarvestRun, MergeDecision, RecordProblem, RunEvent,
    Source, Work, WorkFacet, WorkMembership, utc_now,
)

CHUNK = 500  # ids per IN (...) list: well under SQLite's 32766 host parameters and PostgreSQL's 65535
INSTITUTION_CODE = re.compile(r"^[a-z0-9][a-z0-9\-]{0,63}$")


class SourceError(ValueError):
    """A source definition we refuse, or a source that does not exist; ``errors`` maps each bad field to why."""

    def __init__(self, message: str, errors: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.errors = errors or {}


class SourceBusy(SourceError):
    """Another harvester holds the source's lease: at most one run per source at a time."""


@dataclass(frozen=True, slots=True)
class RecordVersion:
    """What one harvested ``<record>`` says now, ready to be written."""

    oai_identifier: str
    datestamp: dt.datetime | None
    deleted: bool
    content_hash: str
    raw_xml: str | None = None
    # The two large documents may come already encoded from the process that judged the record
    # (bytes on the way, an ``orjson.Fragment`` once here): the JSON columns write a fragment as it is.
    record: dict[str, Any] | bytes | orjson.Fragment | None = None
    accepted: bool = False
    problems: list[dict[str, Any]] = field(default_factory=list)
    xsd_valid: bool | None = None
    match_features: dict[str, Any] | bytes | orjson.Fragment | None = None
    keys: tuple[str, ...] = ()
    institution: str | None = None  # its organisation code, else its source's name (for quality reports)

    def __reduce__(self) -> tuple[type[RecordVersion], tuple[Any, ...]]:
        # Pickled as the constructor's arguments: the dataclass's own state pickling (a fields()
        # walk and a setattr per field, both ways) cost twice as much for the 500 versions a
        # look-ahead page carries to the loop.
        return RecordVersion, _version_values(self)


_version_values = operator.attrgetter(*(f.name for f in dataclasses.fields(RecordVersion)))


@dataclass(frozen=True, slots=True)
class Known:
    """What we already hold for an identifier, enough to tell added, updated and unchanged apart."""

    id: int
    content_hash: str
    deleted: bool


@dataclass(slots=True)
class Counts:
    added: int = 0
    updated: int = 0
    deleted: int = 0
    rejected: int = 0
    unchanged: int = 0
    errors: int = 0

    def add(self, other: Counts) -> None:
        for name in self.__slots__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


def _chunks(items: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


# -- sources ---------------------------------------------------------------------------------------

def source_errors(session: Session, name: str, base_url: str, metadata_prefix: str, *,
                  xslt_text: str | None = None, schedule: str | None = None,
                  institution_code: str | None = None) -> dict[str, str]:
    """What is wrong with a source definition, field by field (empty when nothing is)."""
    errors: dict[str, str] = {}
    name = name.strip()
    if not name or len(name) > 100 or any(c.isspace() for c in name):
        errors["name"] = f"source name {name!r} must be 1 to 100 characters without spaces"
    elif session.scalar(select(Source.id).where(Source.name == name)) is not None:
        errors["name"] = f"a source named {name!r} already exists"
    parts = urllib.parse.urlsplit(base_url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        errors["base_url"] = f"{base_url!r} is not an OAI-PMH base URL (http or https, no query string)"
    if metadata_prefix not in METADATA_PREFIXES:
        errors["metadata_prefix"] = (f"metadata prefix {metadata_prefix!r} is not harvested; use one of "
                                     f"{', '.join(METADATA_PREFIXES)}")
    if xslt_text is not None:
        try:
            xslt.check_stylesheet(xslt_text)
        except xslt.XSLTError as exc:
            errors["xslt"] = f"source {name}: {exc}"
    if schedule:
        try:
            parse_cron(schedule)
        except ValueError as exc:
            errors["schedule"] = str(exc)
    if institution_code is not None and not INSTITUTION_CODE.match(institution_code):
        errors["institution_code"] = (f"{institution_code!r} is not an organisation code: KB's codes are lower "
                                      "case letters, digits and hyphens, such as kth, uu or hb")
    return errors


def add_source(session: Session, name: str, base_url: str, metadata_prefix: str, *, set_spec: str | None = None,
               xslt_text: str | None = None, schedule: str | None = None, contact: str | None = None,
               institution_code: str | None = None) -> Source:
    """A new source, after checking every field: a bad one is refused with the reason.

    ``institution_code`` is given to every record that names no organisation of its own: oai_dc
    has no recordContentSource, so a Dublin Core source without one has all its records rejected
    by SwePub's rule 01.
    """
    errors = source_errors(session, name, base_url, metadata_prefix, xslt_text=xslt_text, schedule=schedule,
                           institution_code=institution_code)
    if errors:
        raise SourceError("; ".join(errors.values()), errors)
    source = Source(name=name.strip(), base_url=base_url.strip(), metadata_prefix=metadata_prefix,
                    set_spec=set_spec or None, xslt=xslt_text, schedule=schedule.strip() if schedule else None,
                    contact=contact or None, institution_code=institution_code, enabled=True, checkpoint_pages=0)
    session.add(source)
    session.flush()
    return source


def get_source(session: Session, name: str) -> Source:
    source = session.scalar(select(Source).where(Source.name == name))
    if source is None:
        known = ", ".join(session.scalars(select(Source.name).order_by(Source.name))) or "none yet"
        raise SourceError(f"no source named {name!r} (known: {known})")
    return source


def list_sources(session: Session) -> list[Source]:
    return list(session.scalars(select(Source).order_by(Source.name)))


def record_identify(session: Session, source: Source, *, repository_name: str, granularity: str,
                    earliest_datestamp: str, deleted_record: str) -> None:
    source.repository_name = repository_name[:500]
    source.granularity = granularity
    source.earliest_datestamp = earliest_datestamp
    source.deleted_record = deleted_record
    source.identified_at = utc_now()


# -- leases: one run per source at a time -----------------------------------------------------------

def take_lease(session: Session, name: str, owner: str, ttl: dt.timedelta) -> bool:
    """Hold the source ``name`` for ``owner`` until now + ``ttl``, unless another owner holds an unexpired lease.

    One conditional UPDATE, so two harvesters (cron, a Celery worker on another machine, a person
    at the CLI) racing for one source cannot both win, on SQLite and PostgreSQL alike. It should be
    the first statement of its transaction (see ``hold_lease``); the caller commits at once, so
    the lease is visible to the others before the run starts. False also when there is no such source.
    """
    now = utc_now()
    taken = session.execute(
        update(Source).where(Source.name == name,
                             (Source.lock_owner.is_(None)) | (Source.lock_owner == owner) | (Source.lock_expires < now))
        .values(lock_owner=owner, lock_expires=now + ttl).execution_options(synchronize_session=False))
    return bool(taken.rowcount)


def hold_lease(session: Session, source_id: int, owner: str, ttl: dt.timedelta) -> None:
    """Extend ``owner``'s lease, as the first statement of each of a run's transactions.

    Starting with a write matters on SQLite: a transaction that reads first and writes later
    cannot wait for another writer to finish (SQLite refuses it at once, "database is locked"),
    while one that starts with a write waits for the lock. A lease lost meanwhile (the run stalled
    longer than ``ttl`` and another harvester took the source) stops this run rather than doubling it.
    """
    renewed = session.execute(
        update(Source).where(Source.id == source_id, Source.lock_owner == owner)
        .values(lock_expires=utc_now() + ttl).execution_options(synchronize_session=False))
    if not renewed.rowcount:
        holder = lease_holder(session, source_id)
        raise SourceBusy(f"source {source_id} was taken over by {holder[0] if holder else 'another harvester'} "
                         f"while this run ({owner}) was between pages; this run stops so that only one harvests it")


def release_lease(session: Session, source_id: int, owner: str) -> None:
    session.execute(update(Source).where(Source.id == source_id, Source.lock_owner == owner)
                    .values(lock_owner=None, lock_expires=None).execution_options(synchronize_session=False))


def lease_holder(session: Session, source_id: int) -> tuple[str, dt.datetime] | None:
    row = session.execute(select(Source.lock_owner, Source.lock_expires).where(Source.id == source_id)).one()
    return (row[0], row[1]) if row[0] is not None and row[1] is not None and row[1] > utc_now() else None


# -- runs ------------------------------------------------------------------------------------------

def start_run(session: Session, source: Source, mode: str, from_used: str | None, until_used: str | None) -> HarvestRun:
    run = HarvestRun(source_id=source.id, mode=mode, from_used=from_used, until_used=until_used, status="running",
                     started=utc_now(), pages=0, added=0, updated=0, deleted=0, rejected=0, unchanged=0, errors=0)
    session.add(run)
    session.flush()
    source.checkpoint_run_id, source.checkpoint_token, source.checkpoint_pages = run.id, None, 0
    return run


def resumable_run(session: Session, source: Source) -> HarvestRun | None:
    """The unfinished run whose checkpoint holds a resumption token, if there is one."""
    if source.checkpoint_run_id is None or not source.checkpoint_token:
        return None
    run = session.get(HarvestRun, source.checkpoint_run_id)
    if run is None or run.status == "succeeded":
        return None
    return run


def reopen_run(session: Session, run: HarvestRun) -> None:
    run.status, run.finished = "running", None


def add_event(session: Session, run: HarvestRun, level: str, message: str, *, code: str | None = None,
              oai_identifier: str | None = None) -> None:
    session.add(RunEvent(run_id=run.id, level=level, code=code, oai_identifier=oai_identifier, message=message,
                         at=utc_now()))
    if level == "error":
        run.errors += 1


def add_counts(run: HarvestRun, counts: Counts) -> None:
    run.added += counts.added
    run.updated += counts.updated
    run.deleted += counts.deleted
    run.rejected += counts.rejected
    run.unchanged += counts.unchanged


def save_checkpoint(source: Source, run: HarvestRun, token: str | None) -> None:
    """Where to go on after this page; written in the page's own transaction."""
    run.pages += 1
    source.checkpoint_run_id, source.checkpoint_token, source.checkpoint_pages = run.id, token, run.pages


def finish_run(session: Session, source: Source, run: HarvestRun, status: str, message: str | None = None) -> None:
    """Close a run. A success moves the incremental start and clears the checkpoint; others keep it."""
    run.status, run.finished, run.message = status, utc_now(), message
    if status == "succeeded":
        source.last_success_from = run.started
        source.checkpoint_run_id, source.checkpoint_token, source.checkpoint_pages = None, None, 0


def run_events(session: Session, run_id: int) -> list[RunEvent]:
    return list(session.scalars(select(RunEvent).where(RunEvent.run_id == run_id).order_by(RunEvent.id)))


def latest_runs(session: Session) -> dict[int, HarvestRun]:
    """The newest run of every source, by source id."""
    newest = select(HarvestRun.source_id, func.max(HarvestRun.id).label("id")).group_by(HarvestRun.source_id).subquery()
    runs = session.scalars(select(HarvestRun).join(newest, HarvestRun.id == newest.c.id))
    return {run.source_id: run for run in runs}


# -- records ---------------------------------------------------------------------------------------

def known_records(session: Session, source_id: int, identifiers: Iterable[str]) -> dict[str, Known]:
    found: dict[str, Known] = {}
    for chunk in _chunks(list(set(identifiers))):
        rows = session.execute(
            select(HarvestedRecord.oai_identifier, HarvestedRecord.id, HarvestedRecord.content_hash,
                   HarvestedRecord.deleted)
            .where(HarvestedRecord.source_id == source_id, HarvestedRecord.oai_identifier.in_(chunk)))
        found.update({ident: Known(rid, digest, deleted) for ident, rid, digest, deleted in rows})
    return found


SEVERITY_WEIGHTS = {"reject": 10_000, "error": 100, "warning": 10, "info": 0}


def quality_score(problems: Iterable[dict[str, Any]]) -> int:
    """How bad a record is: a rejection outweighs any number of errors, an error ten warnings."""
    return sum(SEVERITY_WEIGHTS.get(p["severity"], 0) for p in problems)


def _row(version: RecordVersion) -> dict[str, Any]:
    return {
        "datestamp": version.datestamp, "deleted": version.deleted, "raw_xml": version.raw_xml,
        "record": version.record, "accepted": version.accepted, "problems": version.problems,
        "xsd_valid": version.xsd_valid, "content_hash": version.content_hash,
        "match_features": version.match_features, "institution": version.institution,
        "quality_score": quality_score(version.problems),
    }


# What a new harvested record's row holds, in the order ``_new_record_rows`` gives the values.
_NEW_RECORD_COLUMNS = ("id", "source_id", "oai_identifier", "first_seen_run_id", "last_seen_run_id", "datestamp",
                       "deleted", "raw_xml", "record", "accepted", "problems", "xsd_valid", "content_hash",
                       "match_features", "institution", "quality_score")


def _new_record_rows(session: Session, source_id: int, run_id: int, ids: Sequence[int],
                     versions: Sequence[RecordVersion]) -> list[tuple[Any, ...]]:
    """New records' rows as the driver takes them, each value through its column type's own bind processor.

    The same values SQLAlchemy would send (JSON text, the UTC datestamp as the dialect stores it),
    without its per-row parameter processing, which cost the storing process about as much as the
    inserts themselves for a page of 500 records.
    """
    columns = HarvestedRecord.__table__.c
    stamp, truth = _driver_value(session, columns.datestamp), _driver_value(session, columns.deleted)
    as_json = _driver_value(session, columns.record)  # every JSON column shares the engine's serializer
    return [(rid, source_id, v.oai_identifier, run_id, run_id, stamp(v.datestamp), truth(v.deleted), v.raw_xml,
             as_json(v.record), truth(v.accepted), as_json(v.problems), truth(v.xsd_valid), v.content_hash,
             as_json(v.match_features), v.institution, quality_score(v.problems))
            for rid, v in zip(ids, versions, strict=True)]


def _driver_value(session: Session, column: Column[Any]) -> Callable[[Any], Any]:
    """What SQLAlchemy would hand the driver for a value of ``column`` (its type's bind processor on
    this dialect), for rows written with ``exec_driver_sql``."""
    dialect = session.get_bind().dialect
    return column.type.dialect_impl(dialect).bind_processor(dialect) or _same


def _same(value: Any) -> Any:
    return value


def write_records(session: Session, source_id: int, run_id: int, new: Sequence[RecordVersion],
                  changed: Sequence[tuple[int, RecordVersion]], seen: Sequence[int]) -> None:
    """Insert ``new``, overwrite ``changed`` (by record id), and mark ``seen`` unchanged ones as seen by this run."""
    if new:
        ids = new_ids(session, HarvestedRecord.__table__, len(new))
        insert_rows(session, HarvestedRecord.__tablename__, _NEW_RECORD_COLUMNS,
                    _new_record_rows(session, source_id, run_id, ids, new))
        _insert_keys(session, zip(ids, (v.keys for v in new), strict=True))
        _insert_problems(session, zip(ids, new, strict=True))
        queue_for_dedup(session, ids)
    if changed:
        session.execute(update(HarvestedRecord), [{**_row(v), "id": rid, "last_seen_run_id": run_id}
                                                  for rid, v in changed])
        replace_keys(session, [(rid, v.keys) for rid, v in changed])
        _delete_problems(session, [rid for rid, _ in changed])
        _insert_problems(session, changed)
        queue_for_dedup(session, [rid for rid, _ in changed])
    if seen:
        session.execute(update(HarvestedRecord), [{"id": rid, "last_seen_run_id": run_id} for rid in seen])


def _insert_problems(session: Session, pairs: Iterable[tuple[int, RecordVersion]]) -> None:
    insert_rows(session, RecordProblem.__tablename__, ("record_id", "code", "severity", "name", "path", "message"),
                [(rid, p["code"][:64], p["severity"], p.get("name"), p["path"][:300], p["message"])
                 for rid, version in pairs if not version.deleted for p in version.problems])


def _delete_problems(session: Session, record_ids: Sequence[int]) -> None:
    for chunk in _chunks(record_ids):
        session.execute(delete(RecordProblem).where(RecordProblem.record_id.in_(chunk)))


def new_ids(session: Session, table: Table, count: int) -> list[int]:
    """Ids for ``count`` rows about to be inserted, so a bulk insert needs no RETURNING.

    Asked for ids in parameter order, SQLAlchemy inserts one row per statement on SQLite (it
    cannot trust the order of a multi-row RETURNING there): a page of records or a refresh's new
    works cost as many round trips as rows. PostgreSQL hands out ids from the column's own
    sequence, as concurrent harvests need. On SQLite the ids follow the highest one: the writers
    here (a harvest page, a dedup refresh, an operator's split or merge) have written before they
    insert, so their transaction holds SQLite's one write lock and no other writer can take the
    same ids before it commits (and a duplicate could only ever fail on the primary key, never be
    stored).
    """
    if count <= 0:
        return []
    if session.get_bind().dialect.name == "postgresql":
        rows = session.execute(text("SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :n)"),
                               {"table": table.name, "n": count})
        return [row[0] for row in rows]
    first = (session.scalar(select(func.max(table.c.id))) or 0) + 1
    return list(range(first, first + count))


@contextmanager
def roomy_cache(session: Session, mib: int) -> Iterator[None]:
    """On SQLite, a page cache of ``mib`` for this connection while a large refresh writes, then the one it had.

    A full refresh at a million records inserts into indexes of hundreds of megabytes (works by
    title and cluster key, facet values); with the usual cache each insert fetches its index
    pages from the operating system again (measured: writing 807,299 works took 117 s with
    2 MiB, 86 s with 256 MiB). PostgreSQL sizes its own buffers.
    """
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        yield
        return
    before = connection.exec_driver_sql("PRAGMA cache_size").scalar_one()
    connection.exec_driver_sql(f"PRAGMA cache_size=-{int(mib) * 1024}")
    try:
        yield
    finally:
        connection.exec_driver_sql(f"PRAGMA cache_size={int(before)}")


def insert_rows(session: Session, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
    """executemany with the driver's own placeholders, for plain values (ids, codes, text).

    A harvest writes several rows per record (keys, problems, facets); SQLAlchemy's per-row
    parameter processing costs more than the inserts themselves at that volume.
    """
    if not rows:
        return
    connection = session.connection()
    mark = _placeholder(connection)
    connection.exec_driver_sql(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(mark for _ in columns)})",
                               rows)


def _placeholder(connection: Connection) -> str:
    """The driver's own parameter mark (sqlite3: ``?``, psycopg: ``%s``), for statements given to it directly."""
    return "?" if connection.dialect.paramstyle == "qmark" else "%s"


def _insert_keys(session: Session, pairs: Iterable[tuple[int, Sequence[str]]]) -> None:
    insert_rows(session, BlockingKey.__tablename__, ("record_id", "key"),
                [(rid, key) for rid, keys in pairs for key in keys])


def replace_keys(session: Session, pairs: Sequence[tuple[int, Sequence[str]]]) -> None:
    for chunk in _chunks([rid for rid, _ in pairs]):
        session.execute(delete(BlockingKey).where(BlockingKey.record_id.in_(chunk)))
    _insert_keys(session, pairs)


def mark_deleted(session: Session, record_ids: Sequence[int], run_id: int) -> None:
    """Deleted at the source: keep the row (and its XML) as a tombstone, drop it from deduplication."""
    for chunk in _chunks(record_ids):
        session.execute(update(HarvestedRecord).where(HarvestedRecord.id.in_(chunk)).values(
            deleted=True, match_features=None, last_seen_run_id=run_id, quality_score=0))
        session.execute(delete(BlockingKey).where(BlockingKey.record_id.in_(chunk)))
        session.execute(delete(RecordProblem).where(RecordProblem.record_id.in_(chunk)))
    queue_for_dedup(session, record_ids)


def live_identifiers(session: Session, source_id: int) -> dict[str, int]:
    """Identifier -> record id of every record the source has not deleted."""
    rows = session.execute(select(HarvestedRecord.oai_identifier, HarvestedRecord.id)
                           .where(HarvestedRecord.source_id == source_id, HarvestedRecord.deleted.is_(False)))
    return {ident: rid for ident, rid in rows}


def get_record(session: Session, source_name: str, oai_identifier: str) -> HarvestedRecord:
    record = session.scalar(select(HarvestedRecord).join(Source)
                            .where(Source.name == source_name, HarvestedRecord.oai_identifier == oai_identifier))
    if record is None:
        raise SourceError(f"source {source_name!r} has no record {oai_identifier!r}")
    return record


def record_counts(session: Session) -> dict[int, dict[str, int]]:
    """Per source id: live accepted, live rejected and deleted records."""
    rows = session.execute(select(HarvestedRecord.source_id, HarvestedRecord.deleted, HarvestedRecord.accepted,
                                  func.count()).group_by(HarvestedRecord.source_id, HarvestedRecord.deleted,
                                                         HarvestedRecord.accepted))
    out: dict[int, dict[str, int]] = {}
    for source_id, deleted, accepted, n in rows:
        slot = out.setdefault(source_id, {"accepted": 0, "rejected": 0, "deleted": 0})
        slot["deleted" if deleted else "accepted" if accepted else "rejected"] += n
    return out


# -- deduplication ---------------------------------------------------------------------------------

class DedupRecord(NamedTuple):
    """A record as clustering sees it: its features and blocking keys, its source and institution.

    A named tuple rather than a frozen dataclass: a full refresh makes a million of them, and a
    frozen dataclass sets each field through ``object.__setattr__`` (3.4 s of a profiled
    1,000,000-record read).
    """

    id: int
    source: str
    features: dict[str, Any]
    keys: tuple[str, ...]


def queue_for_dedup(session: Session, record_ids: Sequence[int]) -> None:
    """Queue records for the next refresh; a record queued twice is re-clustered once."""
    insert_rows(session, DedupPending.__tablename__, ("record_id",), [(rid,) for rid in record_ids])


DEDUP_LOCK_KEY = 0x48594C4C41  # "HYLLA": the advisory lock two concurrent refreshes would otherwise race for


@dataclass(frozen=True, slots=True)
class Pending:
    """What a refresh read of the queue: the records to re-cluster and the entries to delete when done."""

    record_ids: list[int]
    entries: list[int]


def pending_dedup(session: Session) -> Pending:
    """The queue, read by a refresh that holds the refresh lock (on PostgreSQL: one refresh at a time)."""
    if session.get_bind().dialect.name == "postgresql":  # SQLite's single writer serialises refreshes already
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": DEDUP_LOCK_KEY})
    rows = session.execute(select(DedupPending.id, DedupPending.record_id).order_by(DedupPending.id)).all()
    return Pending(sorted({rid for _, rid in rows}), [entry for entry, _ in rows])


def mark_clustered(session: Session, pending: Pending) -> None:
    """Delete the queue entries a refresh read, and only those: one range for each run of consecutive ids.

    An entry committed after the refresh read the queue (on PostgreSQL another harvest can) has
    an id the refresh did not read, inside no run, so it stays for the next refresh.
    """
    for first, last in _runs(pending.entries):
        session.execute(delete(DedupPending).where(DedupPending.id.between(first, last)))


def _runs(ids: Sequence[int]) -> Iterator[tuple[int, int]]:
    """Runs of consecutive integers in sorted ``ids``, as (first, last)."""
    start = None
    for i, value in enumerate(ids):
        if start is None:
            start = value
        if i + 1 == len(ids) or ids[i + 1] != value + 1:
            yield start, value
            start = None


def count_live(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(HarvestedRecord)
                          .where(HarvestedRecord.deleted.is_(False), HarvestedRecord.accepted.is_(True))) or 0


def neighbourhood(session: Session, record_ids: Sequence[int]) -> set[int]:
    """``record_ids``, every record sharing a blocking key with them, and every work-mate of all those.

    Unchanged pairs outside this set compare as they did, so re-clustering it alone is exact.
    """
    found = set(record_ids)
    for chunk in _chunks(list(record_ids)):
        keys = select(BlockingKey.key).where(BlockingKey.record_id.in_(chunk))
        found.update(session.scalars(select(BlockingKey.record_id).where(BlockingKey.key.in_(keys))))
    mates: set[int] = set()
    for chunk in _chunks(list(found)):
        works = select(WorkMembership.work_id).where(WorkMembership.record_id.in_(chunk))
        mates.update(session.scalars(select(WorkMembership.record_id).where(WorkMembership.work_id.in_(works))))
    return found | mates


def dedup_records(session: Session, record_ids: Sequence[int] | None) -> list[DedupRecord]:
    """Live accepted records (of ``record_ids``, or all when None) with their features and keys.

    Read as the driver's tuples (``_plain_rows``), features as JSON text decoded here: a full
    refresh reads a million records and their keys, and the ORM's per-row work, then Core's, were
    a fifth of reading.
    """
    base = (select(HarvestedRecord.id, Source.name, cast(HarvestedRecord.match_features, Text))
            .join(Source, Source.id == HarvestedRecord.source_id)
            .where(HarvestedRecord.deleted.is_(False), HarvestedRecord.accepted.is_(True),
                   HarvestedRecord.match_features.is_not(None)))
    # Keys in code point order (Python's sort; PostgreSQL's "C" collation, SQLite's binary one), so
    # that a record's keys, and so its work's cluster key, are the same on both databases.
    key_order = BlockingKey.key.collate("C") if session.get_bind().dialect.name == "postgresql" else BlockingKey.key
    keyed = select(BlockingKey.record_id, BlockingKey.key).order_by(BlockingKey.record_id, key_order)
    if record_ids is None:
        rows = _plain_rows(session, base.order_by(HarvestedRecord.id))
        key_rows = _plain_rows(session, keyed)
    else:
        rows, key_rows = [], []
        for chunk in _chunks(sorted(record_ids)):
            rows += _plain_rows(session, base.where(HarvestedRecord.id.in_(chunk)))
            key_rows += _plain_rows(session, keyed.where(BlockingKey.record_id.in_(chunk)))
    keys = {rid: tuple(map(_second, group)) for rid, group in itertools.groupby(key_rows, _first)}
    return [DedupRecord(rid, source, orjson.loads(features), keys.get(rid, ())) for rid, source, features in rows]


_first, _second = operator.itemgetter(0), operator.itemgetter(1)


def _plain_rows(session: Session, stmt: Select[Any]) -> list[tuple[Any, ...]]:
    """Every row of ``stmt`` as the driver's own tuples, its parameters inlined as literals.

    For reads of millions of rows of plain columns (ids, text), where SQLAlchemy's per-row result
    handling costs about as much as the database's reading: a full refresh reads 3.8 million.
    """
    connection = session.connection()
    compiled = stmt.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True})
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(str(compiled))
        return cursor.fetchall()
    finally:
        cursor.close()


def record_texts(session: Session, record_ids: Sequence[int]) -> dict[int, str]:
    """The records' JSON as text, not decoded: ``record_dicts`` decodes it, or another process does."""
    out: dict[int, str] = {}
    for chunk in _chunks(list(record_ids)):
        out.update(session.execute(select(HarvestedRecord.id, cast(HarvestedRecord.record, Text))
                                   .where(HarvestedRecord.id.in_(chunk))).all())
    return out


def record_dicts(session: Session, record_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    return decode_records(record_texts(session, record_ids))


def decode_records(texts: dict[int, str]) -> dict[int, dict[str, Any]]:
    return {rid: orjson.loads(text) for rid, text in texts.items()}


def merge_decisions(session: Session, record_ids: Iterable[int] | None = None) -> list[MergeDecision]:
    stmt = select(MergeDecision).order_by(MergeDecision.id)
    if record_ids is None:
        return list(session.scalars(stmt))
    found: dict[int, MergeDecision] = {}
    for chunk in _chunks(list(record_ids)):
        for d in session.scalars(stmt.where(MergeDecision.record_a_id.in_(chunk) | MergeDecision.record_b_id.in_(chunk))):
            found[d.id] = d
    return [found[i] for i in sorted(found)]


def decide(session: Session, record_a: int, record_b: int, decision: str, who: str, comment: str | None) -> MergeDecision:
    """Record (or overturn) the operator's verdict on a pair, and mark both records for re-clustering."""
    if record_a == record_b:
        raise SourceError("a merge decision needs two different records")
    a, b = sorted((record_a, record_b))
    for rid in (a, b):
        if session.get(HarvestedRecord, rid) is None:
            raise SourceError(f"no harvested record with id {rid}")
    found = session.scalar(select(MergeDecision).where(MergeDecision.record_a_id == a, MergeDecision.record_b_id == b))
    if found is None:
        found = MergeDecision(record_a_id=a, record_b_id=b)
        session.add(found)
    found.decision, found.decided_by, found.comment, found.decided_at = decision, who, comment, utc_now()
    queue_for_dedup(session, (a, b))
    session.flush()
    return found


def current_works(session: Session, record_ids: Sequence[int]) -> dict[int, set[int]]:
    """Work id -> member record ids, for the works any of ``record_ids`` belongs to."""
    works: dict[int, set[int]] = {}
    for chunk in _chunks(list(record_ids)):
        rows = session.execute(select(WorkMembership.work_id, WorkMembership.record_id)
                               .where(WorkMembership.work_id.in_(select(WorkMembership.work_id)
                                                                 .where(WorkMembership.record_id.in_(chunk)))))
        for work_id, rid in rows:
            works.setdefault(work_id, set()).add(rid)
    return works


def all_works(session: Session) -> dict[int, set[int]]:
    works: dict[int, set[int]] = {}
    for work_id, rid in session.execute(select(WorkMembership.work_id, WorkMembership.record_id)):
        works.setdefault(work_id, set()).add(rid)
    return works


@dataclass(frozen=True, slots=True)
class WorkRow:
    """A work to write: its members with their reasons, its merged record and where each field came from."""

    cluster_key: str
    master_record_id: int
    merged: dict[str, Any]
    provenance: dict[str, Any]
    institutions: list[str]
    members: list[tuple[int, str, str]]  # record id, reason, decided_by
    open_access: bool = False  # some member says its full text is free


# harvest_works' columns as a WorkBatch carries them (the id first in an insert, last in an update).
WORK_COLUMNS = ("cluster_key", "master_record_id", "merged", "provenance", "institutions", "record_count", "updated",
                "year", "publication_type", "sort_title", "search_text")


@dataclass(frozen=True, slots=True)
class WorkBatch:
    """Works with their memberships and facet rows, as the database driver takes them (JSON as text).

    Everything per row (columns, facet values, JSON encoding) is done where the batch is built,
    which after a large harvest is another process (``dedup``'s builder): the writing process
    only hands the tuples to the driver.
    """

    new: list[tuple[Any, ...]]  # id, *WORK_COLUMNS
    kept: list[tuple[Any, ...]]  # *WORK_COLUMNS, id: rewritten in place, so links to the work hold
    memberships: list[tuple[int, int, str, str]]  # work id, record id, reason, decided_by
    facets: list[tuple[int, str, str]]  # work id, facet, value


def write_time(session: Session) -> Any:
    """Now, as the driver stores harvest_works.updated (SQLite: text): one value for a refresh's works."""
    return _driver_value(session, Work.__table__.c.updated)(utc_now())


def work_batch(rows: Iterable[tuple[int, bool, WorkRow]], updated: Any) -> WorkBatch:
    """The batch for ``rows`` (work id, whether it is new, the work), stamped ``updated`` (see ``write_time``).

    A work of one record stores no merged record: its record is it (see ``Work.merged``).
    """
    batch = WorkBatch([], [], [], [])
    for work_id, is_new, row in rows:
        columns = bibliography.work_columns(row.merged)
        values = (row.cluster_key[:300], row.master_record_id, json_text(row.merged) if len(row.members) > 1 else None,
                  json_text(row.provenance), json_text(row.institutions), len(row.members), updated, columns["year"],
                  columns["publication_type"], columns["sort_title"], columns["search_text"])
        if is_new:
            batch.new.append((work_id, *values))
        else:
            batch.kept.append((*values, work_id))
        batch.memberships.extend((work_id, rid, reason, by) for rid, reason, by in row.members)
        batch.facets.extend((work_id, facet, value)
                            for facet, value in bibliography.facet_values(row.merged, row.institutions, row.open_access))
    return batch


def clear_works(session: Session, drop: Sequence[int], rewrite: Sequence[int]) -> None:
    """Delete the works in ``drop`` and the memberships of those in ``rewrite`` before they are rewritten."""
    for chunk in _chunks(list(drop) + list(rewrite)):
        session.execute(delete(WorkMembership).where(WorkMembership.work_id.in_(chunk)))
        session.execute(delete(WorkFacet).where(WorkFacet.work_id.in_(chunk)))
    for chunk in _chunks(list(drop)):
        session.execute(delete(Work).where(Work.id.in_(chunk)))


def write_works(session: Session, batch: WorkBatch) -> None:
    """Insert the new works, rewrite the kept ones, and add every membership and facet row of both."""
    insert_rows(session, Work.__tablename__, ("id", *WORK_COLUMNS), batch.new)
    if batch.kept:
        connection = session.connection()
        mark = _placeholder(connection)
        connection.exec_driver_sql(f"UPDATE {Work.__tablename__} SET {', '.join(f'{c} = {mark}' for c in WORK_COLUMNS)} "
                                   f"WHERE id = {mark}", batch.kept)
    insert_rows(session, WorkMembership.__tablename__, ("work_id", "record_id", "reason", "decided_by"),
                batch.memberships)
    insert_rows(session, WorkFacet.__tablename__, ("work_id", "facet", "value"), batch.facets)


def iter_works(session: Session, batch: int = 1000, where: ColumnElement[bool] | None = None,
               ) -> Iterator[tuple[Work, list[tuple[HarvestedRecord, WorkMembership]]]]:
    """Every work (that meets ``where``) with its member records and memberships, in id order, a batch at a time."""
    last = 0
    while True:
        stmt = select(Work).where(Work.id > last).order_by(Work.id).limit(batch)
        works = list(session.scalars(stmt.where(where) if where is not None else stmt))
        if not works:
            return
        members: dict[int, list[tuple[HarvestedRecord, WorkMembership]]] = {}
        rows = session.execute(select(HarvestedRecord, WorkMembership)
                               .join(WorkMembership, WorkMembership.record_id == HarvestedRecord.id)
                               .where(WorkMembership.work_id.in_([w.id for w in works]))
                               .order_by(HarvestedRecord.id))
        for record, membership in rows:
            members.setdefault(membership.work_id, []).append((record, membership))
        for work in works:
            yield work, members.get(work.id, [])
        last = works[-1].id
        session.expunge_all()  # a whole export must not pile every work and record up in the session


# -- the bibliography's pages --------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class WorkView:
    """A work with its members (record, membership, source name) and the operator decisions that touch them."""

    work: Work
    members: list[tuple[HarvestedRecord, WorkMembership]]
    decisions: list[MergeDecision]


def work_view(session: Session, work_id: int) -> WorkView:
    work = session.get(Work, work_id)
    if work is None:
        raise SourceError(f"no work with number {work_id} in the national bibliography")
    rows = session.execute(select(HarvestedRecord, WorkMembership)
                           .join(WorkMembership, WorkMembership.record_id == HarvestedRecord.id)
                           .where(WorkMembership.work_id == work_id).order_by(HarvestedRecord.id)).all()
    members = [(record, membership) for record, membership in rows]
    return WorkView(work, members, merge_decisions(session, [record.id for record, _ in members]))


def work_of_record(session: Session, record_id: int) -> int | None:
    return session.scalar(select(WorkMembership.work_id).where(WorkMembership.record_id == record_id))


def get_record_by_id(session: Session, record_id: int) -> HarvestedRecord:
    record = session.get(HarvestedRecord, record_id)
    if record is None:
        raise SourceError(f"no harvested record with number {record_id}")
    return record


def split_out(session: Session, work_id: int, record_id: int, who: str, comment: str | None) -> None:
    """Keep ``record_id`` apart from every other member of the work, now and after every later harvest."""
    view = work_view(session, work_id)
    others = [record.id for record, _ in view.members if record.id != record_id]
    if len(others) == len(view.members):
        raise SourceError(f"record {record_id} is not part of work {work_id}", {"record_id": "not in this work"})
    if not others:
        raise SourceError(f"work {work_id} has only record {record_id}: there is nothing to split",
                          {"record_id": "the only record of this work"})
    for other in others:
        decide(session, record_id, other, "force_split", who, comment)


def merge_works(session: Session, work_id: int, other_work_id: int, who: str, comment: str | None) -> None:
    """Join two works by a forced merge of their master records, honoured by every later clustering."""
    if work_id == other_work_id:
        raise SourceError("a work cannot be merged with itself", {"other_work": "that is this work"})
    mine, theirs = session.get(Work, work_id), session.get(Work, other_work_id)
    if mine is None:
        raise SourceError(f"no work with number {work_id}")
    if theirs is None:
        raise SourceError(f"no work with number {other_work_id}", {"other_work": f"there is no work {other_work_id}"})
    if mine.master_record_id is None or theirs.master_record_id is None:
        raise SourceError("one of the works has no master record to merge by")
    decide(session, mine.master_record_id, theirs.master_record_id, "force_merge", who, comment)


def sources_overview(session: Session, events_per_source: int = 10) -> list[tuple[Source, HarvestRun | None, dict[str, int], list[RunEvent]]]:
    """Every source with its newest run, its record counts and that run's last error events."""
    runs = latest_runs(session)
    counts = record_counts(session)
    out = []
    for source in list_sources(session):
        run = runs.get(source.id)
        events = []
        if run is not None:
            events = list(session.scalars(select(RunEvent).where(RunEvent.run_id == run.id, RunEvent.level == "error")
                                          .order_by(RunEvent.id.desc()).limit(events_per_source)))
        out.append((source, run, counts.get(source.id, {"accepted": 0, "rejected": 0, "deleted": 0}), events))
    return out


def source_runs(session: Session, source_id: int, limit: int = 50) -> list[HarvestRun]:
    return list(session.scalars(select(HarvestRun).where(HarvestRun.source_id == source_id)
                                .order_by(HarvestRun.id.desc()).limit(limit)))
