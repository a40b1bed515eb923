"""Search documents built from the publication tables with a dozen set-based queries per batch.

One builder serves the per-commit hook, the bulk (re)index after a demo load and the external
server's feed, so the embedded and the OpenSearch index can never disagree on what a record says.
It reads with Core SQL instead of the ORM: a thousand records cost twelve queries, not twelve
thousand objects.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Text, select, type_coerce
from sqlalchemy.sql import ColumnElement

from exports import readmodel as rm
from exports import vocabularies
from repository.models import (
    Abstract, Contributor, ContributorAffiliation, Institution, Keyword, OrgUnit, PersonNameForm,
    Publication, PublicationIdentifier, PublicationLanguage, PublicationSubject, PublicationTitle,
    SeriesMembership, StoredFile, ThesisDetails,
)
from repository.search.query import fold, identifier_key

OPEN_ALWAYS = dt.date(1900, 1, 1)  # open_from of a full text that was never embargoed
SORT_TITLE_LENGTH = 255


@dataclass
class Document:
    """One public record as every backend indexes it."""

    publication_id: int
    institution_code: str
    publication_type: str
    content_type: str | None
    year: int | None
    thesis_level: str | None
    open_from: dt.date | None
    public_from: dt.datetime | None
    published_at: dt.datetime
    sort_date: int
    sort_title: str
    title_text: str
    names_text: str
    subject_text: str
    abstract_text: str
    other_text: str
    values: dict[str, list[str]] = field(default_factory=dict)  # facet -> exact keys
    # (name, ORCID, person id, roles as JSON text or list) of each author-side contributor
    contributors: list[tuple[str, str | None, int | None, Any]] = field(default_factory=list)

    def row(self, now: dt.datetime) -> dict[str, Any]:
        """The columns of ``search_documents``."""
        return {
            "publication_id": self.publication_id, "institution_code": self.institution_code,
            "publication_type": self.publication_type, "content_type": self.content_type, "year": self.year,
            "thesis_level": self.thesis_level, "open_from": self.open_from, "public_from": self.public_from,
            "published_at": self.published_at, "sort_date": self.sort_date, "sort_title": self.sort_title,
            "title_text": self.title_text, "names_text": self.names_text, "subject_text": self.subject_text,
            "abstract_text": self.abstract_text, "other_text": self.other_text, "indexed_at": now,
        }

    def value_rows(self) -> list[dict[str, Any]]:
        return [{"facet": f, "value": v, "publication_id": self.publication_id}
                for f, values in self.values.items() for v in values]


def sort_date(year: int | None, month: int | None, day: int | None) -> int:
    return (year or 0) * 10000 + (month or 0) * 100 + (day or 0)


def sort_title(title: str) -> str:
    return " ".join(fold(title).split())[:SORT_TITLE_LENGTH]


@functools.lru_cache(maxsize=4096)
def unit_paths(path: str) -> tuple[str, ...]:
    """A unit and every unit above it: "uu:teknat:kemi" -> uu, uu:teknat, uu:teknat:kemi."""
    parts = path.split(":")
    return tuple(":".join(parts[:i]) for i in range(1, len(parts) + 1))


@functools.lru_cache(maxsize=4096)
def subject_codes(code: str) -> tuple[str, ...]:
    """An SSIF code with its 1- and 3-digit parents, so a broad subject counts its narrow ones."""
    return tuple(c for c in dict.fromkeys((code[:1], code[:3], code)) if len(c) in (1, 3, 5))


@functools.lru_cache(maxsize=4096)
def _subject_words(code: str) -> tuple[str, ...]:
    return tuple(label for label in vocabularies.subject_labels(code) if label)


@functools.lru_cache(maxsize=65536)
def _cached_identifier_key(scheme: str, value: str) -> str:
    """Journal ISSNs and series repeat across thousands of records: check each once."""
    try:
        return identifier_key(scheme, value)[:512]
    except ValueError:
        return f"{scheme}:{value.strip().lower()}"[:512]  # as deposited: still findable by itself


def _grouped(conn: Connection, stmt: Any) -> dict[int, list[Any]]:
    """Rows by their first column (the publication id)."""
    out: dict[int, list[Any]] = defaultdict(list)
    for row in conn.execute(stmt).all():
        out[row[0]].append(row)
    return out


def build_documents(conn: Connection, ids: Sequence[int]) -> tuple[list[Document], list[int]]:
    """Documents for the public records among ``ids``, and the ids that must leave the index."""
    if not ids:
        return [], []
    wanted = list(ids)
    return _build(conn, lambda column: column.in_(wanted), wanted)


def build_range(conn: Connection, low: int, high: int) -> tuple[list[Document], list[int]]:
    """Like ``build_documents`` for every record with ``low <= id <= high`` (bulk indexing)."""
    return _build(conn, lambda column: column.between(low, high), None)


def _build(conn: Connection, on: Callable[[Any], ColumnElement[bool]],
           ids: list[int] | None) -> tuple[list[Document], list[int]]:
    """``on(column)`` picks the records by their id in whichever table's column it is given, so
    every part is read through its own publication_id index (a subquery on publications makes
    PostgreSQL scan whole part tables)."""
    pub_ids = Publication.id
    pubs = list(conn.execute(
        select(Publication.id, Publication.state, Publication.publication_type, Publication.content_type,
               Publication.issued_year, Publication.issued_month, Publication.issued_day,
               Publication.published_at, Publication.datestamp, Publication.public_from, Publication.host_title,
               Publication.host_issn, Publication.host_eissn, Publication.host_isbn, Publication.conference_name,
               Publication.publisher, Publication.urn_nbn, Institution.code.label("institution_code"))
        .join(Institution, Institution.id == Publication.institution_id)
        .where(on(Publication.id)).order_by(pub_ids)))
    public = [p for p in pubs if p.state == "published"]
    gone = sorted(set(ids or []) - {p.id for p in public}) if ids is not None else \
        [p.id for p in pubs if p.state != "published"]
    if not public:
        return [], gone

    def part(*cols: Any, model: Any) -> Any:
        return select(model.publication_id, *cols).where(on(model.publication_id))

    titles = _grouped(conn, part(PublicationTitle.kind, PublicationTitle.title, PublicationTitle.subtitle,
                                 model=PublicationTitle).order_by(PublicationTitle.position))
    abstracts = _grouped(conn, part(Abstract.text, model=Abstract))
    keywords = _grouped(conn, part(Keyword.term, model=Keyword).order_by(Keyword.position))
    subjects = _grouped(conn, part(PublicationSubject.code, model=PublicationSubject).order_by(PublicationSubject.position))
    languages = _grouped(conn, part(PublicationLanguage.code, model=PublicationLanguage)
                         .order_by(PublicationLanguage.position))
    idents = _grouped(conn, part(PublicationIdentifier.scheme, PublicationIdentifier.value, model=PublicationIdentifier))
    contributors = _grouped(conn, part(Contributor.id, Contributor.family_name, Contributor.given_name,
                                       Contributor.corporate_name, Contributor.orcid, Contributor.person_id,
                                       type_coerce(Contributor.roles, Text).label("roles"), Contributor.scope,
                                       model=Contributor)
                            .order_by(Contributor.position))
    units = _grouped(conn, select(Contributor.publication_id, OrgUnit.path)
                     .join(ContributorAffiliation, ContributorAffiliation.contributor_id == Contributor.id)
                     .join(OrgUnit, OrgUnit.id == ContributorAffiliation.org_unit_id)
                     .where(on(Contributor.publication_id)))
    name_forms = _grouped(conn, select(Contributor.publication_id, PersonNameForm.family_name, PersonNameForm.given_name)
                          .join(PersonNameForm, PersonNameForm.person_id == Contributor.person_id)
                          .where(on(Contributor.publication_id)))
    series = _grouped(conn, part(SeriesMembership.title, SeriesMembership.issn, SeriesMembership.eissn,
                                 model=SeriesMembership))
    files = _grouped(conn, part(StoredFile.role, StoredFile.access, StoredFile.embargo_until, model=StoredFile))
    theses = {r.publication_id: r for r in conn.execute(part(ThesisDetails.level, ThesisDetails.programme,
                                                            model=ThesisDetails))}
    docs = [_document(p, titles[p.id], abstracts[p.id], keywords[p.id], subjects[p.id], languages[p.id],
                      idents[p.id], contributors[p.id], units[p.id], name_forms[p.id], series[p.id], files[p.id],
                      theses.get(p.id)) for p in public]
    return docs, gone


def _document(p: Any, titles: list[Any], abstracts: list[Any], keywords: list[Any], subjects: list[Any],
              languages: list[Any], idents: list[Any], contributors: list[Any], units: list[Any],
              name_forms: list[Any], series: list[Any], files: list[Any], thesis: Any) -> Document:
    main = next((t for t in titles if t.kind == "main"), titles[0] if titles else None)
    main_title = _full_title(main.title, main.subtitle) if main else ""
    contributor_names = [_name(c.corporate_name, c.given_name, c.family_name) for c in contributors]
    names = contributor_names + [_name(None, n.given_name, n.family_name) for n in name_forms]
    subject_words: list[str] = [k.term for k in keywords]
    for s in subjects:
        subject_words.extend(_subject_words(s.code))
    unit_keys = {p.institution_code}
    for row in units:
        unit_keys.update(unit_paths(row.path))
    values: dict[str, list[str]] = {
        "unit": sorted(unit_keys),
        "subject": sorted({c for s in subjects for c in subject_codes(s.code)}),
        "language": sorted({lang.code for lang in languages}),
        "person": sorted({str(c.person_id) for c in contributors if c.person_id}),
        "orcid": sorted({c.orcid for c in contributors if c.orcid}),
        "id": _identifier_keys(p, idents, series),
    }
    return Document(
        publication_id=p.id, institution_code=p.institution_code, publication_type=p.publication_type,
        content_type=p.content_type, year=p.issued_year, thesis_level=thesis.level if thesis else None,
        open_from=_open_from(files), public_from=p.public_from, published_at=p.published_at or p.datestamp,
        sort_date=sort_date(p.issued_year, p.issued_month, p.issued_day), sort_title=sort_title(main_title),
        title_text="\n".join(_full_title(t.title, t.subtitle) for t in titles),
        names_text="\n".join(n for n in names if n),
        subject_text="\n".join(subject_words),
        abstract_text="\n".join(a.text for a in abstracts),
        other_text="\n".join(x for x in [p.host_title, p.conference_name, p.publisher,
                                         thesis.programme if thesis else None] + [s.title for s in series] if x),
        values={k: v for k, v in values.items() if v},
        contributors=[(name, c.orcid, c.person_id, c.roles)
                      for name, c in zip(contributor_names, contributors) if c.scope == "work"],
    )


def document_from_parts(p: Any, *, titles: list[Any], abstracts: list[Any], keywords: list[Any],
                        subjects: list[Any], languages: list[Any], idents: list[Any], contributors: list[Any],
                        units: list[Any], name_forms: list[Any], series: list[Any], files: list[Any],
                        thesis: Any) -> Document:
    """A document from parts already in memory, read by attribute like the rows ``_build`` queries
    (titles, keywords, subjects, languages and contributors in position order): the demo loader
    indexes the rows it has just generated without reading them back."""
    return _document(p, titles, abstracts, keywords, subjects, languages, idents, contributors, units,
                     name_forms, series, files, thesis)


def _full_title(title: str, subtitle: str | None) -> str:
    return f"{title}: {subtitle}" if subtitle else title


def _name(corporate: str | None, given: str | None, family: str | None) -> str:
    if corporate:
        return corporate
    if given and family:
        return f"{given} {family}"
    return given or family or ""


def roles(raw: str | list[str] | None) -> list[str]:
    """A contributor's roles from the JSON text the builder reads (decoding them all costs more
    than the rest of a document, and only OpenSearch's nested contributors need them).

    PostgreSQL's driver hands ``json`` columns over already decoded, whatever the SQL type says.
    """
    if isinstance(raw, list):
        return raw
    return list(json.loads(raw)) if raw else []


def _identifier_keys(p: Any, idents: list[Any], series: list[Any]) -> list[str]:
    pairs = [(i.scheme, i.value) for i in idents]
    pairs += [("urn", p.urn_nbn), ("issn", p.host_issn), ("issn", p.host_eissn), ("isbn", p.host_isbn)]
    pairs += [("issn", s.issn) for s in series] + [("issn", s.eissn) for s in series]
    return sorted({_cached_identifier_key(scheme, value) for scheme, value in pairs if value})


def _open_from(files: list[Any]) -> dt.date | None:
    days = [OPEN_ALWAYS if f.access == "open" else f.embargo_until
            for f in files if f.role == "fulltext" and (f.access == "open" or
                                                        (f.access == "embargoed" and f.embargo_until))]
    return min(days) if days else None


def document_from_read_model(key: int, pub: rm.Publication, *, published_at: dt.datetime,
                             institutions: Sequence[str] = ()) -> Document:
    """A document for a record known only as a read model: a merged work of the national bibliography.

    Says what ``_document`` says for a stored record, field by field, so the same queries and
    facets work over both; ``institutions`` are the contributing organisations (the unit facet's
    roots).
    """
    names = [c.display_name() for c in pub.contributors] + [e.display_name() for e in (pub.host.editors if pub.host else ())]
    subject_words = [k.term for k in pub.keywords]
    for s in pub.subjects:
        subject_words.extend(_subject_words(s.code))
    units = set(institutions) | ({pub.institution_code} if pub.institution_code else set())
    for unit in pub.org_units:
        units.update(unit_paths(unit.path))
    pairs = [(i.scheme, i.value) for i in pub.identifiers]
    if pub.host:
        pairs += [("issn", pub.host.issn), ("issn", pub.host.eissn)] + [("isbn", i) for i in pub.host.isbns]
    pairs += [("issn", s.issn) for s in pub.series] + [("issn", s.eissn) for s in pub.series]
    open_days = [OPEN_ALWAYS if f.access == "open" else f.embargo_until for f in pub.files
                 if f.role == "fulltext" and (f.access == "open" or (f.access == "embargoed" and f.embargo_until))]
    issued = pub.issued
    work_side = pub.contributors
    return Document(
        publication_id=key, institution_code=pub.institution_code or "", publication_type=pub.publication_type,
        content_type=pub.content_type, year=pub.year, thesis_level=pub.thesis.level if pub.thesis else None,
        open_from=min(open_days) if open_days else None, public_from=None, published_at=published_at,
        sort_date=sort_date(issued.year, issued.month, issued.day) if issued else 0,
        sort_title=sort_title(pub.title.full()),
        title_text="\n".join(t.full() for t in pub.titles),
        names_text="\n".join(n for n in names if n),
        subject_text="\n".join(subject_words),
        abstract_text="\n".join(a.text for a in pub.abstracts),
        other_text="\n".join(x for x in [pub.host.title if pub.host else None,
                                         pub.conference.name if pub.conference else None, pub.publisher,
                                         pub.thesis.programme if pub.thesis else None] + [s.title for s in pub.series] if x),
        values={k: v for k, v in {
            "unit": sorted(units),
            "subject": sorted({c for s in pub.subjects for c in subject_codes(s.code)}),
            "language": sorted(set(pub.languages)),
            "person": [],
            "orcid": sorted({c.orcid for c in work_side if c.orcid}),
            "id": sorted({_cached_identifier_key(scheme, value) for scheme, value in pairs if value}),
        }.items() if v},
        contributors=[(c.display_name(), c.orcid, None, json.dumps(list(c.roles))) for c in work_side],
    )
