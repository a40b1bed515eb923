"""Assembling one page of records: the keyset rows, each record's sets, the checks SQL leaves to Python.

Most of a page is decided by SQL (``queries.page`` returns exactly the rows of the set). Two
questions are answered per record in Python when SQL cannot settle them exactly: whether a
published record passes SwePub's minimum level (its ``SwePub-*`` set) and whether it can be
written as swepub_mods (it needs a URI). A record that fails is skipped and the walk goes on
past it, so a page still ends at a true position and the next page starts right after it; a
page ends with ``more`` only when another qualifying record exists, so the last page of a list
is never followed by an empty one.

A page's facts (units, open access, what SQL can vouch for about SwePub and URIs) are one
statement (``queries.page_facts``), and the read models of the records it shows, or that a
check must judge in Python, are built together from Core rows (``readmodels_bulk``): a page of
100 records costs the same fixed number of queries at any depth and any repository size.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from exports import readmodel as rm
from exports.quality import minimum_level
from exports.readmodel import STUDENT_THESIS
from repository.oai import queries
from repository.oai.formats import MetadataFormat
from repository.oai.queries import ListFilter, Row
from repository.oai.sets import RecordSets, SetCatalogue
from repository.services.readmodel import Site
from repository.services.readmodels_bulk import read_models


def passes_swepub_minimum_level(pub: rm.Publication) -> bool:
    return not any(problem.severity == "reject" for problem in minimum_level(pub))


@dataclass(slots=True)
class Entry:
    """A record on the page: its row, its header's setSpecs and, for records shown with metadata, its read model."""

    row: Row
    set_specs: tuple[str, ...]
    model: rm.Publication | None = field(default=None, repr=False)

    def take_model(self) -> rm.Publication:
        """The read model, let go of as it is handed over (a page's records leave memory as they are written)."""
        model = self.model
        if model is None:
            raise ValueError(f"record {self.row.id} was not loaded, so it has no read model")
        self.model = None
        return model


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

        With metadata, every row of the batch is loaded, the look-ahead row included (when a row
        before it is skipped, the look-ahead row is shown on this page), and its facts are read
        off its read model. Without, SQL answers them and read models are built only for the
        records whose SwePub level or URI it cannot vouch for.
        """
        if not rows:
            return []
        published = [r.id for r in rows if not r.deleted]
        if self.with_metadata:
            models = read_models(self.session, [r.id for r in rows], self.site)
            facts = self._facts_of(models)
        else:
            candidates = [r.id for r in rows if not r.deleted and self._may_be_swepub(r)]
            facts = queries.page_facts(self.session, [r.id for r in rows], self.today, swepub=candidates,
                                       record_uri=published if self.format.needs_record_uri else ())
            needed = {i for i in candidates if i not in facts.swepub_certain}
            if self.format.needs_record_uri:
                needed |= {i for i in published if i not in facts.uri_certain}
            models = read_models(self.session, needed, self.site)
        uri_sure = facts.uri_certain if self.format.needs_record_uri else set(published)
        judged: list[Entry | None] = []
        for row in rows:
            model = models.get(row.id)
            swepub = self._may_be_swepub(row) and (row.deleted or row.id in facts.swepub_certain
                                                  or passes_swepub_minimum_level(_loaded(row, model)))
            available = row.deleted or row.id in uri_sure or self.format.available_for(_loaded(row, model))
            if not available or (flt.selector is not None and flt.selector.kind == "swepub" and not swepub):
                judged.append(None)
                continue
            specs = self.catalogue.header_specs(RecordSets(
                row.publication_type, row.content_type, row.institution_id, facts.units.get(row.id, frozenset()),
                row.id in facts.open_access, swepub))
            judged.append(Entry(row, specs, model if self.with_metadata else None))
        return judged

    def _facts_of(self, models: dict[int, rm.Publication]) -> queries.PageFacts:
        """What ``queries.page_facts`` tells, read off the records' read models (the rules' own forms).

        A record's units are its work contributors' units (``org_units``), its open access the
        read model's own rule; SQL vouches for nothing, so SwePub and URIs are judged by the
        Python rules on each read model (1 ms for 100 records, where the statement costs 5 to 11).
        tests/unit/oai/test_sets.py checks that both ways give every record the same header.
        """
        by_path = self.catalogue.unit_ids_by_path
        return queries.PageFacts(
            units={pub_id: frozenset(by_path[u.path] for u in model.org_units if u.path in by_path)
                   for pub_id, model in models.items() if model.org_units},
            open_access={pub_id for pub_id, model in models.items() if model.is_open_access_on(self.today)},
            swepub_certain=set(), uri_certain=set())

    def _may_be_swepub(self, row: Row) -> bool:
        """Rule 01 (the institution's code) and "no student theses": what the catalogue and the row tell."""
        return row.publication_type != STUDENT_THESIS and row.institution_id in self.catalogue.swepub_specs


def _loaded(row: Row, model: rm.Publication | None) -> rm.Publication:
    if model is None:
        raise ValueError(f"record {row.id} was not loaded, so it has no read model")
    return model
