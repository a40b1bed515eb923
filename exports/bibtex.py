"""BibTeX entries for LaTeX users, JabRef and Zotero, from the read model.

Entry types follow the kind of work. Theses need a choice BibTeX does not make for us:

- a doctoral thesis is ``@phdthesis``;
- a licentiate thesis is ``@phdthesis`` with ``type = {Licentiate thesis}``: it is a research
  degree half-way to the doctorate, examined like one, and every standard style (plain.bst,
  biblatex) prints the ``type`` field in place of "PhD thesis", so the reference reads right.
  ``@mastersthesis`` would print "Master's thesis", which a licentiate is not; Zotero and
  Better BibTeX likewise export any non-master thesis as ``@phdthesis`` with its type;
- student theses are ``@mastersthesis``, with ``type`` naming the level when it is not simply a
  master's (a bachelor's thesis reads "Bachelor's thesis", as JabRef users write it).

Values are UTF-8 by default (biber, biblatex and BibTeX with ``inputenc`` read it); with
``ascii=True`` non-ASCII letters become LaTeX accents (``{\\"o}``, ``{\\aa}``) for old BibTeX.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator

from exports import _bibfields as bib
from exports import _latex as latex
from exports.readmodel import Contributor, Publication
from exports.vocabularies import language_name

ENTRY_TYPES: dict[str, str] = {
    "journal-article": "article",
    "magazine-article": "article",
    "newspaper-article": "article",
    "book-review": "article",
    "encyclopedia-entry": "incollection",
    "chapter": "incollection",
    "book": "book",
    "edited-book": "book",
    "proceedings": "proceedings",
    "conference-paper": "inproceedings",
    "report": "techreport",
    "working-paper": "techreport",
    "doctoral-thesis": "phdthesis",
    "licentiate-thesis": "phdthesis",
    "student-thesis": "mastersthesis",
}
# Labels a standard style prints by itself for these entry types; ``type`` is written otherwise.
_DEFAULT_THESIS_TYPE = {"phdthesis": "Doctoral thesis", "mastersthesis": "Master's thesis"}
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_HOSTED = {"incollection", "inproceedings"}
# Compared after ASCII folding, as the title words are ("på" is "pa").
_STOP_WORDS = frozenset(latex.fold(word) for word in (
    "a an the of on in at to for and or with from by is are as its via "
    "en ett och i om på av för med till den det de som att är från vid under").split())


def citation_key(pub: Publication) -> str:
    """First author's family name, year and first significant title word, ASCII only.

    Like Google Scholar's and JabRef's keys (``oberg2021algrasangar``), so a key reads as what
    it cites and stays the same between downloads.
    """
    people = pub.authors or bib.editors(pub)
    family = ""
    if people:
        first = people[0]
        name = first.corporate_name or first.family or first.given or ""
        family = latex.fold(name.split()[0] if first.corporate_name and name.split() else name)
    year = str(pub.year) if pub.year else "nd"
    word = next((w for w in (latex.fold(w) for w in pub.title.title.split())
                 if w and w.lower() not in _STOP_WORDS), "")
    return f"{family or 'anon'}{year}{word}".lower()


class _Keys:
    """Hands out keys unique within one file: a second ``smith2020deep`` becomes ``smith2020deepa``."""

    def __init__(self) -> None:
        self._used: set[str] = set()
        self._next: dict[str, int] = {}

    def unique(self, key: str) -> str:
        candidate = key
        while candidate in self._used:
            number = self._next.get(key, 0)
            self._next[key] = number + 1
            candidate = key + _letters(number)
        self._used.add(candidate)
        return candidate


def _letters(number: int) -> str:
    """0 -> a, 25 -> z, 26 -> aa, 27 -> ab ..."""
    text = ""
    number += 1
    while number:
        number, rest = divmod(number - 1, 26)
        text = chr(ord("a") + rest) + text
    return text


def _names(people: Iterable[Contributor], ascii_only: bool) -> str:
    names = []
    for person in people:
        corporate, family, given = (bib.one_line(part or "")
                                    for part in (person.corporate_name, person.family, person.given))
        if corporate:
            names.append("{" + latex.escape(corporate, ascii_only=ascii_only) + "}")
        elif family:
            name = latex.name_part(family, ascii_only=ascii_only)
            if given:
                name += ", " + latex.name_part(given, ascii_only=ascii_only)
            names.append(name)
        elif given:
            names.append("{" + latex.escape(given, ascii_only=ascii_only) + "}")
    return " and ".join(names)


def _fields(pub: Publication, entry_type: str, ascii_only: bool) -> list[tuple[str, str]]:
    """(name, LaTeX value) pairs in the order JabRef writes them; ``month`` is a bare macro."""
    fields: list[tuple[str, str]] = []

    def text(name: str, value: str | None) -> None:
        if value:
            folded = bib.one_line(value)
            if folded:
                fields.append((name, "{" + latex.escape(folded, ascii_only=ascii_only) + "}"))

    def verbatim(name: str, value: str | None) -> None:
        # biblatex and hyperref print doi and url verbatim, so "\\_" would show; only what would
        # unbalance the field is percent-encoded (a URL means the same with it).
        if value:
            fields.append((name, "{" + latex.verbatim(bib.one_line(value)) + "}"))

    authors = _names(pub.authors, ascii_only)
    if authors:
        fields.append(("author", "{" + authors + "}"))
    editors = _names(bib.editors(pub), ascii_only)
    if editors:
        fields.append(("editor", "{" + editors + "}"))
    fields.append(("title", "{" + latex.title(bib.one_line(pub.title.full()), ascii_only=ascii_only) + "}"))
    host = pub.host
    container = bib.host_title(host)
    if entry_type == "article":
        text("journal", container)
    elif entry_type in _HOSTED:
        text("booktitle", container or (pub.conference.name if pub.conference else None))
    if pub.issued is not None:
        fields.append(("year", "{" + str(pub.issued.year) + "}"))
        if pub.issued.month:
            fields.append(("month", _MONTHS[pub.issued.month - 1]))
    series = pub.series[0] if pub.series else None
    if host is not None:
        text("volume", host.volume)
        text("number", host.issue)
        pages = [latex.escape(bib.one_line(p), ascii_only=ascii_only) for p in (host.page_start, host.page_end) if p]
        if pages:
            fields.append(("pages", "{" + "--".join(pages) + "}"))
        text("eid", host.article_number)
    if series is not None:
        text("series", series.title)
        if not (host and host.issue):
            text("number", series.number)
    if entry_type in ("phdthesis", "mastersthesis"):
        text("school", bib.university(pub))
        genre = bib.thesis_genre(pub)
        if genre != _DEFAULT_THESIS_TYPE.get(entry_type):
            text("type", genre)
    if entry_type == "techreport":
        text("institution", bib.publisher(pub) or pub.institution_name)
    else:
        text("publisher", bib.publisher(pub))
    place = bib.place(pub)
    if not place and entry_type == "inproceedings" and pub.conference:
        place = pub.conference.place
    text("address", place)
    text("edition", pub.edition)
    text("pagetotal", bib.page_count(pub))
    text("isbn", ", ".join(bib.isbns(pub)))
    text("issn", ", ".join(bib.issns(pub)))
    verbatim("doi", pub.doi)
    verbatim("url", pub.url)
    verbatim("urn", pub.identifier("urn"))
    if pub.abstracts:
        text("abstract", pub.abstracts[0].text)
    text("keywords", ", ".join(k.term for k in pub.keywords))
    text("language", " and ".join(language_name(code) for code in pub.languages))
    notes = [n.text for n in pub.notes]
    status = bib.STATUS_LABELS.get(pub.publication_status)
    if status:
        notes.insert(0, status.capitalize())
    text("note", ". ".join(notes))
    return fields


def _entry(pub: Publication, key: str, ascii_only: bool) -> str:
    entry_type = ENTRY_TYPES.get(bib.work_kind(pub), "misc")
    body = ",\n".join(f"  {name} = {value}" for name, value in _fields(pub, entry_type, ascii_only))
    return f"@{entry_type}{{{key},\n{body}\n}}\n"


def render(pub: Publication, *, ascii: bool = False, today: dt.date | None = None) -> bytes:
    """One BibTeX entry; ``ascii=True`` writes non-ASCII letters as LaTeX accents.

    ``today`` is taken, like every format in exports.registry takes it, and not needed: nothing
    in a BibTeX entry depends on the day.
    """
    return _entry(pub, citation_key(pub), ascii).encode("utf-8")


def render_many(pubs: Iterable[Publication], *, ascii: bool = False,
                today: dt.date | None = None) -> Iterator[bytes]:
    """A .bib file, entry by entry, with keys made unique within it (``today`` as in ``render``).

    Memory grows only by the keys handed out, which uniqueness needs: some 130 bytes a record,
    13 MB for 100,000.
    """
    keys = _Keys()
    separator = ""
    for pub in pubs:
        yield (separator + _entry(pub, keys.unique(citation_key(pub)), ascii)).encode("utf-8")
        separator = "\n"
