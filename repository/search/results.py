"""Running a public search for a page, the API or a feed: hits as read models, facets with labels.

The web layer hands over the request's parameters and gets back everything it renders; it
never sees a backend, a query tree or the ORM.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup
from sqlalchemy import select

from exports import readmodel as rm
from exports import vocabularies
from repository import search
from repository.db import session
from repository.models import Institution, OrgUnit, Person, Publication
from repository.permissions import public_filter
from repository.search.highlight import Highlighter
from repository.search.query import is_identifier_lookup, positive_text
from repository.search.service import FILTERS, FacetCount, Plan, SearchResult, plan
from repository.services.readmodel import Site, to_read_model

HIERARCHICAL = {"unit", "subject"}


@dataclass(frozen=True, slots=True)
class FacetValue:
    value: str
    label: str
    count: int
    selected: bool
    depth: int = 0


@dataclass(frozen=True, slots=True)
class Hit:
    pub: rm.Publication
    title: Markup
    snippet: Markup | None


@dataclass
class Page:
    plan: Plan
    result: SearchResult
    hits: list[Hit]
    facets: dict[str, list[FacetValue]] = field(default_factory=dict)
    identifier_lookup: bool = False

    @property
    def total(self) -> int:
        return self.result.total


def request_filters(args: Mapping[str, Any]) -> dict[str, list[str]]:
    """The facet filters of a query string (``type=art&type=kon&unit=uu:teknat``)."""
    getlist = getattr(args, "getlist", None)
    out: dict[str, list[str]] = {}
    for name in FILTERS:
        values = getlist(name) if getlist else ([args[name]] if name in args else [])
        if values:
            out[name] = list(values)
    return out


def run(q: str, filters: Mapping[str, list[str]], *, sort: str | None, size: int, page: int, cursor: str | None,
        site: Site, facets: bool = True, labels: Mapping[str, Mapping[str, str]] | None = None) -> Page:
    """One page of a public search; ``QueryError`` for any parameter it cannot honour."""
    p = plan(q, filters, sort=sort, size=size, page=page, cursor=cursor, facets=facets)
    result = search.run(session, p)
    pubs = load(result.ids, site)
    marker = Highlighter(positive_text(p.node))
    hits = [Hit(pub, marker.mark(pub.title.full()),
                next((s for a in pub.abstracts if (s := marker.snippet(a.text))), None) if marker else None)
            for pub in pubs]
    return Page(p, result, hits, facet_values(result.facets, p.filters, labels or {}), is_identifier_lookup(p.node))


def load(ids: list[int], site: Site) -> list[rm.Publication]:
    """Read models of ``ids`` in that order, skipping any that stopped being public meanwhile."""
    if not ids:
        return []
    found = {p.id: p for p in session.scalars(select(Publication).where(Publication.id.in_(ids), public_filter()))}
    return [to_read_model(found[i], site) for i in ids if i in found]


def facet_values(counts: dict[str, list[FacetCount]], filters: Mapping[str, tuple[str, ...]],
                 labels: Mapping[str, Mapping[str, str]]) -> dict[str, list[FacetValue]]:
    """Counts as the search page lists them: labelled, and for trees one level below the choice."""
    units = unit_names([c.value for c in counts.get("unit", [])])
    out: dict[str, list[FacetValue]] = {}
    for name, items in counts.items():
        chosen = set(filters.get(name, ()))
        if name in HIERARCHICAL:
            items = _level(name, items, chosen)
        values = []
        for c in items:
            values.append(FacetValue(c.value, label(name, c.value, units, labels), c.count, c.value in chosen, depth(name, c.value)))
        if values:
            out[name] = values
    return out


def depth(name: str, value: str) -> int:
    if name == "unit":
        return value.count(":")
    if name == "subject":
        return {1: 0, 3: 1, 5: 2}.get(len(value), 0)
    return 0


def _parent(name: str, value: str) -> str | None:
    if name == "unit":
        return value.rpartition(":")[0] or None
    return {1: None, 3: value[:1], 5: value[:3]}.get(len(value))


def _level(name: str, items: list[FacetCount], chosen: set[str]) -> list[FacetCount]:
    """The chosen nodes, their ancestors, and the children of the deepest choice (or the roots)."""
    deepest = max(chosen, key=lambda v: depth(name, v), default=None)
    keep: set[str] = set()
    node = deepest
    while node:
        keep.add(node)
        node = _parent(name, node)
    chain = sorted((c for c in items if c.value in keep), key=lambda c: depth(name, c.value))
    return chain + [c for c in items if _parent(name, c.value) == deepest]  # already most frequent first


def unit_names(paths: list[str]) -> dict[str, str]:
    if not paths:
        return {}
    names = {path: name for path, name in session.execute(select(OrgUnit.path, OrgUnit.name)
                                                          .where(OrgUnit.path.in_(paths)))}
    names.update((code, name) for code, name in session.execute(select(Institution.code, Institution.name)
                                                                .where(Institution.code.in_(paths))))
    return names


def label(name: str, value: str, units: dict[str, str], labels: Mapping[str, Mapping[str, str]]) -> str:
    if name == "unit":
        return units.get(value, value)
    if name == "subject":
        return vocabularies.subject_labels(value)[0] or value
    if name == "language":
        return vocabularies.language_name(value)
    if name == "oa":
        return "Full text open access"
    return labels.get(name, {}).get(value, value)


EXPORT_CHUNK = 500


def export_records(q: str, filters: Mapping[str, list[str]], site: Site) -> Iterator[rm.Publication]:
    """Every record of a search as read models, newest first, read in chunks (memory stays flat).

    The query is checked before the first record is asked for, so a bad one is an error page
    rather than a cut-off download. The embedded index answers with a subquery; an external
    server lists the ids page by page.
    """
    p = plan(q, filters, sort="newest", size=200, facets=False)
    ids = search.backend(session).id_query(p)
    statement = (select(Publication).where(Publication.id.in_(ids), public_filter())
                 .order_by(Publication.issued_year.desc().nulls_last(), Publication.id.desc())
                 .execution_options(yield_per=EXPORT_CHUNK))

    def records() -> Iterator[rm.Publication]:
        for pub in session.scalars(statement):
            yield to_read_model(pub, site)

    return records()


PERSONS_PER_LETTER = 500


def persons_by_initial(letter: str) -> list[Person]:
    """People whose family name begins with ``letter``, for the browse-by-person page."""
    return list(session.scalars(select(Person).where(Person.family_name.startswith(letter))
                                .order_by(Person.family_name, Person.given_name, Person.id).limit(PERSONS_PER_LETTER)))


def person_name(person_id: str) -> str:
    """The name of a person chosen as a filter (their id when there is no such person)."""
    person = session.get(Person, int(person_id)) if person_id.isdigit() else None
    return person.display_name() if person is not None else person_id
