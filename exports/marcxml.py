"""MARCXML: the record as MARC 21 bibliographic data in the MARC 21 slim schema, for library catalogues.

Catalogues (LIBRIS, Alma, Koha) import MARC; this is the description a cataloguer would make of a
repository record, without ISBD punctuation (leader/18 ``c``). Field choices:

- Leader: language material (``a``); bibliographic level ``b`` for an article in a serial, ``a``
  for a part of a book or proceedings, ``m`` otherwise; Unicode. 001 the record id, 005 the last
  change, 008 the fixed data for books (date entered, publication year, form ``o`` online when the
  record is electronic, ``m`` for theses, the conference flag, the first language).
- Identifiers: 020 ISBN (with its print/online qualifier in $q), 022 ISSN, 024 7_ with the scheme in
  $2 (doi, urn, hdl, pmid, isi, scopus, arxiv, uri), 035 LIBRIS and local ids.
- 040 the cataloguing institution, 041 languages, 084 SSIF research subjects ($2 ``ssif``).
- Names: the first author in 100/110, everyone else in 700/710, with relator terms ($e) and codes
  ($4), affiliations ($u) and the ORCID as a URI ($1); the conference in 711.
- 245 title and subtitle with the authors as statement of responsibility, 246 translated (``31``)
  and other titles, 250 edition, 264 publication, 300 extent, 336-338 RDA content, media, carrier.
- 490 series, 500 notes (and the publication status when not yet published), 502 the thesis, 506
  the access on the day (an embargo with its lift date in $g), 520 abstracts, 540 the licence,
  650 controlled and 653 free keywords.
- 773 the host (title, place and publisher, volume/issue/pages in $g and $q, ISSN $x, ISBN $z),
  774 constituent papers, 787 other related records, 856 the landing page, the open full texts
  and links.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator

from lxml import etree

from exports.dc import inverted_name
from exports.mods import PUBLICATION_STATUS_LABELS, mods_lang
from exports.readmodel import Contributor, HostItem, Publication
from exports.xml import (
    XSI_NS, XSI_SCHEMA_LOCATION, access_status, add, document, has_text, open_files, root_element, stream_document,
    tidy, today_utc, utc_day,
)

MARC_NS = "http://www.loc.gov/MARC21/slim"
SCHEMA = "MARC21slim"
SCHEMA_LOCATION = f"{MARC_NS} http://www.loc.gov/standards/marcxml/schema/MARC21slim.xsd"
NSMAP: dict[str | None, str] = {None: MARC_NS, "xsi": XSI_NS}

RELATOR_TERMS = {
    "aut": "author", "cre": "creator", "edt": "editor", "ths": "thesis advisor", "opn": "opponent",
    "exm": "examiner", "trl": "translator", "pbl": "publisher", "ctb": "contributor",
    "dgg": "degree granting institution",
}
_IDENTIFIER_SOURCES = {"doi": "doi", "urn": "urn", "handle": "hdl", "pmid": "pmid", "isi": "isi",
                       "scopus": "scopus", "arxiv": "arxiv", "uri": "uri"}
_CONFERENCE_TYPES = ("kon", "pro")
_THESIS_TYPES = ("dok", "lic", "stud")

Subfields = list[tuple[str, str | None]]
Field = tuple[str, str, str, Subfields]  # tag, first indicator, second indicator, subfields


def marc(local: str) -> str:
    """The qualified name of a MARCXML element."""
    return f"{{{MARC_NS}}}{local}"


def leader(pub: Publication) -> str:
    """The 24 positions: record length and base address left blank, as MARCXML does not count bytes."""
    if pub.host and pub.host.kind == "journal":
        level = "b"
    elif pub.host:
        level = "a"
    else:
        level = "m"
    return f"     na{level} a22      c 4500"


def field_008(pub: Publication, electronic: bool) -> str:
    """The 40 fixed positions for books (language material); ``|`` where nothing is coded."""
    entered = utc_day(pub.created).strftime("%y%m%d") if pub.created else "||||||"
    dates = f"s{pub.issued.year:04d}" if pub.issued else "nuuuu"
    nature = "m   " if pub.publication_type in _THESIS_TYPES else "    "
    conference = "1" if pub.publication_type in _CONFERENCE_TYPES else "0"
    language = mods_lang(pub.languages[0]) if pub.languages else "und"
    books = f"     {'o' if electronic else ' '}{nature} {conference}00 0 "
    return f"{entered}{dates}    xx {books}{language} d"


def _name_field(person: Contributor, main: bool, roles: Iterable[str]) -> Field:
    roles = list(roles)
    subfields: Subfields = [("a", inverted_name(person))]
    subfields += [("e", RELATOR_TERMS.get(r, r)) for r in roles] + [("4", r) for r in roles]
    affiliations = "; ".join(tidy(a.name) for a in person.affiliations if has_text(a.name))
    subfields.append(("u", affiliations or None))
    if person.orcid:
        subfields.append(("1", f"https://orcid.org/{person.orcid}"))
    if person.is_person:
        return ("100" if main else "700", "1", " ", subfields)
    return ("110" if main else "710", "2", " ", subfields)


def _names(pub: Publication) -> list[Field]:
    fields = []
    main = next(iter(pub.authors), None)
    for person in pub.contributors:
        fields.append(_name_field(person, person is main, person.roles))
    if pub.thesis and has_text(pub.thesis.granting_institution):
        fields.append(("710", "2", " ", [("a", pub.thesis.granting_institution), ("e", RELATOR_TERMS["dgg"]),
                                         ("4", "dgg")]))
    if pub.conference:
        days = [d.isoformat() for d in (pub.conference.start, pub.conference.end) if d]
        fields.append(("711", "2", " ", [("a", pub.conference.name), ("d", "/".join(dict.fromkeys(days)) or None),
                                         ("c", pub.conference.place)]))
    return fields


def _identifiers(pub: Publication) -> list[Field]:
    fields: list[Field] = []
    for ident in pub.identifiers:
        if ident.scheme == "isbn":
            fields.append(("020", " ", " ", [("a", ident.value), ("q", ident.qualifier)]))
        elif ident.scheme in ("issn", "eissn"):
            fields.append(("022", " ", " ", [("a", ident.value)]))
        elif ident.scheme in _IDENTIFIER_SOURCES:
            fields.append(("024", "7", " ", [("a", ident.value), ("2", _IDENTIFIER_SOURCES[ident.scheme])]))
        elif ident.scheme == "libris":
            fields.append(("035", " ", " ", [("a", f"(SE-LIBR){ident.value}")]))
        else:
            fields.append(("035", " ", " ", [("a", f"({pub.institution_code or ident.scheme}){ident.value}")]))
    return fields


def _titles(pub: Publication) -> list[Field]:
    fields: list[Field] = []
    authors = ", ".join(name for c in pub.authors if (name := tidy(c.display_name())))
    for title in pub.titles:
        subfields: Subfields = [("a", title.title), ("b", title.subtitle)]
        if title.kind == "main":
            fields.append(("245", "1" if pub.authors else "0", "0", subfields + [("c", authors or None)]))
        else:
            fields.append(("246", "3", "1" if title.kind == "translated" else " ", subfields))
    return fields


def _host(host: HostItem, pub: Publication) -> Field:
    issue = ", ".join(f"{label} {tidy(value)}" for label, value in (("Vol.", host.volume), ("no.", host.issue))
                      if has_text(value))
    if pub.issued:
        issue = f"{issue} ({pub.issued.year})".strip()
    numbering = [issue, f"art. {tidy(host.article_number)}" if has_text(host.article_number) else None,
                 f"p. {host.pages()}" if host.pages() else None]
    enumeration = ":".join(p for p in (host.volume, host.issue) if has_text(p))
    if has_text(host.page_start):
        enumeration += f"<{tidy(host.page_start)}"
    publication = " : ".join(tidy(p) for p in (host.place, host.publisher) if has_text(p))
    title = f"{tidy(host.title)} : {tidy(host.subtitle)}" if has_text(host.subtitle) else host.title
    return ("773", "0", " ", [("t", title), ("d", publication or None),
                              ("g", ", ".join(p for p in numbering if p) or None), ("q", enumeration or None),
                              ("x", host.issn), ("x", host.eissn)] + [("z", isbn) for isbn in host.isbns])


def _notes(pub: Publication, day: dt.date) -> list[Field]:
    fields: list[Field] = [("490", "0", " ", [("a", s.title), ("v", s.number), ("x", s.issn)]) for s in pub.series]
    fields += [("500", " ", " ", [("a", note.text)]) for note in pub.notes]
    if pub.publication_status != "published":
        fields.append(("500", " ", " ", [("a", f"Publication status: "
                                               f"{PUBLICATION_STATUS_LABELS.get(pub.publication_status)}")]))
    if pub.thesis:
        thesis = pub.thesis
        defence = [thesis.defence_at.date().isoformat() if thesis.defence_at else None, thesis.defence_place]
        fields.append(("502", " ", " ", [("b", thesis.degree_name), ("c", thesis.granting_institution),
                                         ("d", str(pub.issued.year) if pub.issued else None),
                                         ("g", ", ".join(tidy(p) for p in defence if has_text(p)) or None)]))
    access = access_status(pub, day)
    if access.embargo_until:
        fields.append(("506", "1", " ", [("a", f"Embargoed until {access.embargo_until.isoformat()}"),
                                         ("g", access.embargo_until.isoformat()), ("u", access.coar_uri)]))
    else:
        fields.append(("506", "0" if access.status == "open" else "1", " ",
                       [("a", access.label.capitalize()), ("u", access.coar_uri)]))
    fields += [("520", "3", " ", [("a", abstract.text)]) for abstract in pub.abstracts]
    if has_text(pub.licence):
        fields.append(("540", " ", " ", [("a", pub.licence), ("u", pub.licence)]))
    return fields


def _subjects(pub: Publication) -> list[Field]:
    fields: list[Field] = [("084", " ", " ", [("a", s.code), ("2", "ssif")]) for s in pub.subjects]
    for keyword in pub.keywords:
        if keyword.scheme:
            fields.append(("650", " ", "7", [("a", keyword.term), ("2", keyword.scheme)]))
        else:
            fields.append(("653", " ", " ", [("a", keyword.term)]))
    return fields


def _links(pub: Publication, day: dt.date) -> list[Field]:
    fields: list[Field] = []
    for related in pub.related:
        ids = [f"({i.scheme}){i.value}" for i in related.identifiers]
        tag = "774" if related.relation == "constituent" else "787"
        fields.append((tag, "0", " ", [("i", None if tag == "774" else related.relation), ("t", related.title),
                                       ("w", related.record_id)] + [("o", i) for i in ids] + [("o", related.url)]))
    if has_text(pub.url):
        fields.append(("856", "4", "0", [("u", pub.url), ("y", "Landing page")]))
    for file in open_files(pub, day):
        fields.append(("856", "4", "0", [("u", file.url), ("q", file.mime_type),
                                         ("y", "Full text" if file.role == "fulltext" else "Supplementary material")]))
    fields += [("856", "4", "2", [("u", link.url), ("y", link.label)]) for link in pub.links]
    return fields


def element(pub: Publication, *, today: dt.date | None = None) -> etree._Element:
    """The record's MARCXML ``record`` element, complete on its own."""
    day = today or today_utc()
    electronic = bool(pub.files or pub.links or pub.doi or pub.online)
    root = root_element(marc("record"), NSMAP, {XSI_SCHEMA_LOCATION: SCHEMA_LOCATION, "type": "Bibliographic"})
    add(root, marc("leader"), leader(pub))
    add(root, marc("controlfield"), pub.id, tag="001")
    changed = pub.updated or pub.datestamp
    if changed:
        add(root, marc("controlfield"), changed.astimezone(dt.timezone.utc).strftime("%Y%m%d%H%M%S.0")
            if changed.tzinfo else changed.strftime("%Y%m%d%H%M%S.0"), tag="005")
    add(root, marc("controlfield"), field_008(pub, electronic), tag="008")
    fields = _identifiers(pub)
    fields.append(("040", " ", " ", [("a", pub.institution_code)]))
    fields.append(("041", "0", " ", [("a", mods_lang(code)) for code in pub.languages]))
    fields += _subjects(pub) + _names(pub) + _titles(pub)
    fields.append(("250", " ", " ", [("a", pub.edition)]))
    fields.append(("264", " ", "1", [("a", pub.place), ("b", pub.publisher),
                                     ("c", pub.issued.iso() if pub.issued else None)]))
    fields.append(("300", " ", " ", [("a", pub.extent)]))
    fields.append(("336", " ", " ", [("a", "text"), ("b", "txt"), ("2", "rdacontent")]))
    if electronic:
        fields.append(("337", " ", " ", [("a", "computer"), ("b", "c"), ("2", "rdamedia")]))
        fields.append(("338", " ", " ", [("a", "online resource"), ("b", "cr"), ("2", "rdacarrier")]))
    fields += _notes(pub, day)
    if pub.host:
        fields.append(_host(pub.host, pub))
    fields += _links(pub, day)
    for tag, first, second, subfields in sorted(fields, key=lambda f: f[0]):  # stable: same tags keep their order
        present = [(code, tidy(value)) for code, value in subfields if value is not None and has_text(value)]
        if present:
            datafield = add(root, marc("datafield"), tag=tag, ind1=first, ind2=second)
            for code, value in present:
                add(datafield, marc("subfield"), value, code=code)
    return root


def render(pub: Publication, *, today: dt.date | None = None) -> bytes:
    """One record as a MARCXML document."""
    return document(element(pub, today=today))


def render_many(pubs: Iterable[Publication], *, today: dt.date | None = None) -> Iterator[bytes]:
    """Records as one MARCXML ``collection``, streamed record by record."""
    day = today or today_utc()
    return stream_document(marc("collection"), (element(pub, today=day) for pub in pubs), NSMAP,
                           {XSI_SCHEMA_LOCATION: SCHEMA_LOCATION})
