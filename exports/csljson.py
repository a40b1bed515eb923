"""CSL-JSON, the input format of citeproc-js, Zotero, Pandoc and citeproc-py, from the read model.

The output validates against ``csl-data.json`` of the CSL schema repository: an array of items,
each with only the variables the schema names. Dates are always ``date-parts`` (citeproc-py drops
``raw`` dates), and names are split into family and given, with ``literal`` for corporate bodies
so that no processor tries to invert "Naturvårdsverket".
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Iterator
from typing import Any

from exports import _bibfields as bib
from exports.readmodel import Contributor, PartialDate, Publication

CSL_TYPES: dict[str, str] = {
    "journal-article": "article-journal",
    "magazine-article": "article-magazine",
    "newspaper-article": "article-newspaper",
    "book-review": "review-book",
    "encyclopedia-entry": "entry-encyclopedia",
    "chapter": "chapter",
    "book": "book",
    "edited-book": "book",
    "proceedings": "book",
    "conference-paper": "paper-conference",
    "report": "report",
    "working-paper": "report",
    "preprint": "article",
    "doctoral-thesis": "thesis",
    "licentiate-thesis": "thesis",
    "student-thesis": "thesis",
    "patent": "patent",
    "artistic-work": "document",
    "dataset": "dataset",
    "software": "software",
    "other": "document",
}


def csl_name(contributor: Contributor) -> dict[str, str] | None:
    """A CSL name object; None for a contributor with no name at all."""
    if contributor.corporate_name:
        return {"literal": contributor.corporate_name}
    name = {}
    if contributor.family:
        name["family"] = contributor.family
    if contributor.given:
        name["given"] = contributor.given
    return name or None


def _names(contributors: Iterable[Contributor]) -> list[dict[str, str]]:
    return [n for n in (csl_name(c) for c in contributors) if n]


def date_parts(date: PartialDate) -> list[int]:
    return [p for p in (date.year, date.month, date.day) if p is not None]


def to_csl(pub: Publication) -> dict[str, Any]:
    """One CSL-JSON item. Keys appear only when the record has a value for them.

    Book and proceedings editors of a chapter or paper are CSL ``editor`` (CSL has no separate
    container editor); supervisors and examiners have no CSL variable, and no style cites them.
    The thesis publisher is the university, as Zotero and the CSL styles expect of ``publisher``.
    """
    kind = bib.work_kind(pub)
    title = pub.title
    item: dict[str, Any] = {"id": pub.id, "type": CSL_TYPES[kind], "title": title.full()}
    translated = next((t for t in pub.titles if t.kind == "translated"), None)
    if translated is not None:
        item["translated-title"] = translated.full()
    for variable, people in (("author", pub.authors), ("editor", bib.editors(pub)),
                             ("translator", pub.contributors_in("trl"))):
        names = _names(people)
        if names:
            item[variable] = names
    if pub.issued is not None:
        item["issued"] = {"date-parts": [date_parts(pub.issued)]}
    if pub.online is not None:
        item["available-date"] = {"date-parts": [[pub.online.year, pub.online.month, pub.online.day]]}
    host = pub.host
    container = bib.host_title(host)
    if container:
        item["container-title"] = container
    if host is not None:
        _put(item, "volume", host.volume)
        _put(item, "issue", host.issue)
        _put(item, "page", host.pages())
        _put(item, "number", host.article_number)
    if pub.series:
        series = pub.series[0]
        item["collection-title"] = series.title
        _put(item, "collection-number", series.number)
    conference = pub.conference
    if conference is not None:
        item["event"] = conference.name
        _put(item, "event-place", conference.place)
        if conference.start is not None:
            parts = [[conference.start.year, conference.start.month, conference.start.day]]
            if conference.end is not None and conference.end != conference.start:
                parts.append([conference.end.year, conference.end.month, conference.end.day])
            item["event-date"] = {"date-parts": parts}
    genre = bib.thesis_genre(pub)
    if genre:
        item["genre"] = genre
        _put(item, "publisher", bib.university(pub) or bib.publisher(pub))
    else:
        _put(item, "publisher", bib.publisher(pub))
    _put(item, "publisher-place", bib.place(pub))
    _put(item, "edition", pub.edition)
    _put(item, "number-of-pages", bib.page_count(pub))
    _put(item, "status", bib.STATUS_LABELS.get(pub.publication_status))
    _put(item, "DOI", pub.doi)
    _put(item, "ISBN", ", ".join(bib.isbns(pub)))
    _put(item, "ISSN", ", ".join(bib.issns(pub)))
    _put(item, "PMID", pub.identifier("pmid"))
    _put(item, "URL", pub.url)
    if pub.abstracts:
        item["abstract"] = pub.abstracts[0].text
    if pub.keywords:
        item["keyword"] = ", ".join(k.term for k in pub.keywords)
    if pub.languages:
        item["language"] = bib.language_tag(pub.languages[0])
    if pub.notes:
        item["note"] = "\n".join(n.text for n in pub.notes)
    return item


def _put(item: dict[str, Any], key: str, value: str | None) -> None:
    if value:
        item[key] = value


def _dumps(pub: Publication) -> bytes:
    # Compact separators keep the C encoder (indent= falls back to the pure-Python one).
    return json.dumps(to_csl(pub), ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def render(pub: Publication, *, today: dt.date | None = None) -> bytes:
    """One record as a one-item CSL-JSON array.

    An array, not a bare object: the schema describes an array, every CSL-JSON reader (Zotero,
    Pandoc, citeproc-js) accepts one, and ``render(p)`` is then exactly ``render_many([p])``.
    ``today`` is taken, like every format in exports.registry takes it, and not needed.
    """
    return b"[\n" + _dumps(pub) + b"\n]\n"


def render_many(pubs: Iterable[Publication], *, today: dt.date | None = None) -> Iterator[bytes]:
    """One JSON array, one item per line, yielded item by item."""
    yield b"["
    separator = b"\n"
    for pub in pubs:
        yield separator + _dumps(pub)
        separator = b",\n"
    yield b"\n]\n"
