"""MODS 3.7: the full bibliographic record, and the crosswalk class that swepub_mods extends.

The record follows what DiVA sends SwePub wherever MODS leaves a choice (so one shape serves
library systems and the national aggregator), and validates against the MODS 3.7 schema.

Choices worth knowing
- Genres: ``genre authority="kb.se" type="outputType"`` (the KB output type, with its id.kb.se
  ``valueURI``), ``authority="svep" type="publicationType"`` for SVEP types (student theses have
  none), ``authority="svep" type="contentType"`` and a MARC genre term (``authority="marcgt"``)
  for readers that know no Swedish vocabulary.
- Research subjects (SSIF) twice: DiVA's ``subject authority="uka.se" xlink:href="<code>"`` with
  the label path as ``topic`` per language, and SwePub 4.0's ``classification authority="ssif"``.
- A conference is ``name type="conference"`` (as DiVA writes it; a host ``relatedItem`` is
  forbidden for proceedings and means the book for a paper), with its dates as a ``date``
  namePart and name, place and dates together in ``displayForm``.
- The degree-granting institution is a corporate name with the MARC relator role ``dgg``.
- Notes, by ``type``: ``publicationStatus`` (SwePub's capitalised values), ``creatorCount``;
  for theses ``thesisLevel`` (Hylla's level code: doctoral, licentiate, bachelor,
  master-one-year, master-two-years, professional), ``credits``, ``degree`` and ``venue`` (the
  defence room; both DiVA's names), ``programme``; ``funder`` (DiVA's) with project and grant.
- Dates in ``originInfo``: ``dateIssued``, ``dateOther`` of type ``defence`` (date-time),
  ``online``, ``accepted`` and ``nailing`` (the electronic publication, "spikning", of a
  doctoral thesis), all ``encoding="w3cdtf"``.
- Access: a full text is linked (``location/url``) only while it is open on the day the record
  is written (``today``, UTC by default), so an embargo hides the file until it lifts. The status
  is an ``accessCondition type="restriction on access"`` linking the COAR access-right concept,
  plus one with ``displayLabel="embargo"`` holding the lift date while embargoed.
- Identifier types are the read model's scheme names, except ``handle`` which MODS and SwePub
  call ``hdl``; an ISBN's qualifier (print, online) becomes its ``displayLabel``.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable, Iterator

from lxml import etree

from exports.readmodel import (
    SVEP_TYPES, Affiliation, Conference, Contributor, HostItem, PartialDate, Publication, RelatedRecord, Series,
    Subject,
)
from exports.vocabularies import OUTPUT_TYPE_BASE_URI, output_types, ssif_2025, to_bibliographic
from exports.xml import (
    MODS_NS, XLINK_HREF, XLINK_NS, XSI_NS, XSI_SCHEMA_LOCATION, Attributes, access_status, add, add_text,
    document, has_text, open_files, output_type_of, root_element, stream_document, tidy, today_utc, utc_day,
    w3c_datetime,
)

VERSION = "3.7"
SCHEMA = "mods-3-7"
SCHEMA_LOCATION = f"{MODS_NS} http://www.loc.gov/standards/mods/v3/mods-3-7.xsd"
NSMAP: dict[str | None, str] = {None: MODS_NS, "xlink": XLINK_NS, "xsi": XSI_NS}

PUBLICATION_STATUS_LABELS: dict[str, str] = {
    "published": "Published",
    "submitted": "Submitted",
    "accepted": "Accepted",
    "in-press": "In press",
    "epub-ahead-of-print": "Epub ahead of print/Online first",
    "preprint": "Preprint",
    "retracted": "Retracted",
}
_TITLE_TYPES = {"main": None, "translated": "translated", "alternative": "alternative"}
_IDENTIFIER_TYPES = {"handle": "hdl"}
_MARC_GENRES = {
    "art": "article", "for": "survey of literature", "rec": "review", "kon": "conference publication",
    "pro": "conference publication", "bok": "book", "sam": "book", "dok": "thesis", "lic": "thesis",
    "stud": "thesis", "pat": "patent",
}
_RELATED_TYPES = {
    "constituent": "constituent", "host": "host", "series": "series", "preceding": "preceding",
    "succeeding": "succeeding", "original": "original", "otherVersion": "otherVersion",
    "isVersionOf": "otherVersion", "hasVersion": "otherVersion", "otherFormat": "otherFormat",
    "references": "references", "isReferencedBy": "isReferencedBy", "reviewOf": "reviewOf",
}


def mods(local: str) -> str:
    """The qualified name of a MODS element."""
    return f"{{{MODS_NS}}}{local}"


@functools.cache
def mods_lang(code: str | None) -> str | None:
    """The ISO 639-2/B form MODS ``lang`` attributes and SwePub use (cached: pycountry looks up slowly)."""
    return to_bibliographic(code) if code else None


def ssif_label_paths(subject: Subject) -> tuple[list[str], list[str]]:
    """English and Swedish labels from the top of SSIF down to ``subject``, as DiVA lists its topics.

    The record's own labels win for the subject itself; broader levels come from the bundled
    vocabulary. A code the vocabulary does not know yields only the record's labels.
    """
    terms = ssif_2025()
    chain = []
    code: str | None = subject.code
    while code is not None and code in terms:
        chain.append(terms[code])
        code = terms[code].broader
    chain.reverse()
    english = [t.label_en for t in chain[:-1]] + [subject.label_en or (chain[-1].label_en if chain else "")]
    swedish = [t.label_sv for t in chain[:-1]] + [subject.label_sv or (chain[-1].label_sv if chain else "")]
    return [label for label in english if label], [label for label in swedish if label]


class ModsCrosswalk:
    """Publication -> ``mods:mods``, one method per part of the record so a profile can override a part.

    Instances hold no state: one serves every record and thread.
    """

    def element(self, pub: Publication, *, today: dt.date | None = None) -> etree._Element:
        """The record's ``mods`` element, complete on its own (namespaces, version, schema location)."""
        day = today or today_utc()
        root = root_element(mods("mods"), NSMAP, {"version": VERSION, XSI_SCHEMA_LOCATION: SCHEMA_LOCATION})
        self.add_genres(root, pub)
        self.add_names(root, pub)
        self.add_titles(root, pub)
        self.add_languages(root, pub)
        self.add_origin(root, pub)
        self.add_physical_description(root, pub, day)
        self.add_identifiers(root, pub)
        add(root, mods("typeOfResource"), self.resource_type(pub))
        self.add_related_items(root, pub)
        self.add_subjects(root, pub)
        for abstract in pub.abstracts:
            add_text(root, mods("abstract"), abstract.text, lang=mods_lang(abstract.lang))
        self.add_notes(root, pub)
        self.add_location(root, pub, day)
        self.add_access_conditions(root, pub, day)
        self.add_record_info(root, pub)
        return root

    def render(self, pub: Publication, *, today: dt.date | None = None) -> bytes:
        """One record as a complete MODS document."""
        return document(self.element(pub, today=today))

    def render_many(self, pubs: Iterable[Publication], *, today: dt.date | None = None) -> Iterator[bytes]:
        """Records as one ``modsCollection`` document, streamed record by record."""
        day = today or today_utc()
        records = (self.element(pub, today=day) for pub in pubs)
        return stream_document(mods("modsCollection"), records, NSMAP, {XSI_SCHEMA_LOCATION: SCHEMA_LOCATION})

    # -- genres and names ---------------------------------------------------------------------

    def add_genres(self, root: etree._Element, pub: Publication) -> None:
        output = output_type_of(pub)
        if output:
            known = output_types().get(output)
            add(root, mods("genre"), output, authority="kb.se", type="outputType",
                valueURI=known.uri if known else OUTPUT_TYPE_BASE_URI + output)
        if pub.publication_type in SVEP_TYPES:
            add(root, mods("genre"), pub.publication_type, authority="svep", type="publicationType")
        if pub.content_type:
            add(root, mods("genre"), pub.content_type, authority="svep", type="contentType")
        if pub.publication_type in _MARC_GENRES:
            add(root, mods("genre"), _MARC_GENRES[pub.publication_type], authority="marcgt")

    def add_names(self, root: etree._Element, pub: Publication) -> None:
        for contributor in pub.contributors:
            self.add_name(root, contributor, pub)
        if pub.conference:
            self.add_conference(root, pub.conference)
        if pub.thesis and has_text(pub.thesis.granting_institution):
            name = add(root, mods("name"), type="corporate")
            add(name, mods("namePart"), pub.thesis.granting_institution)
            self.add_role(name, "dgg")

    def name_attributes(self, contributor: Contributor, pub: Publication) -> Attributes:
        """Attributes of a ``name`` element beyond its type: none in plain MODS."""
        return {}

    def add_name(self, parent: etree._Element, contributor: Contributor, pub: Publication,
                 roles: tuple[str, ...] | None = None) -> etree._Element:
        """A person or corporate body with its roles, affiliations and identifiers."""
        kind = "personal" if contributor.is_person else "corporate"
        name = add(parent, mods("name"), None, self.name_attributes(contributor, pub), type=kind)
        if contributor.is_person:
            add_text(name, mods("namePart"), contributor.family, type="family")
            add_text(name, mods("namePart"), contributor.given, type="given")
        else:
            add_text(name, mods("namePart"), contributor.corporate_name)
        for role in roles if roles is not None else contributor.roles:
            self.add_role(name, role)
        for affiliation in contributor.affiliations:
            self.add_affiliation(name, affiliation, pub)
        if contributor.orcid:
            add(name, mods("nameIdentifier"), contributor.orcid, type="orcid")
        if contributor.local_id:
            add(name, mods("nameIdentifier"), contributor.local_id, type=pub.institution_code or "local")
        return name

    def add_role(self, name: etree._Element, code: str) -> None:
        role = add(name, mods("role"))
        add(role, mods("roleTerm"), code, type="code", authority="marcrelator")

    def add_affiliation(self, name: etree._Element, affiliation: Affiliation, pub: Publication) -> None:
        add_text(name, mods("affiliation"), affiliation.name)

    def add_conference(self, root: etree._Element, conference: Conference) -> None:
        name = add(root, mods("name"), type="conference")
        add(name, mods("namePart"), conference.name)
        dates = self.conference_dates(conference)
        if dates:
            add(name, mods("namePart"), dates, type="date")
        shown = ", ".join(p for p in (conference.name, conference.place, dates.replace("/", "–")) if has_text(p))
        add(name, mods("displayForm"), shown)

    @staticmethod
    def conference_dates(conference: Conference) -> str:
        """``start/end`` in ISO 8601 (one date when the event has one day), empty when unknown."""
        days = [d.isoformat() for d in (conference.start, conference.end) if d is not None]
        return "/".join(dict.fromkeys(days))

    # -- title, language, origin ----------------------------------------------------------------

    def add_titles(self, root: etree._Element, pub: Publication) -> None:
        for title in pub.titles:
            if title.kind not in _TITLE_TYPES:
                raise ValueError(f"record {pub.id}: title kind {title.kind!r} is not one of "
                                 f"{', '.join(_TITLE_TYPES)}")
            info = add(root, mods("titleInfo"), type=_TITLE_TYPES[title.kind], lang=mods_lang(title.lang))
            add(info, mods("title"), tidy(title.title))
            add_text(info, mods("subTitle"), title.subtitle)

    def add_languages(self, root: etree._Element, pub: Publication) -> None:
        for code in pub.languages:
            language = add(root, mods("language"))
            add(language, mods("languageTerm"), mods_lang(code), type="code", authority="iso639-2b")

    def date_issued(self, issued: PartialDate) -> str:
        """The publication date as precisely as it is known."""
        return issued.iso()

    def add_origin(self, root: etree._Element, pub: Publication) -> None:
        origin = etree.Element(mods("originInfo"))
        add_text(origin, mods("publisher"), pub.publisher)
        if has_text(pub.place):
            add(add(origin, mods("place")), mods("placeTerm"), pub.place, type="text")
        if pub.issued:
            add(origin, mods("dateIssued"), self.date_issued(pub.issued), encoding="w3cdtf")
        add_text(origin, mods("edition"), pub.edition)
        other_dates: list[tuple[str, str]] = []
        if pub.thesis and pub.thesis.defence_at:
            other_dates.append(("defence", w3c_datetime(pub.thesis.defence_at)))
        if pub.online:
            other_dates.append(("online", pub.online.isoformat()))
        if pub.accepted:
            other_dates.append(("accepted", pub.accepted.isoformat()))
        if pub.thesis and pub.thesis.nailing_date:
            other_dates.append(("nailing", pub.thesis.nailing_date.isoformat()))
        for kind, value in other_dates:
            add(origin, mods("dateOther"), value, type=kind, encoding="w3cdtf")
        if len(origin):
            root.append(origin)

    def add_physical_description(self, root: etree._Element, pub: Publication, day: dt.date) -> None:
        description = etree.Element(mods("physicalDescription"))
        if pub.files or pub.links or pub.doi or pub.online:
            add(description, mods("form"), "electronic", authority="marcform")
        for mime_type in dict.fromkeys(f.mime_type for f in open_files(pub, day)):
            add_text(description, mods("internetMediaType"), mime_type)
        add_text(description, mods("extent"), pub.extent)
        if len(description):
            root.append(description)

    # -- identifiers and related items --------------------------------------------------------------

    def identifiers(self, pub: Publication) -> list[tuple[str, str, str | None]]:
        """(MODS type, value, displayLabel) for each identifier of the record."""
        return [(_IDENTIFIER_TYPES.get(i.scheme, i.scheme), i.value, i.qualifier) for i in pub.identifiers]

    def add_identifiers(self, root: etree._Element, pub: Publication) -> None:
        for kind, value, label in self.identifiers(pub):
            add_text(root, mods("identifier"), value, type=kind, displayLabel=label)

    @staticmethod
    def resource_type(pub: Publication) -> str:
        output = output_type_of(pub) or ""
        if output == "other/software":
            return "software, multimedia"
        if pub.publication_type == "kfu" or output.startswith("artistic-work") or output == "other/data-set":
            return "mixed material"
        return "text"

    def add_related_items(self, root: etree._Element, pub: Publication) -> None:
        if pub.host:
            self.add_host(root, pub.host, pub)
        for series in pub.series:
            self.add_series(root, series)
        for related in pub.related:
            self.add_related_record(root, related)

    def add_host(self, root: etree._Element, host: HostItem, pub: Publication) -> None:
        """The journal, book or proceedings the work appeared in, down to the pages.

        Host editors are editors of the host by definition, so they carry role ``edt`` whatever
        roles their Contributor lists.
        """
        item = add(root, mods("relatedItem"), type="host")
        info = add(item, mods("titleInfo"))
        add(info, mods("title"), tidy(host.title))
        add_text(info, mods("subTitle"), host.subtitle)
        for editor in host.editors:
            self.add_name(item, editor, pub, roles=("edt",))
        if has_text(host.publisher) or has_text(host.place):
            origin = add(item, mods("originInfo"))
            add_text(origin, mods("publisher"), host.publisher)
            if has_text(host.place):
                add(add(origin, mods("place")), mods("placeTerm"), host.place, type="text")
        add_text(item, mods("identifier"), host.issn, type="issn")
        add_text(item, mods("identifier"), host.eissn, type="eissn")
        for isbn in host.isbns:
            add_text(item, mods("identifier"), isbn, type="isbn")
        part = etree.Element(mods("part"))
        for kind, number in (("volume", host.volume), ("issue", host.issue), ("artNo", host.article_number)):
            if has_text(number):
                add(add(part, mods("detail"), type=kind), mods("number"), number)
        if has_text(host.page_start) or has_text(host.page_end):
            extent = add(part, mods("extent"), unit="pages")
            add_text(extent, mods("start"), host.page_start)
            add_text(extent, mods("end"), host.page_end)
        if len(part):
            item.append(part)

    def add_series(self, root: etree._Element, series: Series) -> None:
        """A series with its ISSN and the number in series as DiVA writes it (``issue number``)."""
        item = add(root, mods("relatedItem"), type="series")
        add(add(item, mods("titleInfo")), mods("title"), tidy(series.title))
        add_text(item, mods("identifier"), series.issn, type="issn")
        add_text(item, mods("identifier"), series.eissn, type="eissn")
        add_text(item, mods("identifier"), series.number, type="issue number")

    def add_related_record(self, root: etree._Element, related: RelatedRecord) -> None:
        """Another record, e.g. a constituent paper; relations MODS has no type for go in ``otherType``."""
        kind = _RELATED_TYPES.get(related.relation)
        item = add(root, mods("relatedItem"), type=kind, otherType=None if kind else related.relation)
        add(add(item, mods("titleInfo")), mods("title"), tidy(related.title))
        for ident in related.identifiers:
            add_text(item, mods("identifier"), ident.value, type=_IDENTIFIER_TYPES.get(ident.scheme, ident.scheme))
        add_text(item, mods("identifier"), related.record_id, type="local")
        if has_text(related.url):
            add(add(item, mods("location")), mods("url"), related.url)

    # -- subjects and notes --------------------------------------------------------------------

    def add_subjects(self, root: etree._Element, pub: Publication) -> None:
        for keyword in pub.keywords:
            if has_text(keyword.term):
                subject = add(root, mods("subject"), lang=mods_lang(keyword.lang), authority=keyword.scheme)
                add(subject, mods("topic"), tidy(keyword.term))
        for research_subject in pub.subjects:
            english, swedish = ssif_label_paths(research_subject)
            for lang, labels in (("eng", english), ("swe", swedish)):
                if labels:
                    subject = add(root, mods("subject"), None, {XLINK_HREF: research_subject.code},
                                  lang=lang, authority="uka.se")
                    for label in labels:
                        add(subject, mods("topic"), label)
        for research_subject in pub.subjects:
            add(root, mods("classification"), research_subject.code, authority="ssif")

    def add_notes(self, root: etree._Element, pub: Publication) -> None:
        for note in pub.notes:
            add_text(root, mods("note"), note.text, lang=mods_lang(note.lang))
        try:
            status = PUBLICATION_STATUS_LABELS[pub.publication_status]
        except KeyError:
            raise ValueError(f"record {pub.id}: publication status {pub.publication_status!r} is not one of "
                             f"{', '.join(PUBLICATION_STATUS_LABELS)}") from None
        add(root, mods("note"), status, type="publicationStatus")
        if pub.creator_count is not None:
            add(root, mods("note"), str(pub.creator_count), type="creatorCount")
        if pub.thesis:
            add(root, mods("note"), pub.thesis.level, type="thesisLevel")
            add_text(root, mods("note"), pub.thesis.credits, type="credits")
            add_text(root, mods("note"), pub.thesis.degree_name, type="degree")
            add_text(root, mods("note"), pub.thesis.programme, type="programme")
            add_text(root, mods("note"), pub.thesis.defence_place, type="venue")
        for funding in pub.funding:
            parts = [funding.funder, funding.project_title,
                     f"project {funding.project_id}" if funding.project_id else None,
                     f"grant {funding.grant_id}" if funding.grant_id and funding.grant_id != funding.project_id
                     else None]
            add_text(root, mods("note"), "; ".join(p for p in parts if has_text(p)), type="funder")

    # -- location, access, record --------------------------------------------------------------

    def add_location(self, root: etree._Element, pub: Publication, day: dt.date) -> None:
        location = etree.Element(mods("location"))
        if has_text(pub.url):
            add(location, mods("url"), pub.url, usage="primary", access="object in context")
        for file in open_files(pub, day):
            add(location, mods("url"), file.url, displayLabel=file.role, access="raw object", note="free")
        for link in pub.links:
            if has_text(link.url):
                add(location, mods("url"), link.url, displayLabel=link.label)
        if len(location):
            root.append(location)

    def add_access_conditions(self, root: etree._Element, pub: Publication, day: dt.date) -> None:
        if has_text(pub.licence):
            add(root, mods("accessCondition"), pub.licence, {XLINK_HREF: pub.licence},
                type="use and reproduction")
        access = access_status(pub, day)
        add(root, mods("accessCondition"), access.label, {XLINK_HREF: access.coar_uri},
            type="restriction on access")
        if access.embargo_until:
            add(root, mods("accessCondition"), access.embargo_until.isoformat(),
                type="restriction on access", displayLabel="embargo")

    def add_record_info(self, root: etree._Element, pub: Publication) -> None:
        info = add(root, mods("recordInfo"))
        add_text(info, mods("recordContentSource"), pub.institution_code)
        if pub.created:
            add(info, mods("recordCreationDate"), utc_day(pub.created).isoformat(), encoding="w3cdtf")
        changed = pub.updated or pub.datestamp
        if changed:
            add(info, mods("recordChangeDate"), utc_day(changed).isoformat(), encoding="w3cdtf")
        add(info, mods("recordIdentifier"), pub.oai_identifier or pub.id)


CROSSWALK = ModsCrosswalk()
element = CROSSWALK.element
render = CROSSWALK.render
render_many = CROSSWALK.render_many
