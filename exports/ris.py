"""RIS records for EndNote, Zotero and Mendeley, from the read model.

Tags follow the RIS specification as Zotero's RIS translator reads it, since most of our users
import with Zotero: ``T2`` is the journal or book, for conference papers the conference, with the
proceedings in ``C3``; book editors are ``A2``; supervisors are ``A3``, which Zotero takes as
contributors of a thesis; the thesis type is ``M3`` and the university ``PB``. Lines end in
CRLF, the specification's line end, and no value spans lines: a line break inside a title would
otherwise start a line that importers read as a new tag or drop.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator

from exports import _bibfields as bib
from exports.readmodel import Publication
from exports.vocabularies import language_name

RIS_TYPES: dict[str, str] = {
    "journal-article": "JOUR",
    "magazine-article": "MGZN",
    "newspaper-article": "NEWS",
    "book-review": "JOUR",
    "encyclopedia-entry": "ENCYC",
    "chapter": "CHAP",
    "book": "BOOK",
    "edited-book": "EDBOOK",
    "proceedings": "CONF",
    "conference-paper": "CPAPER",
    "report": "RPRT",
    "working-paper": "RPRT",
    "preprint": "UNPB",
    "doctoral-thesis": "THES",
    "licentiate-thesis": "THES",
    "student-thesis": "THES",
    "patent": "PAT",
    "artistic-work": "ART",
    "dataset": "DATA",
    "software": "COMP",
    "other": "GEN",
}
_JOURNAL_TYPES = {"JOUR", "MGZN", "NEWS"}
_CONFERENCE_TYPES = {"CPAPER", "CONF"}
CRLF = "\r\n"


def _lines(pub: Publication, today: dt.date) -> list[tuple[str, str]]:
    ris_type = RIS_TYPES[bib.work_kind(pub)]
    lines: list[tuple[str, str]] = [("TY", ris_type)]
    add = lines.append
    lines += [("AU", p.inverted_name()) for p in pub.authors]
    lines += [("A2", p.inverted_name()) for p in bib.editors(pub)]
    lines += [("A3", p.inverted_name()) for p in pub.contributors_in("ths")]
    lines += [("A4", p.inverted_name()) for p in pub.contributors_in("trl")]
    add(("TI", pub.title.full()))
    translated = next((t for t in pub.titles if t.kind == "translated"), None)
    if translated is not None:
        add(("TT", translated.full()))
    container = bib.host_title(pub.host)
    if ris_type in _JOURNAL_TYPES:
        if container:
            lines += [("T2", container), ("JF", container)]
    elif ris_type in _CONFERENCE_TYPES:
        conference = pub.conference.name if pub.conference else None
        if conference or container:
            add(("T2", conference or container or ""))
        if container and conference:
            add(("C3", container))
        if pub.conference and pub.conference.place:
            add(("C1", pub.conference.place))
    elif container:
        add(("T2", container))
    if pub.series:
        add(("T3", pub.series[0].title))
    host = pub.host
    if host is not None:
        lines += [("VL", host.volume or ""), ("IS", host.issue or ""), ("SP", host.page_start or ""),
                  ("EP", host.page_end or ""), ("C7", host.article_number or "")]
    if pub.series and pub.series[0].number:
        add(("M1", pub.series[0].number))
    if pub.issued is not None:
        add(("PY", f"{pub.issued.year:04d}"))
        parts = (pub.issued.year, pub.issued.month, pub.issued.day)
        add(("DA", "/".join(f"{p:02d}" if i else f"{p:04d}" for i, p in enumerate(parts) if p)))
    genre = bib.thesis_genre(pub)
    if genre:
        add(("M3", genre))
        add(("PB", bib.university(pub) or bib.publisher(pub) or ""))
    else:
        add(("PB", bib.publisher(pub) or ""))
    add(("CY", bib.place(pub) or ""))
    add(("ET", pub.edition or ""))
    issns = bib.issns(pub)
    numbers = issns + bib.isbns(pub) if ris_type in _JOURNAL_TYPES else bib.isbns(pub) + issns
    lines += [("SN", n) for n in numbers]
    add(("DO", pub.doi or ""))
    add(("UR", pub.url or ""))
    lines += [("L1", url) for url in bib.open_fulltext_urls(pub, today, pdf_only=True)]
    lines += [("AB", a.text) for a in pub.abstracts[:1]]
    lines += [("KW", k.term) for k in pub.keywords]
    lines += [("LA", language_name(code)) for code in pub.languages]
    lines += [("N1", n.text) for n in pub.notes]
    status = bib.STATUS_LABELS.get(pub.publication_status)
    if status:
        add(("N1", f"Publication status: {status}"))
    add(("ID", pub.id))
    return lines


def _record(pub: Publication, today: dt.date) -> str:
    out = []
    for tag, value in _lines(pub, today):
        text = bib.one_line(value)
        if text:
            out.append(f"{tag}  - {text}{CRLF}")
    out.append(f"ER  - {CRLF}")
    return "".join(out)


def render(pub: Publication, *, today: dt.date | None = None) -> bytes:
    """One RIS record. ``today`` decides which embargoed full texts are open (L1); default today."""
    return _record(pub, today or dt.date.today()).encode("utf-8")


def render_many(pubs: Iterable[Publication], *, today: dt.date | None = None) -> Iterator[bytes]:
    """RIS records one after another, a blank line between them, as EndNote writes them."""
    day = today or dt.date.today()
    separator = ""
    for pub in pubs:
        yield (separator + _record(pub, day)).encode("utf-8")
        separator = CRLF
