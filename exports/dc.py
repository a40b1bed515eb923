"""oai_dc: the record as the fifteen Dublin Core elements, filled the way the OpenAIRE guidelines ask.

Dublin Core is what every OAI-PMH harvester reads (BASE, CORE, OpenAIRE, Google Scholar's
crawler via the landing page), so the values use the shared vocabularies those services know:
``info:eu-repo/semantics/...`` publication types, versions and access rights, ISO 639-3
language codes, identifiers as resolvable URIs. The same elements make the plain "dc" format
(``exports.dc_simple``), which calls ``add_dc_elements`` here.

Element by element
- title: each title with its subtitle, ``xml:lang`` from the title's language.
- creator: authors and creators, "Family, Given"; contributor: everyone in any other role.
- subject: keywords, then the English and Swedish labels of the SSIF research subjects.
- description: the abstracts. publisher: the publisher, else the host's publisher.
- date: the issue date (ISO 8601, as precise as known), and OpenAIRE's
  ``info:eu-repo/date/embargoEnd/<date>`` while a full text is embargoed.
- type: the OpenAIRE publication type, the full text's version where known, the DCMI type, the
  SVEP publication type code (SwePub's old vocabulary, still what Swedish systems filter on)
  and the KB output type URI.
- format: MIME types of the files (of embargoed ones too: a format reveals no link), the extent.
- identifier: landing page, DOI as https://doi.org/..., the URI and URN:NBN, handle URL,
  ``urn:isbn:`` and ``urn:issn:``, and links to the full texts open on the day.
- source: the host as a citation ("Journal, ISSN ..., Vol. 12, no 3, p. 101-118").
- language: ISO 639-3. relation: series, related records, links.
- rights: the licence URI and the access right (``info:eu-repo/semantics/openAccess`` ...).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator

from lxml import etree

from exports.readmodel import SVEP_TYPES, Contributor, HostItem, Publication, Series, Subject, Title
from exports.vocabularies import OUTPUT_TYPE_BASE_URI, subject_labels
from exports.xml import (
    DC_NS, OAI_DC_NS, XML_LANG, XSI_NS, XSI_SCHEMA_LOCATION, access_status, clean, document, has_text, iso639_3,
    language_tag, open_files, output_type_of, root_element, stream_document, tidy, today_utc,
)

SCHEMA = "oai_dc"
LIST_SCHEMA = "hylla-dc-records"
LIST_ROOT = "records"
SCHEMA_LOCATION = f"{OAI_DC_NS} http://www.openarchives.org/OAI/2.0/oai_dc.xsd"
NSMAP: dict[str | None, str] = {"oai_dc": OAI_DC_NS, "dc": DC_NS, "xsi": XSI_NS}

_EU_REPO_TYPES = {
    "art": "article", "for": "article", "rec": "review", "kon": "conferenceObject", "pro": "conferenceObject",
    "bok": "book", "sam": "book", "kap": "bookPart", "rap": "report", "dok": "doctoralThesis",
    "lic": "doctoralThesis", "pat": "patent", "kfu": "other", "ovr": "other",
}
_EU_REPO_BY_OUTPUT = {
    "publication/preprint": "preprint", "publication/working-paper": "workingPaper",
    "publication/report-chapter": "bookPart", "publication/editorial-letter": "contributionToPeriodical",
    "publication/magazine-article": "contributionToPeriodical",
    "publication/newspaper-article": "contributionToPeriodical",
}
# Licentiate theses are doctoral-level degrees short of the doctorate, and professional degrees
# (e.g. in medicine or engineering) end with an advanced-level thesis, so OpenAIRE's nearest types.
_EU_REPO_BY_THESIS_LEVEL = {
    "doctoral": "doctoralThesis", "licentiate": "doctoralThesis", "bachelor": "bachelorThesis",
    "master-one-year": "masterThesis", "master-two-years": "masterThesis", "professional": "masterThesis",
}
_DCMI_TYPES = {"other/data-set": "Dataset", "other/software": "Software"}


def dc(local: str) -> str:
    """The qualified name of a Dublin Core element."""
    return f"{{{DC_NS}}}{local}"


_DC_TAGS = {local: dc(local) for local in (
    "title", "creator", "subject", "description", "publisher", "contributor", "date", "type", "format", "identifier",
    "source", "language", "relation", "coverage", "rights")}


def eu_repo_type(pub: Publication) -> str:
    """The OpenAIRE ``info:eu-repo/semantics`` publication type."""
    if pub.thesis and pub.publication_type not in SVEP_TYPES:
        return _EU_REPO_BY_THESIS_LEVEL.get(pub.thesis.level, "other")
    output = output_type_of(pub) or ""
    return _EU_REPO_BY_OUTPUT.get(output) or _EU_REPO_TYPES.get(pub.publication_type, "other")


def full_title(title: Title) -> str:
    """Title and subtitle joined, each cleaned first, so a subtitle of nothing but control characters
    leaves no dangling colon."""
    return Title(tidy(title.title), tidy(title.subtitle or "") or None).full()


def ssif_labels(subject: Subject) -> tuple[str, str]:
    """(English, Swedish) labels of a research subject: the record's own, else the vocabulary's."""
    english, swedish = subject_labels(subject.code)
    return subject.label_en or english, subject.label_sv or swedish


def inverted_name(contributor: Contributor) -> str:
    """"Family, Given" from cleaned parts; the read model's own form would print "None, Given" for a
    person known only by a given name and a lone comma for a family name of control characters."""
    if not contributor.is_person:
        return tidy(contributor.corporate_name or "")
    family, given = tidy(contributor.family or ""), tidy(contributor.given or "")
    return f"{family}, {given}" if family and given else family or given


def host_citation(host: HostItem) -> str:
    """The host as one line, the way DiVA writes ``dc:source``."""
    parts = [f"{tidy(host.title)}: {tidy(host.subtitle)}" if has_text(host.subtitle) else tidy(host.title)]
    parts += [f"{label} {value}" for label, value in (("ISSN", host.issn), ("E-ISSN", host.eissn)) if value]
    parts += [f"ISBN {isbn}" for isbn in host.isbns]
    parts += [f"{label} {value}" for label, value in (("Vol.", host.volume), ("no", host.issue),
                                                      ("article no", host.article_number)) if has_text(value)]
    if host.pages():
        parts.append(f"p. {host.pages()}")
    return ", ".join(parts)


def series_statement(series: Series) -> str:
    """Series title, ISSN and number, as a library catalogue prints a series."""
    text = tidy(series.title)
    if series.issn:
        text += f", ISSN {series.issn}"
    if has_text(series.number):
        text += f" ; {tidy(series.number)}"
    return text


def _identifiers(pub: Publication, day: dt.date) -> list[str]:
    values = [pub.url] if pub.url else []
    for ident in pub.identifiers:
        if ident.scheme == "doi":
            values.append(f"https://doi.org/{ident.value}")
        elif ident.scheme in ("uri", "urn"):
            values.append(ident.value)
        elif ident.scheme == "handle":
            values.append(f"https://hdl.handle.net/{ident.value}")
        elif ident.scheme in ("isbn", "issn", "eissn"):
            values.append(f"urn:{ident.scheme.removeprefix('e')}:{ident.value}")
    values += [f.url for f in open_files(pub, day) if f.role == "fulltext" and f.url]
    return list(dict.fromkeys(values))


def _types(pub: Publication) -> list[str]:
    types = [f"info:eu-repo/semantics/{eu_repo_type(pub)}"]
    version = next((f.version for f in pub.files if f.role == "fulltext" and f.version), None)
    if version:
        types.append(f"info:eu-repo/semantics/{version}Version")
    output = output_type_of(pub)
    types.append(_DCMI_TYPES.get(output or "", "Text"))
    if pub.publication_type in SVEP_TYPES:
        types.append(pub.publication_type)
    if output:
        types.append(OUTPUT_TYPE_BASE_URI + output)
    return types


def add_dc_elements(parent: etree._Element, pub: Publication, day: dt.date) -> None:
    """Append the record's ``dc:*`` elements to ``parent`` (an ``oai_dc:dc`` or a plain container)."""
    sub_element = etree.SubElement

    def put(local: str, text: str | None, lang: str | None = None) -> None:
        # What ``add_text(parent, dc(local), text, {XML_LANG: language_tag(lang)})`` writes, without
        # its general attribute handling: a harvest writes some thirty of these per record.
        if text is None:
            return
        value = tidy(text)
        if not value:
            return
        tag = language_tag(lang) if lang else None
        el = sub_element(parent, _DC_TAGS[local], {XML_LANG: clean(tag)} if tag is not None else None)
        el.text = value

    for title in pub.titles:
        put("title", full_title(title), title.lang)
    authors = pub.authors
    for person in authors:
        put("creator", inverted_name(person))
    author_ids = {id(person) for person in authors}  # the same objects: no field-by-field comparisons
    for person in pub.contributors:
        if id(person) not in author_ids:
            put("contributor", inverted_name(person))
    for keyword in pub.keywords:
        put("subject", keyword.term, keyword.lang)
    for subject in pub.subjects:
        english, swedish = ssif_labels(subject)
        put("subject", english, "eng")
        put("subject", swedish, "swe")
    for abstract in pub.abstracts:
        put("description", abstract.text, abstract.lang)
    put("publisher", pub.publisher if has_text(pub.publisher) else pub.host.publisher if pub.host else None)
    if pub.issued:
        put("date", pub.issued.iso())
    access = access_status(pub, day)
    if access.embargo_until:
        put("date", f"info:eu-repo/date/embargoEnd/{access.embargo_until.isoformat()}")
    for kind in _types(pub):
        put("type", kind)
    for mime_type in dict.fromkeys(f.mime_type for f in pub.files if f.role in ("fulltext", "supplementary")):
        put("format", mime_type)
    put("format", pub.extent)
    for identifier in _identifiers(pub, day):
        put("identifier", identifier)
    if pub.host:
        put("source", host_citation(pub.host))
    for code in pub.languages:
        put("language", iso639_3(code))
    for series in pub.series:
        put("relation", series_statement(series))
    for related in pub.related:
        put("relation", related.url or related.title)
    for link in pub.links:
        put("relation", link.url)
    put("rights", pub.licence)
    put("rights", access.eu_repo)


def element(pub: Publication, *, today: dt.date | None = None) -> etree._Element:
    """The record's ``oai_dc:dc`` element, complete on its own, for OAI-PMH ``metadata``."""
    root = root_element(f"{{{OAI_DC_NS}}}dc", NSMAP, {XSI_SCHEMA_LOCATION: SCHEMA_LOCATION})
    add_dc_elements(root, pub, today or today_utc())
    return root


def render(pub: Publication, *, today: dt.date | None = None) -> bytes:
    """One record as an ``oai_dc:dc`` document."""
    return document(element(pub, today=today))


def render_many(pubs: Iterable[Publication], *, today: dt.date | None = None) -> Iterator[bytes]:
    """Records as one document: ``<records>`` (no namespace) around one ``oai_dc:dc`` per record.

    oai_dc defines a single record and no list element, and OAI-PMH's own list wrapper carries
    headers we do not have here, so the list gets a plain container that changes nothing inside
    the records: each ``oai_dc:dc`` is byte for byte what OAI-PMH serves. The bundled schema
    ``hylla-dc-records`` describes the container for validation.
    """
    day = today or today_utc()
    return stream_document(LIST_ROOT, (element(pub, today=day) for pub in pubs))
