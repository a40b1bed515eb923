"""DataCite Metadata Schema 4.6: the record in the form DataCite registers DOIs with, valid against its XSD.

Choices worth knowing
- ``identifier``: the DOI (``identifierType="DOI"``). DataCite registers only DOIs, but the
  writer cannot invent one (the prefix and suffix are the minting service's business), so a
  record without a DOI carries its most persistent identifier instead: the URN:NBN
  (``identifierType="URN"``), else its handle, its URI or landing page (``URL``), its OAI-PMH
  identifier (``OAI``) and at last its local id (``Local``). Schema 4.6 leaves
  ``identifierType`` open, so such a record is valid DataCite XML for exchange; a service that
  registers the record with DataCite adds the DOI to the record first and gets it here.
- ``creators``: the authors; for an edited book without authors its editors, as DataCite advises
  when no one else created the work; else DataCite's ``:unav`` (value unavailable). Other roles
  go to ``contributors`` (supervisor -> Supervisor, editor -> Editor, translator -> Translator,
  anything else -> Other), and the institution is the HostingInstitution.
- ``publisher``: the record's publisher, else the host's, else the institution holding the
  record (DataCite's "entity that holds, archives, publishes"), else ``:unav``.
- ``publicationYear``: the issue year, else the year it went online or was created.
- Host: ``relatedIdentifier relationType="IsPublishedIn"`` with its ISSN, e-ISSN and ISBNs (the
  relation DataCite defines for an article in a journal or a chapter in a book; a series is
  ``IsPartOf``), and the same host as a ``relatedItem`` with volume, issue, article number,
  pages and editors. Related records (e.g. the papers of a compilation thesis, ``HasPart``) are
  ``relatedItem`` elements; relations DataCite has no type for are left out.
- ``dates``: Issued, Accepted, Available (the embargo's end while one is in force, else the day it
  went online), Updated, and the thesis defence as Other.
- ``rightsList``: the licence (with its SPDX id for Creative Commons licences) and the access right
  on the day (``info:eu-repo/semantics/openAccess`` ...).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Iterator

from lxml import etree

from exports.dc import full_title, inverted_name, series_statement, ssif_labels
from exports.readmodel import Contributor, HostItem, Publication, RelatedRecord
from exports.xml import (
    DATACITE_NS, XML_LANG, XSI_NS, XSI_SCHEMA_LOCATION, Attributes, access_status, add, add_text, document, has_text,
    language_tag, output_type_of, root_element, stream_document, tidy, today_utc, utc_day, w3c_datetime,
)

SCHEMA = "datacite-metadata-v4.6"
LIST_SCHEMA = "hylla-datacite-resources"
SCHEMA_LOCATION = f"{DATACITE_NS} http://schema.datacite.org/meta/kernel-4.6/metadata.xsd"
NSMAP: dict[str | None, str] = {None: DATACITE_NS, "xsi": XSI_NS}
UNAVAILABLE = ":unav"

_GENERAL_BY_OUTPUT = {
    "publication/journal-article": "JournalArticle", "publication/review-article": "JournalArticle",
    "publication/book": "Book", "publication/edited-book": "Book", "publication/critical-edition": "Book",
    "publication/book-chapter": "BookChapter", "publication/report-chapter": "BookChapter",
    "publication/foreword-afterword": "BookChapter", "publication/report": "Report",
    "publication/working-paper": "Report", "publication/doctoral-thesis": "Dissertation",
    "publication/licentiate-thesis": "Dissertation", "artistic-work/artistic-thesis": "Dissertation",
    "publication/preprint": "Preprint", "publication/journal-issue": "Journal",
    "conference/paper": "ConferencePaper", "conference/proceeding": "ConferenceProceeding",
    "artistic-work/curated-exhibition-or-event": "Event", "other/data-set": "Dataset",
    "other/software": "Software",
}
_GENERAL_BY_SVEP = {
    "art": "JournalArticle", "for": "JournalArticle", "kap": "BookChapter", "bok": "Book", "sam": "Book",
    "kon": "ConferencePaper", "pro": "ConferenceProceeding", "rap": "Report", "dok": "Dissertation",
    "lic": "Dissertation", "stud": "Dissertation",
}
_HOST_TYPES = {"journal": "Journal", "book": "Book", "proceedings": "ConferenceProceeding"}
_CONTRIBUTOR_TYPES = {"ths": "Supervisor", "edt": "Editor", "trl": "Translator"}
_RELATIONS = {
    "constituent": "HasPart", "host": "IsPartOf", "isVersionOf": "IsVersionOf", "hasVersion": "HasVersion",
    "otherVersion": "IsVariantFormOf", "references": "References", "isReferencedBy": "IsReferencedBy",
    "reviewOf": "Reviews", "preceding": "Continues", "succeeding": "IsContinuedBy",
}
_IDENTIFIER_TYPES = {
    "doi": "DOI", "isbn": "ISBN", "issn": "ISSN", "eissn": "EISSN", "pmid": "PMID", "isi": "ISI",
    "scopus": "Scopus", "arxiv": "arXiv", "handle": "Handle", "urn": "URN", "uri": "URI", "libris": "LIBRIS",
    "local": "Local",
}
_CC_LICENCE = re.compile(r"creativecommons\.org/licenses/([a-z\-]+)/(\d\.\d)", re.IGNORECASE)
_CC_ZERO = re.compile(r"creativecommons\.org/publicdomain/zero/1\.0", re.IGNORECASE)


def dcite(local: str) -> str:
    """The qualified name of a DataCite element."""
    return f"{{{DATACITE_NS}}}{local}"


def primary_identifier(pub: Publication) -> tuple[str, str]:
    """(identifierType, value): the DOI, else the most persistent identifier the record has."""
    for scheme, kind in (("doi", "DOI"), ("urn", "URN"), ("handle", "Handle"), ("uri", "URL")):
        value = pub.identifier(scheme)
        if has_text(value):
            return kind, tidy(value)
    for kind, value in (("URL", pub.url), ("OAI", pub.oai_identifier), ("Local", pub.id)):
        if has_text(value):
            return kind, tidy(value)
    raise ValueError("a record without an id, DOI, URN, handle, URI or landing page cannot be named in DataCite "
                     "metadata: give it at least its local id")


def resource_type_general(pub: Publication) -> str:
    output = output_type_of(pub) or ""
    return _GENERAL_BY_OUTPUT.get(output) or _GENERAL_BY_SVEP.get(pub.publication_type) or (
        "Other" if output.startswith(("artistic-work", "intellectual-property")) else "Text")


def resource_type_label(pub: Publication) -> str:
    """The specific type in words: the output type's last part ("Journal article"), or "Student thesis"."""
    output = output_type_of(pub)
    if output is None:
        return "Student thesis" if pub.publication_type == "stud" else pub.publication_type
    return output.rsplit("/", 1)[-1].replace("-", " ").capitalize()


def spdx_id(licence: str) -> str | None:
    """The SPDX id of a Creative Commons licence URI (``CC-BY-4.0``, ``CC0-1.0``), None for others."""
    if _CC_ZERO.search(licence):
        return "CC0-1.0"
    match = _CC_LICENCE.search(licence)
    return f"CC-{match.group(1).upper()}-{match.group(2)}" if match else None


def funder_identifier_type(funder_id: str) -> str:
    if "10.13039/" in funder_id:
        return "Crossref Funder ID"
    if "ror.org/" in funder_id:
        return "ROR"
    if "isni" in funder_id.lower():
        return "ISNI"
    return "Other"


def _publication_year(pub: Publication) -> str:
    if pub.issued:
        return f"{pub.issued.year:04d}"
    if pub.online:
        return f"{pub.online.year:04d}"
    if pub.created:
        return f"{utc_day(pub.created).year:04d}"
    raise ValueError(f"record {pub.id} has no issue date, online date or creation time, and DataCite "
                     "requires a publication year: add the year the work was published")


def _add_person(parent: etree._Element, tag: str, person: Contributor, with_ids: bool = True,
                attrs: Attributes | None = None) -> etree._Element:
    """A creator or contributor: name, given and family name, then ORCID and affiliations (the schema's order)."""
    el = add(parent, dcite(tag), None, attrs)
    name_type = "Personal" if person.is_person else "Organizational"
    add(el, dcite(f"{tag}Name"), inverted_name(person) or UNAVAILABLE, nameType=name_type)
    if person.is_person:
        add_text(el, dcite("givenName"), person.given)
        add_text(el, dcite("familyName"), person.family)
    if not with_ids:
        return el
    if person.orcid:
        add(el, dcite("nameIdentifier"), person.orcid, nameIdentifierScheme="ORCID", schemeURI="https://orcid.org/")
    for affiliation in person.affiliations:
        if affiliation.ror:
            add_text(el, dcite("affiliation"), affiliation.name, affiliationIdentifier=affiliation.ror,
                     affiliationIdentifierScheme="ROR", schemeURI="https://ror.org/")
        else:
            add_text(el, dcite("affiliation"), affiliation.name)
    return el


def _add_creators(root: etree._Element, pub: Publication) -> tuple[Contributor, ...]:
    creators = pub.authors or (pub.contributors_in("edt") if pub.publication_type == "sam" else ())
    wrapper = add(root, dcite("creators"))
    for person in creators:
        _add_person(wrapper, "creator", person)
    if not creators:
        add(add(wrapper, dcite("creator")), dcite("creatorName"), UNAVAILABLE)
    return creators


def _add_titles(root: etree._Element, pub: Publication) -> None:
    titles = [t for t in pub.titles if has_text(t.title)]
    if not titles:
        raise ValueError(f"record {pub.id} has no title, and DataCite requires one")
    wrapper = add(root, dcite("titles"))
    for title in titles:
        lang = {XML_LANG: language_tag(title.lang)}
        if title.kind == "main":
            add_text(wrapper, dcite("title"), title.title, lang)
            add_text(wrapper, dcite("title"), title.subtitle, lang, titleType="Subtitle")
        else:
            kind = "TranslatedTitle" if title.kind == "translated" else "AlternativeTitle"
            add_text(wrapper, dcite("title"), full_title(title), lang, titleType=kind)


def _add_subjects(root: etree._Element, pub: Publication) -> None:
    wrapper = etree.Element(dcite("subjects"))
    for keyword in pub.keywords:
        add_text(wrapper, dcite("subject"), keyword.term, {XML_LANG: language_tag(keyword.lang)},
                 subjectScheme=keyword.scheme)
    for subject in pub.subjects:
        english, swedish = ssif_labels(subject)
        labelled = [(label, lang) for label, lang in ((english, "en"), (swedish, "sv")) if has_text(label)]
        for label, lang in labelled or [(subject.code, None)]:  # a code the vocabulary lacks stands for itself
            add_text(wrapper, dcite("subject"), label, {XML_LANG: lang}, subjectScheme="SSIF 2025",
                     classificationCode=subject.code)
    if len(wrapper):
        root.append(wrapper)


def _add_contributors(root: etree._Element, pub: Publication, creators: tuple[Contributor, ...]) -> None:
    wrapper = etree.Element(dcite("contributors"))
    for person in pub.contributors:
        if person in creators:
            continue
        kinds = [_CONTRIBUTOR_TYPES.get(role, "Other") for role in person.roles if role not in ("aut", "cre")]
        for kind in dict.fromkeys(kinds):
            _add_person(wrapper, "contributor", person, attrs={"contributorType": kind})
    if has_text(pub.institution_name):
        contributor = add(wrapper, dcite("contributor"), contributorType="HostingInstitution")
        add(contributor, dcite("contributorName"), tidy(pub.institution_name), nameType="Organizational")
    if len(wrapper):
        root.append(wrapper)


def _add_dates(root: etree._Element, pub: Publication, day: dt.date) -> None:
    wrapper = etree.Element(dcite("dates"))
    if pub.issued:
        add(wrapper, dcite("date"), pub.issued.iso(), dateType="Issued")
    if pub.accepted:
        add(wrapper, dcite("date"), pub.accepted.isoformat(), dateType="Accepted")
    available = access_status(pub, day).embargo_until or pub.online
    if available:
        add(wrapper, dcite("date"), available.isoformat(), dateType="Available")
    if pub.updated:
        add(wrapper, dcite("date"), utc_day(pub.updated).isoformat(), dateType="Updated")
    if pub.thesis and pub.thesis.defence_at:
        add(wrapper, dcite("date"), w3c_datetime(pub.thesis.defence_at), dateType="Other",
            dateInformation="Public defence of the thesis")
    if len(wrapper):
        root.append(wrapper)


def _add_alternate_identifiers(root: etree._Element, pub: Publication, primary: tuple[str, str]) -> None:
    wrapper = etree.Element(dcite("alternateIdentifiers"))
    for ident in pub.identifiers:
        if tidy(ident.value) != primary[1]:
            add_text(wrapper, dcite("alternateIdentifier"), ident.value,
                     alternateIdentifierType=_IDENTIFIER_TYPES.get(ident.scheme, ident.scheme))
    if has_text(pub.url) and tidy(pub.url) != primary[1]:
        add(wrapper, dcite("alternateIdentifier"), tidy(pub.url), alternateIdentifierType="URL")
    if len(wrapper):
        root.append(wrapper)


def _add_related_identifiers(root: etree._Element, pub: Publication) -> None:
    wrapper = etree.Element(dcite("relatedIdentifiers"))
    related: list[tuple[str, str, str]] = []
    if pub.host:
        related += [("ISSN", v, "IsPublishedIn") for v in (pub.host.issn,) if v]
        related += [("EISSN", v, "IsPublishedIn") for v in (pub.host.eissn,) if v]
        related += [("ISBN", v, "IsPublishedIn") for v in pub.host.isbns]
    for series in pub.series:
        related += [(kind, v, "IsPartOf") for kind, v in (("ISSN", series.issn), ("EISSN", series.eissn)) if v]
    for record in pub.related:
        relation = _RELATIONS.get(record.relation)
        doi = next((i.value for i in record.identifiers if i.scheme == "doi"), None)
        if relation and doi:
            related.append(("DOI", doi, relation))
        elif relation and has_text(record.url):
            related.append(("URL", record.url, relation))
    for kind, value, relation in dict.fromkeys(related):
        add_text(wrapper, dcite("relatedIdentifier"), value, relatedIdentifierType=kind, relationType=relation)
    if len(wrapper):
        root.append(wrapper)


def _add_host_item(wrapper: etree._Element, host: HostItem, pub: Publication) -> None:
    """The host as a ``relatedItem``, in the schema's element order."""
    item = add(wrapper, dcite("relatedItem"), relationType="IsPublishedIn",
               relatedItemType=_HOST_TYPES.get(host.kind, "Other"))
    for kind, value in (("ISSN", host.issn), ("EISSN", host.eissn), ("ISBN", next(iter(host.isbns), None))):
        if value:
            add(item, dcite("relatedItemIdentifier"), value, relatedItemIdentifierType=kind)
            break
    titles = add(item, dcite("titles"))
    add(titles, dcite("title"), tidy(host.title))
    add_text(titles, dcite("title"), host.subtitle, titleType="Subtitle")
    if pub.issued:
        add(item, dcite("publicationYear"), f"{pub.issued.year:04d}")
    add_text(item, dcite("volume"), host.volume)
    add_text(item, dcite("issue"), host.issue)
    add_text(item, dcite("number"), host.article_number, numberType="Article")
    add_text(item, dcite("firstPage"), host.page_start)
    add_text(item, dcite("lastPage"), host.page_end)
    add_text(item, dcite("publisher"), host.publisher)
    if host.editors:
        editors = add(item, dcite("contributors"))
        for editor in host.editors:
            _add_person(editors, "contributor", editor, with_ids=False, attrs={"contributorType": "Editor"})


def _add_related_record(wrapper: etree._Element, record: RelatedRecord) -> None:
    relation = _RELATIONS.get(record.relation)
    if relation is None or not has_text(record.title):
        return
    item = add(wrapper, dcite("relatedItem"), relationType=relation, relatedItemType="Text")
    doi = next((i.value for i in record.identifiers if i.scheme == "doi"), None)
    if doi:
        add(item, dcite("relatedItemIdentifier"), doi, relatedItemIdentifierType="DOI")
    elif has_text(record.url):
        add(item, dcite("relatedItemIdentifier"), tidy(record.url), relatedItemIdentifierType="URL")
    add(add(item, dcite("titles")), dcite("title"), tidy(record.title))


def _add_rights(root: etree._Element, pub: Publication, day: dt.date) -> None:
    wrapper = add(root, dcite("rightsList"))
    if has_text(pub.licence):
        licence = tidy(pub.licence)
        spdx = spdx_id(licence)
        add(wrapper, dcite("rights"), spdx or licence, rightsURI=licence, rightsIdentifier=spdx,
            rightsIdentifierScheme="SPDX" if spdx else None, schemeURI="https://spdx.org/licenses/" if spdx else None)
    access = access_status(pub, day)
    add(wrapper, dcite("rights"), access.label.capitalize(), rightsURI=access.eu_repo)


def _add_descriptions(root: etree._Element, pub: Publication) -> None:
    wrapper = etree.Element(dcite("descriptions"))
    for abstract in pub.abstracts:
        add_text(wrapper, dcite("description"), abstract.text, {XML_LANG: language_tag(abstract.lang)},
                 descriptionType="Abstract")
    for series in pub.series:
        add_text(wrapper, dcite("description"), series_statement(series), descriptionType="SeriesInformation")
    for note in pub.notes:
        add_text(wrapper, dcite("description"), note.text, {XML_LANG: language_tag(note.lang)},
                 descriptionType="Other")
    if len(wrapper):
        root.append(wrapper)


def _add_funding(root: etree._Element, pub: Publication) -> None:
    wrapper = etree.Element(dcite("fundingReferences"))
    for funding in pub.funding:
        if not has_text(funding.funder):
            continue
        reference = add(wrapper, dcite("fundingReference"))
        add(reference, dcite("funderName"), tidy(funding.funder))
        if has_text(funding.funder_id):
            add(reference, dcite("funderIdentifier"), tidy(funding.funder_id),
                funderIdentifierType=funder_identifier_type(funding.funder_id))
        add_text(reference, dcite("awardNumber"), funding.grant_id or funding.project_id)
        add_text(reference, dcite("awardTitle"), funding.project_title)
    if len(wrapper):
        root.append(wrapper)


def element(pub: Publication, *, today: dt.date | None = None) -> etree._Element:
    """The record's DataCite ``resource`` element, complete on its own."""
    day = today or today_utc()
    root = root_element(dcite("resource"), NSMAP, {XSI_SCHEMA_LOCATION: SCHEMA_LOCATION})
    primary = primary_identifier(pub)
    add(root, dcite("identifier"), primary[1], identifierType=primary[0])
    creators = _add_creators(root, pub)
    _add_titles(root, pub)
    publisher = next((p for p in (pub.publisher, pub.host.publisher if pub.host else None, pub.institution_name)
                      if has_text(p)), UNAVAILABLE)
    add(root, dcite("publisher"), tidy(publisher))
    add(root, dcite("publicationYear"), _publication_year(pub))
    add(root, dcite("resourceType"), resource_type_label(pub), resourceTypeGeneral=resource_type_general(pub))
    _add_subjects(root, pub)
    _add_contributors(root, pub, creators)
    _add_dates(root, pub, day)
    if pub.languages:
        add(root, dcite("language"), language_tag(pub.languages[0]))
    _add_alternate_identifiers(root, pub, primary)
    _add_related_identifiers(root, pub)
    if has_text(pub.extent):
        add(add(root, dcite("sizes")), dcite("size"), tidy(pub.extent))
    formats = list(dict.fromkeys(f.mime_type for f in pub.files if f.role in ("fulltext", "supplementary")))
    if formats:
        wrapper = add(root, dcite("formats"))
        for mime_type in formats:
            add(wrapper, dcite("format"), mime_type)
    _add_rights(root, pub, day)
    _add_descriptions(root, pub)
    _add_funding(root, pub)
    items = etree.Element(dcite("relatedItems"))
    if pub.host and has_text(pub.host.title):
        _add_host_item(items, pub.host, pub)
    for record in pub.related:
        _add_related_record(items, record)
    if len(items):
        root.append(items)
    return root


def render(pub: Publication, *, today: dt.date | None = None) -> bytes:
    """One record as a DataCite XML document, ready for DataCite's MDS API once it carries a DOI."""
    return document(element(pub, today=today))


def render_many(pubs: Iterable[Publication], *, today: dt.date | None = None) -> Iterator[bytes]:
    """Records as one document: ``<resources>`` (no namespace) around one DataCite ``resource`` each.

    DataCite defines no collection element (its APIs take one resource at a time), so the list
    gets a plain container that leaves each ``resource`` exactly as DataCite's schema wants it;
    the bundled schema ``hylla-datacite-resources`` describes the container for validation.
    """
    day = today or today_utc()
    return stream_document("resources", (element(pub, today=day) for pub in pubs))
