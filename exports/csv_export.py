"""A spreadsheet of publications for research administrators: one row per record, Excel-ready.

UTF-8 with a byte-order mark, because Excel reads a CSV without one in the local code page and
turns "Öberg" into "Ã–berg". Quoting is RFC 4180 (the stdlib ``csv`` module, CRLF rows, quotes
doubled). A cell that starts with ``= + - @`` (or a tab or carriage return) gets a leading
apostrophe: spreadsheets would otherwise run it as a formula, and a title such as
``=HYPERLINK(...)`` in a download is an attack on whoever opens it (OWASP "CSV injection").
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Iterator

from exports import _bibfields as bib
from exports.readmodel import Publication
from exports.vocabularies import subject_labels

BOM = "\ufeff"
COLUMNS: tuple[str, ...] = (
    "Id", "URL", "Publication type", "Output type", "Content type", "Publication status",
    "Title", "Subtitle", "Authors", "Author affiliations", "Year", "Journal / host title",
    "ISSN", "eISSN", "ISBN", "Volume", "Issue", "Pages", "Article number", "DOI",
    "ISI", "PMID", "Scopus", "URN", "Open access", "Licence", "Languages", "Subjects",
    "Keywords", "Organisation units",
)
LIST_SEPARATOR = "; "
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: str) -> str:
    """The value, with an apostrophe in front when a spreadsheet would read it as a formula."""
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


def _affiliations(pub: Publication) -> str:
    """Each organisation the authors were affiliated with, once, in order of first mention."""
    names = dict.fromkeys(a.name for person in pub.authors for a in person.affiliations)
    return LIST_SEPARATOR.join(names)


def _subject(code: str, label: str) -> str:
    label = label or subject_labels(code)[0]
    return f"{code} {label}" if label else code


def row(pub: Publication, today: dt.date) -> list[str]:
    """The row of one record, cells in the order of COLUMNS."""
    title = pub.title
    host = pub.host
    return [
        pub.id,
        pub.url or "",
        pub.publication_type,
        pub.output_type or "",
        pub.content_type or "",
        pub.publication_status,
        title.title,
        title.subtitle or "",
        LIST_SEPARATOR.join(p.inverted_name() for p in pub.authors),
        _affiliations(pub),
        str(pub.year) if pub.year else "",
        bib.host_title(host) or "",
        bib.print_issn(pub) or "",
        bib.electronic_issn(pub) or "",
        LIST_SEPARATOR.join(bib.isbns(pub)),
        (host.volume or "") if host else "",
        (host.issue or "") if host else "",
        (host.pages() or "") if host else "",
        (host.article_number or "") if host else "",
        pub.doi or "",
        pub.identifier("isi") or "",
        pub.identifier("pmid") or "",
        pub.identifier("scopus") or "",
        pub.identifier("urn") or "",
        "yes" if pub.is_open_access_on(today) else "no",
        bib.licence(pub, today) or "",
        LIST_SEPARATOR.join(pub.languages),
        LIST_SEPARATOR.join(_subject(s.code, s.label_en) for s in pub.subjects),
        LIST_SEPARATOR.join(k.term for k in pub.keywords),
        LIST_SEPARATOR.join(f"{u.name} ({u.path})" for u in pub.org_units),
    ]


class _Writer:
    """A csv writer into a buffer that hands back what each row added."""

    def __init__(self) -> None:
        self._buffer = io.StringIO()
        self._csv = csv.writer(self._buffer, lineterminator="\r\n")

    def write(self, cells: Iterable[str]) -> bytes:
        self._csv.writerow([safe_cell(c) for c in cells])
        text = self._buffer.getvalue()
        self._buffer.seek(0)
        self._buffer.truncate()
        return text.encode("utf-8")


def render(pub: Publication, *, today: dt.date | None = None) -> bytes:
    """A CSV file of one record: the header row and its row."""
    return b"".join(render_many([pub], today=today))


def render_many(pubs: Iterable[Publication], *, today: dt.date | None = None) -> Iterator[bytes]:
    """The header once, then one row per record. ``today`` decides open access (default today)."""
    day = today or dt.date.today()
    writer = _Writer()
    yield BOM.encode("utf-8") + writer.write(COLUMNS)
    for pub in pubs:
        yield writer.write(row(pub, day))
