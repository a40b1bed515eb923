"""Assembling one page of records: the keyset rows, each record's sets, the checks SQL leaves to Python.

Most of a page is decided by SQL (``queries.page`` returns exactly the rows of the set). Two
questions are answered per record in Python when SQL cannot settle them exactly: whether a
published record passes SwePub's minimum level (its ``SwePub-*`` set) and whether it can be
written as swepub_mods (it needs a URI). A record that fails is skipped and the walk goes on
past it, so a page still ends at a true position and the next page starts right after it; a
page ends with ``more`` only when another qualifying record exists, so the last page of a list
is never followed by an empty one.

With metadata (ListRecords, GetRecord) every record shown comes from ``payloads``: its kept
copy where that is still exact, else written now from its read model, with the facts its header
needs (units, open access, SwePub's verdict, whether the format can write it); deleted records'
facts come from the facts statement (``queries.page_facts``). Without (ListIdentifiers) the facts
of records with a current copy come from it, and of the others from the facts statement, read
models being built only for the records whose checks SQL cannot settle. Either way a page costs
the same fixed number of queries at any depth and any repository size.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from exports import readmodel as rm
from exports.readmodel import STUDENT_THESIS
from repository.oai import queries
from repository.oai.formats import MetadataFormat, Written, passes_swepub_minimum_level
from repository.oai.payloads import Payloads
from repository.oai.queries import ListFilter, Row
from repository.oai.sets import RecordSets, SetCatalogue
from repository.services.readmodel import Site
from repository.services.readmodels_bulk import read_models


@dataclass(slots=True)
class Entry:
    """A record on the page: its row, its header's setSpecs and, for records shown with metadata, its payload."""

    row: Row
    set_specs: tuple[str, ...]
    payload: bytes | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class Page:
    entries: list[Entry]
    more: bool


class PageBuilder:
    """Judges rows into entries for one request; holds what every batch of the request shares."""

    def __init__(self, session: Session, site: Site, now: dt.datetime, catalogue: SetCatalogue,
                 metadata_format: MetadataFormat, *, with_metadata: bool) -> None:
        self.session = session
        self.site = site
        self.now = now
        self.today = now.astimezone(dt.timezone.utc).date()
        self.catalogue = catalogue
        self.format = metadata_format
        self.with_metadata = with_metadata
        self.payloads = Payloads(session, site, metadata_format, self.today, catalogue.unit_ids_by_path)

    def save(self) -> None:
        """Keep the records this request had to write (see ``payloads``); after every read of the request."""
        self.payloads.save()

    def collect(self, flt: ListFilter, after: tuple[str, int] | None, limit: int) -> Page:
        """Up to ``limit`` entries after ``after``, and whether a further qualifying record exists."""
        entries: list[Entry] = []
        position = after
        while True:
            wanted = limit - len(entries) + 1
            rows = queries.page(self.session, self.now, flt, position, wanted)
            for row, entry in zip(rows, self.judge(rows, flt)):
                if entry is None:
                    position = (row.position, row.id)
                    continue
                if len(entries) == limit:
                    return Page(entries, True)
                entries.append(entry)
                position = (row.position, row.id)
            if len(rows) < wanted:
                return Page(entries, False)

    def judge(self, rows: list[Row], flt: ListFilter) -> list[Entry | None]:
        """An entry per row, or None for a row the request must skip.

        With metadata, every record shown is written (or its kept copy taken, see ``payloads``)
        and its facts come with it. Without, the facts of records with a current copy come from
        it, and for the others (and for deleted records, whose headers carry sets too) SQL answers
        them, read models being built only for the records whose SwePub level or URI it cannot
        vouch for.
        """
        if not rows:
            return []
        live = [(r.id, r.datestamp) for r in rows if not r.deleted]
        if self.with_metadata:
            written = self.payloads.get(live)
            facts = _with_kept(queries.page_facts(self.session, [r.id for r in rows if r.deleted], self.today),
                               written)
            return [self._entry(row, flt, written.get(row.id), facts) for row in rows]
        kept = self.payloads.facts(live)
        others = [r for r in rows if r.id not in kept]
        published = [r.id for r in others if not r.deleted]
        candidates = [r.id for r in others if not r.deleted and self._may_be_swepub(r)]
        facts = _with_kept(queries.page_facts(self.session, [r.id for r in others], self.today, swepub=candidates,
                                              record_uri=published if self.format.needs_record_uri else ()), kept)
        needed = {i for i in candidates if i not in facts.swepub_certain}
        if self.format.needs_record_uri:
            needed |= {i for i in published if i not in facts.uri_certain}
        models = read_models(self.session, needed, self.site)
        uri_sure = facts.uri_certain if self.format.needs_record_uri else set(published)
        judged: list[Entry | None] = []
        for row in rows:
            copy = kept.get(row.id)
            if copy is not None:
                judged.append(self._entry_of(row, flt, copy.available, copy.swepub, facts))
                continue
            model = models.get(row.id)
            swepub = row.deleted or row.id in facts.swepub_certain or \
                (self._may_be_swepub(row) and passes_swepub_minimum_level(_loaded(row, model)))
            available = row.deleted or row.id in uri_sure or self.format.available_for(_loaded(row, model))
            judged.append(self._entry_of(row, flt, available, swepub, facts))
        return judged

    def _entry(self, row: Row, flt: ListFilter, written: Written | None, facts: queries.PageFacts) -> Entry | None:
        if row.deleted:
            return self._entry_of(row, flt, True, True, facts)
        if written is None:
            raise ValueError(f"record {row.id} was not written, so it has no payload")
        entry = self._entry_of(row, flt, written.available, written.swepub, facts)
        if entry is not None:
            entry.payload = written.xml
        return entry

    def _entry_of(self, row: Row, flt: ListFilter, available: bool, swepub: bool,
                  facts: queries.PageFacts) -> Entry | None:
        """The row's entry given what the format and SwePub's rule say of it (None: not in this list)."""
        swepub = swepub and self._may_be_swepub(row)
        if not available or (flt.selector is not None and flt.selector.kind == "swepub" and not swepub):
            return None
        specs = self.catalogue.header_specs(RecordSets(
            row.publication_type, row.content_type, row.institution_id, facts.units.get(row.id, frozenset()),
            row.id in facts.open_access, swepub))
        return Entry(row, specs)

    def _may_be_swepub(self, row: Row) -> bool:
        """Rule 01 (the institution's code) and "no student theses": what the catalogue and the row tell."""
        return row.publication_type != STUDENT_THESIS and row.institution_id in self.catalogue.swepub_specs


def _loaded(row: Row, model: rm.Publication | None) -> rm.Publication:
    if model is None:
        raise ValueError(f"record {row.id} was not loaded, so it has no read model")
    return model


def _with_kept(facts: queries.PageFacts, kept: dict[int, Written]) -> queries.PageFacts:
    """SQL's facts about some of a page's records, with what the current copies of the others tell.

    tests/unit/oai/test_sets.py checks that ListRecords and ListIdentifiers, with copies kept or
    not, give every record the same header.
    """
    units = dict(facts.units)
    units.update((pub_id, w.unit_ids) for pub_id, w in kept.items() if w.unit_ids)
    return queries.PageFacts(units=units, open_access=facts.open_access | {i for i, w in kept.items() if w.open_access},
                             swepub_certain=facts.swepub_certain, uri_certain=facts.uri_certain)
