"""The bibliographic facts BibTeX, RIS, CSL-JSON and CSV derive the same way from a Publication.

Each text format has its own vocabulary (``@incollection``, ``CHAP``, ``chapter``), but the
decisions behind them (what kind of work this is, which ISBNs belong to it, who the university
of a thesis is, which full text is open today) must agree across formats, or a record would be
a book chapter in one download and a book in the next. They are made here, once.
"""

from __future__ import annotations

import datetime as dt
import re

from exports.readmodel import Contributor, HostItem, Publication, Title
from exports.vocabularies import iso639_1

_KIND_BY_OUTPUT_TYPE: dict[str, str] = {
    "publication/journal-article": "journal-article",
    "publication/review-article": "journal-article",
    "publication/editorial-letter": "journal-article",
    "publication/magazine-article": "magazine-article",
    "publication/newspaper-article": "newspaper-article",
    "publication/book-review": "book-review",
    "publication/encyclopedia-entry": "encyclopedia-entry",
    "publication/book-chapter": "chapter",
    "publication/report-chapter": "chapter",
    "publication/foreword-afterword": "chapter",
    "publication/book": "book",
    "publication/critical-edition": "book",
    "publication/edited-book": "edited-book",
    "publication/report": "report",
    "publication/working-paper": "working-paper",
    "publication/preprint": "preprint",
    "conference/paper": "conference-paper",
    "conference/poster": "conference-paper",
    "conference/proceeding": "proceedings",
    "intellectual-property/patent": "patent",
    "other/data-set": "dataset",
    "other/software": "software",
}

_KIND_BY_PUBLICATION_TYPE: dict[str, str] = {
    "art": "journal-article",
    "for": "journal-article",
    "rec": "book-review",
    "kon": "conference-paper",
    "pro": "proceedings",
    "bok": "book",
    "sam": "edited-book",
    "kap": "chapter",
    "rap": "report",
    "dok": "doctoral-thesis",
    "lic": "licentiate-thesis",
    "stud": "student-thesis",
    "pat": "patent",
    "kfu": "artistic-work",
    "ovr": "other",
}

# Every kind work_kind returns: each format's type table covers these.
KINDS: frozenset[str] = frozenset(_KIND_BY_OUTPUT_TYPE.values()) | frozenset(_KIND_BY_PUBLICATION_TYPE.values())

_THESIS_TYPES = frozenset({"dok", "lic", "stud"})

THESIS_GENRES: dict[str, str] = {
    "doctoral": "Doctoral thesis",
    "licentiate": "Licentiate thesis",
    "bachelor": "Bachelor's thesis",
    "master-one-year": "Master's thesis (one year)",
    "master-two-years": "Master's thesis (two years)",
    "professional": "Professional degree thesis",
}
_LEVEL_BY_TYPE = {"dok": "doctoral", "lic": "licentiate"}

STATUS_LABELS: dict[str, str] = {
    "accepted": "accepted",
    "submitted": "submitted",
    "in-press": "in press",
    "epub-ahead-of-print": "advance online publication",
    "preprint": "preprint",
    "retracted": "retracted",
}

_LINE_BREAKS = re.compile(r"[ \t]*[\r\n\x0b\x0c\x1c-\x1e\x85\u2028\u2029]+[ \t]*")
_CONTROLS = re.compile(r"[\x00-\x08\x0e-\x1b\x1f\x7f]")
_FOLDABLE = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]")
_PAGE_COUNT = re.compile(r"^\s*(\d+)\s*(?:pages?|pp?\.?|s\.?|sidor|sid\.?)?\s*$", re.IGNORECASE)


def work_kind(pub: Publication) -> str:
    """The kind of work, a key of each format's type table (``chapter``, ``doctoral-thesis``...).

    Theses are told by the publication type (an artistic doctoral thesis is still a thesis); the
    other kinds by the finer KB output type when it is one we know, else by the publication type.
    """
    by_type = _KIND_BY_PUBLICATION_TYPE.get(pub.publication_type)
    if by_type is None:
        raise ValueError(f"record {pub.id}: unknown publication type {pub.publication_type!r}; "
                         f"known: {', '.join(_KIND_BY_PUBLICATION_TYPE)}")
    if pub.publication_type in _THESIS_TYPES:
        return by_type
    if pub.output_type in _KIND_BY_OUTPUT_TYPE:
        return _KIND_BY_OUTPUT_TYPE[pub.output_type]
    if pub.output_type and pub.output_type.startswith("artistic-work"):
        return "artistic-work"
    return by_type


def thesis_level(pub: Publication) -> str | None:
    """The thesis level, taken from the type when the record carries no ThesisInfo."""
    if pub.thesis is not None:
        return pub.thesis.level
    return _LEVEL_BY_TYPE.get(pub.publication_type)


def thesis_genre(pub: Publication) -> str | None:
    """An English label of the kind of thesis, for CSL ``genre``, RIS ``M3`` and BibTeX ``type``."""
    if pub.publication_type not in _THESIS_TYPES:
        return None
    level = thesis_level(pub)
    return THESIS_GENRES.get(level, "Student thesis") if level else "Student thesis"


def university(pub: Publication) -> str | None:
    """Who granted the degree of a thesis: the thesis record's institution, else the repository's."""
    if pub.thesis is not None and pub.thesis.granting_institution:
        return pub.thesis.granting_institution
    return pub.institution_name


def host_title(host: HostItem | None) -> str | None:
    if host is None or not host.title:
        return None
    return Title(host.title, host.subtitle).full()


def publisher(pub: Publication) -> str | None:
    """The publisher of the work, or of the book or proceedings it is part of."""
    return pub.publisher or (pub.host.publisher if pub.host else None)


def place(pub: Publication) -> str | None:
    return pub.place or (pub.host.place if pub.host else None)


def isbns(pub: Publication) -> tuple[str, ...]:
    """The work's own ISBNs, then those of its host book (a chapter is cited by its book's ISBN)."""
    own = pub.identifiers_of("isbn")
    hosted = pub.host.isbns if pub.host else ()
    return own + tuple(i for i in hosted if i not in own)


def print_issn(pub: Publication) -> str | None:
    """The ISSN of the journal, else of the (first) series the work appears in."""
    if pub.host and pub.host.issn:
        return pub.host.issn
    return next((s.issn for s in pub.series if s.issn), None)


def electronic_issn(pub: Publication) -> str | None:
    if pub.host and pub.host.eissn:
        return pub.host.eissn
    return next((s.eissn for s in pub.series if s.eissn), None)


def issns(pub: Publication) -> tuple[str, ...]:
    return tuple(i for i in (print_issn(pub), electronic_issn(pub)) if i)


def editors(pub: Publication) -> tuple[Contributor, ...]:
    """Editors of the work itself (an edited book) and of the book or proceedings it is part of."""
    own = pub.contributors_in("edt")
    return own + (pub.host.editors if pub.host else ())


def page_count(pub: Publication) -> str | None:
    """The number of pages when the extent says only that ("84 pages", "245 s.")."""
    if not pub.extent:
        return None
    match = _PAGE_COUNT.match(pub.extent)
    return match.group(1) if match else None


def language_tag(code: str) -> str:
    """The shortest IETF tag for an ISO 639-2 code (``swe`` -> ``sv``), as CSL and the web want."""
    return iso639_1(code) or code


def open_fulltext_urls(pub: Publication, day: dt.date, *, pdf_only: bool = False) -> tuple[str, ...]:
    """Download URLs of the full texts anyone may fetch on ``day`` (embargoes lift by themselves)."""
    return tuple(
        f.url for f in pub.files
        if f.url and f.role == "fulltext" and f.is_open_on(day)
        and (not pdf_only or f.mime_type == "application/pdf")
    )


def licence(pub: Publication, day: dt.date) -> str | None:
    """The record's licence, else the licence of its first open full text."""
    if pub.licence:
        return pub.licence
    return next((f.licence for f in pub.files
                 if f.licence and f.role == "fulltext" and f.is_open_on(day)), None)


def one_line(text: str) -> str:
    """``text`` with every line break folded into one space and other control characters dropped.

    Line-oriented formats (RIS) break on any of them, and a blank line in a BibTeX title would
    become a LaTeX paragraph; Python's ``str.splitlines`` separators are all covered.
    """
    if _FOLDABLE.search(text) is None:  # the usual case, kept cheap for lists of 100,000
        return text.strip()
    return _CONTROLS.sub("", _LINE_BREAKS.sub(" ", text)).strip()
