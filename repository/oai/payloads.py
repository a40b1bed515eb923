"""Records as the provider writes them, kept between harvests so a list page streams stored bytes.

Building a record (reading its parts, its read model, the crosswalk) was nearly all of a
ListRecords page's time: some 200 µs a record of Python, which holds a full harvest near 2,000
records a second however fast the rest is. A harvest reads the same unchanged records again and
again (every harvester, every format, every full re-harvest), so each record is written once per
format and kept in ``oai_payloads``: its ``<metadata>`` content as bytes and the facts its header
needs (units, open access, SwePub's verdict, whether the format can write it at all).

A kept copy is served only while it is exactly what the record would give now:

- the record's datestamp is the one it was written at (every public change moves the datestamp,
  which is what OAI-PMH harvesters rely on too);
- its ``generation`` is the current one: a digest of the code that writes records (``exports``,
  the read-model builders, ``formats``) and of the site settings that go into them (base URL,
  OAI namespace), so an upgrade or a new ``BASE_URL`` makes every copy stale at once;
- the day lies within the copy's embargo window (``Publication.embargo_window``): embargoes are the
  one way a record changes with the calendar alone.

Anything else is written anew from the database and the copy replaced, in the request's own
transaction after its reads (``save``); a write that cannot be made (a read-only replica, a
database busy with a long load) is logged and skipped, since the response has what it needs.
``flask oai warm`` writes every record ahead of the first harvest.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import logging
import sys
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import lxml
from sqlalchemy import ColumnElement, Select, and_, bindparam, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

import exports
from exports import readmodel as rm
from repository.models import OaiPayload, Publication
from repository.oai.formats import MetadataFormat, Written, write
from repository.oai.queries import off_state_index
from repository.permissions import oai_filter
from repository.services import readmodel, readmodels_bulk
from repository.services.readmodel import Site
from repository.services.readmodels_bulk import among, id_list, read_models

log = logging.getLogger(__name__)
T = OaiPayload


def _source_files(modules: Iterable[ModuleType], packages: Iterable[ModuleType]) -> list[Path]:
    files = [Path(m.__file__ or "") for m in modules]
    for package in packages:
        root = Path(package.__file__ or "").parent
        files += [p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    return sorted(files)


@functools.cache
def _code_digest() -> str:
    """A digest of everything that decides how a record is written: crosswalks, vocabularies, read
    models, and ``formats`` (which writes a record with its header's facts)."""
    digest = hashlib.sha256(lxml.__version__.encode())
    modules = (readmodel, readmodels_bulk, sys.modules[MetadataFormat.__module__])
    for path in _source_files(modules, (exports,)):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


@functools.cache
def generation(site: Site) -> str:
    """What a kept copy must have been written with to be served: this code, this site."""
    return hashlib.sha256(f"{_code_digest()}\n{site.base_url}\n{site.oai_namespace}".encode()).hexdigest()[:32]


@functools.lru_cache(maxsize=8)
def _fetch_statement(dialect: str, with_xml: bool) -> Select[Any]:
    columns = [T.publication_id, T.datestamp, T.valid_from, T.valid_until, T.available, T.swepub, T.open_access,
               T.unit_ids, *([T.xml] if with_xml else [])]
    return select(*columns).where(
        T.metadata_prefix == bindparam("prefix"), T.generation == bindparam("generation"),
        among(T.publication_id, id_list("ids", dialect), dialect))


def _units(text: str) -> frozenset[int]:
    return frozenset(map(int, text.split())) if text else frozenset()


class Payloads:
    """The records of one request in one format: kept copies where exact, the rest written now.

    ``get`` may be called for several batches; what it had to write waits in memory until
    ``save`` puts it in the database, once per request, after every read.
    """

    def __init__(self, session: Session, site: Site, metadata_format: MetadataFormat, today: dt.date,
                 unit_ids_by_path: Mapping[str, int]) -> None:
        self.session = session
        self.site = site
        self.format = metadata_format
        self.today = today
        self.unit_ids_by_path = unit_ids_by_path
        self.generation = generation(site)
        self._pending: list[dict[str, Any]] = []

    def get(self, rows: Collection[tuple[int, dt.datetime]],
            models: dict[int, rm.Publication] | None = None) -> dict[int, Written]:
        """The written records of ``rows`` ((id, current datestamp) of records that are not deleted).

        ``models``: read models already built (several formats written from one batch share
        them); those this call has to build are added to it.
        """
        if not rows:
            return {}
        kept = self._current(rows, with_xml=True)
        missing = [pub_id for pub_id, _ in rows if pub_id not in kept]
        models = {} if models is None else models
        models.update(read_models(self.session.connection(), [i for i in missing if i not in models], self.site))
        for pub_id in missing:
            model = models[pub_id]
            kept[pub_id] = written = write(model, self.format, self.today, self.unit_ids_by_path)
            self._remember(model, written)
        return kept

    def facts(self, rows: Collection[tuple[int, dt.datetime]]) -> dict[int, Written]:
        """What the current copies of ``rows`` tell a header, without their payloads (``xml`` empty);
        records without a current copy are left out, for the caller to judge otherwise."""
        return self._current(rows, with_xml=False) if rows else {}

    def _current(self, rows: Collection[tuple[int, dt.datetime]], *, with_xml: bool) -> dict[int, Written]:
        datestamps = dict(rows)
        conn = self.session.connection()
        values = {"prefix": self.format.prefix, "generation": self.generation, "ids": sorted(datestamps)}
        current: dict[int, Written] = {}
        for pub_id, datestamp, first, end, available, swepub, open_access, units, *xml in conn.execute(
                _fetch_statement(conn.dialect.name, with_xml), values).all():
            if datestamp == datestamps[pub_id] and (first is None or first <= self.today) and \
                    (end is None or self.today < end):
                current[pub_id] = Written(bytes(xml[0]) if xml else b"", available, swepub, open_access,
                                          _units(units))
        return current

    def take_written(self) -> list[dict[str, Any]]:
        """The copies written since the last call, as rows for ``keep``, let go of here."""
        pending, self._pending = self._pending, []
        return pending

    def _remember(self, model: rm.Publication, written: Written) -> None:
        first, end = model.embargo_window(self.today)
        self._pending.append({
            "publication_id": model.id, "metadata_prefix": self.format.prefix, "generation": self.generation,
            # The read model's own datestamp, read in the same statement as its columns: should the
            # record change meanwhile, the copy is keyed to the older datestamp and never served.
            "datestamp": model.datestamp, "valid_from": first, "valid_until": end,
            "available": written.available, "swepub": written.swepub, "open_access": written.open_access,
            "unit_ids": " ".join(map(str, sorted(written.unit_ids))), "xml": written.xml,
        })

    def save(self) -> int:
        """Keep what this request wrote (committing the request's transaction); the number of copies kept."""
        pending = self.take_written()
        if not pending:
            return 0
        try:
            keep(self.session, pending)
            self.session.commit()
        except DBAPIError as exc:
            self.session.rollback()
            log.warning("oai payloads not kept (%d records, served all the same): %s", len(pending), exc.orig)
            return 0
        return len(pending)


def keep(session: Session, rows: list[dict[str, Any]]) -> None:
    """Insert or replace copies, in one statement for the batch.

    In id order, so that two requests keeping overlapping records take their row locks in the
    same order (PostgreSQL) instead of deadlocking.
    """
    rows = sorted(rows, key=lambda row: (row["publication_id"], row["metadata_prefix"]))
    conn = session.connection()
    insert = postgresql.insert(T) if conn.dialect.name == "postgresql" else sqlite.insert(T)
    columns = ("generation", "datestamp", "valid_from", "valid_until", "available", "swepub", "open_access",
               "unit_ids", "xml")
    statement = insert.on_conflict_do_update(
        index_elements=[T.publication_id, T.metadata_prefix],
        set_={name: getattr(insert.excluded, name) for name in columns})
    conn.execute(statement, rows)


def _shown_with_metadata(now: dt.datetime) -> ColumnElement[bool]:
    """The records OAI-PMH shows with a payload: public now (deleted ones have headers only)."""
    return and_(oai_filter(now), Publication.state == "published")


def records_to_warm(session: Session, now: dt.datetime) -> int:
    """How many records ``warm`` walks (for its progress bar)."""
    return session.scalar(select(func.count()).select_from(Publication).where(_shown_with_metadata(now))) or 0


@dataclass(frozen=True, slots=True)
class Warmed:
    records: int  # records OAI-PMH shows with metadata
    written: int  # payloads written (missing or stale); the rest were current


def warm(session: Session, site: Site, formats: Collection[MetadataFormat], now: dt.datetime,
         unit_ids_by_path: Mapping[str, int], *, batch_size: int = 500,
         progress: Callable[[int], None] | None = None) -> Warmed:
    """Write every record that OAI-PMH shows with metadata, in each of ``formats``, whose kept copy
    is missing or stale, batch by batch in id order, each batch committed: ahead of a first harvest,
    after an upgrade or a change of ``BASE_URL``. Records are read once per batch for all formats."""
    today = now.astimezone(dt.timezone.utc).date()
    shown = _shown_with_metadata(now)
    last = session.scalar(select(func.max(Publication.id))) or 0
    records, written = 0, 0
    # Windows of ids, so each batch is a range of the primary key (SQLite, told to keep off the
    # state index, would otherwise read every published row through it for each batch).
    for start in range(1, last + 1, batch_size):
        window = and_(Publication.id >= start, Publication.id < start + batch_size)
        conn = session.connection()
        rows = [tuple(r) for r in conn.execute(
            select(Publication.id, Publication.datestamp).where(
                window, off_state_index(shown) if conn.dialect.name == "sqlite" else shown).order_by(Publication.id))]
        if not rows:
            continue
        models: dict[int, rm.Publication] = {}
        new_rows = []
        for metadata_format in formats:
            store = Payloads(session, site, metadata_format, today, unit_ids_by_path)
            store.get(rows, models)
            new_rows += store.take_written()
        if new_rows:  # unlike a harvest's request, a failure here is the command's to report
            keep(session, new_rows)
        session.commit()
        written += len(new_rows)
        records += len(rows)
        if progress:
            progress(len(rows))
    return Warmed(records, written)
