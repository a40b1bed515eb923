"""Assembling one page of records: the keyset rows, each record's sets, the checks SQL leaves to Python.

Most of a page is decided by SQL (``queries.page`` returns exactly the rows of the set). Two
questions are answered per record in Python when SQL cannot settle them exactly: whether a
published record passes SwePub's minimum level (its ``SwePub-*`` set) and whether it can be
written as swepub_mods (it needs a URI). A record that fails is skipped and the walk goes on
past it, so a page still ends at a true position and the next page starts right after it; a
page ends with ``more`` only when another qualifying record exists, so the last page of a list
is never followed by an empty one.

Read models are built from one batch load per page (``queries.load_publications``); building
them is deferred to the moment each record is written unless a check needs one first.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from exports import readmodel as rm
from exports.quality import minimum_level
from exports.readmodel import STUDENT_THESIS
from repository.models import Publication
from repository.oai import queries
from repository.oai.formats import MetadataFormat
from repository.oai.queries import ListFilter, Row
from repository.oai.sets import RecordSets, SetCatalogue
from repository.services.readmodel import Site, to_read_model


def passes_swepub_minimum_level(pub: rm.Publication) -> bool:
    return not any(problem.severity == "reject" for problem in minimum_level(pub))


@dataclass(slots=True)
class Entry:
    """A record on the page: its row, its header's setSpecs and, for records shown with metadata, its record."""

    row: Row
    set_specs: list[str]
    stored: Publication | None = None
    _read_model: rm.Publication | None = field(default=None, repr=False)

    def read_model(self, site: Site, *, keep: bool = True) -> rm.Publication:
        """The record's read model; ``keep=False`` (while streaming) lets it go once written."""
        if self._read_model is not None:
            return self._read_model
        if self.stored is None:
            raise ValueError(f"record {self.row.id} was not loaded, so it has no read model")
        made = to_read_model(self.stored, site)
        if keep:
            self._read_model = made
        return made


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

        With metadata, every published row of the batch is loaded, the look-ahead row included:
        when a row before it is skipped, the look-ahead row is shown on this page.
        """
        if not rows:
            return []
        ids = [r.id for r in rows]
        units = queries.units_of(self.session, ids)
        open_ids = queries.open_access(self.session, ids, self.today)
        published = [r for r in rows if not r.deleted]
        swepub_rows = [r for r in published if self._may_be_swepub(r)]
        swepub_sure = queries.swepub_certain(self.session, [r.id for r in swepub_rows])
        uri_sure = (queries.record_uri_certain(self.session, [r.id for r in published])
                    if self.format.needs_record_uri else {r.id for r in published})
        needed = {r.id for r in swepub_rows if r.id not in swepub_sure}
        needed |= {r.id for r in published if r.id not in uri_sure}
        if self.with_metadata:
            needed |= {r.id for r in published}
        stored = queries.load_publications(self.session, needed)
        judged: list[Entry | None] = []
        for row in rows:
            entry = Entry(row, [], stored.get(row.id))
            swepub = self._may_be_swepub(row) and (row.deleted or row.id in swepub_sure
                                                  or passes_swepub_minimum_level(entry.read_model(self.site)))
            available = row.deleted or row.id in uri_sure or self.format.available_for(entry.read_model(self.site))
            if not available or (flt.selector is not None and flt.selector.kind == "swepub" and not swepub):
                judged.append(None)
                continue
            entry.set_specs = self.catalogue.header_specs(RecordSets(
                row.publication_type, row.content_type, row.institution_id, units.get(row.id, frozenset()),
                row.id in open_ids, swepub))
            judged.append(entry)
        return judged

    def _may_be_swepub(self, row: Row) -> bool:
        """Rule 01 (the institution's code) and "no student theses": what the catalogue and the row tell."""
        inst = self.catalogue.institutions.get(row.institution_id)
        return row.publication_type != STUDENT_THESIS and inst is not None and inst.swepub_spec is not None
