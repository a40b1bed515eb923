"""DataCite 4.6 export: valid against DataCite's schema for every sample and hostile input, fields in place."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from hypothesis import given, settings
from lxml import etree

from exports import datacite
from exports.readmodel import (
    Affiliation, Contributor, Funding, Identifier, Publication, RelatedRecord, Subject, Title,
)
from exports.schemas import validation_errors
from exports.xml import clean
from tests.samples import (
    all_samples, book_chapter, conference_paper, doctoral_thesis, journal_article, report, student_thesis,
)
from tests.unit.exports.xml_support import DAY, CountingPublications, hostile_text, joined, parse, xp

XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


def record(pub: Publication, today: dt.date = DAY) -> etree._Element:
    return parse(datacite.render(pub, today=today))


@pytest.mark.parametrize("pub", all_samples(), ids=lambda p: p.publication_type)
def test_every_sample_is_valid_datacite_46(pub: Publication) -> None:
    document = datacite.render(pub, today=DAY)
    assert validation_errors(document, datacite.SCHEMA) == []
    assert parse(document).tag == "{http://datacite.org/schema/kernel-4}resource"


def test_render_many_is_one_valid_resources_document_streamed() -> None:
    document = joined(datacite.render_many(all_samples(), today=DAY))
    assert validation_errors(document, datacite.LIST_SCHEMA) == []
    assert len(parse(document)) == len(all_samples())
    pubs = CountingPublications(all_samples(), total=10_000)
    stream = datacite.render_many(pubs, today=DAY)
    next(stream), next(stream)
    assert pubs.taken == 1


def test_the_identifier_is_the_doi_else_the_most_persistent_one() -> None:
    assert [(i.get("identifierType"), i.text) for i in xp(record(journal_article()), "dcite:identifier")] == [
        ("DOI", "10.3354/meps12345")]
    urn = dataclasses.replace(report(), identifiers=(Identifier("urn", "urn:nbn:se:uu:hylla-106"),))
    assert xp(record(urn), "dcite:identifier/@identifierType") == ["URN"]
    assert xp(record(doctoral_thesis()), "dcite:identifier/@identifierType") == ["URL"]
    assert [(i.get("identifierType"), i.text) for i in xp(record(report()), "dcite:identifier")] == [("Local", "106")]
    with_oai = dataclasses.replace(report(), oai_identifier="oai:hylla.example.org:106")
    assert xp(record(with_oai), "dcite:identifier/text()") == ["oai:hylla.example.org:106"]


def test_creators_with_orcid_and_affiliations() -> None:
    creators = xp(record(journal_article()), "dcite:creators/dcite:creator")
    first = creators[0]
    assert xp(first, "dcite:creatorName[@nameType='Personal']/text()") == ["Öberg, Åsa"]
    assert xp(first, "dcite:givenName/text()") == ["Åsa"] and xp(first, "dcite:familyName/text()") == ["Öberg"]
    orcid = xp(first, "dcite:nameIdentifier")[0]
    assert (orcid.text, orcid.get("nameIdentifierScheme"), orcid.get("schemeURI")) == (
        "0000-0002-1825-0097", "ORCID", "https://orcid.org/")
    assert xp(first, "dcite:affiliation/text()") == ["Uppsala universitet, Institutionen för kemi"]
    assert len(creators) == 3


def test_ror_affiliations_are_identified() -> None:
    oxford = Affiliation("University of Oxford", ror="https://ror.org/052gg0110")
    pub = dataclasses.replace(journal_article(), contributors=(Contributor("Smith", "J", affiliations=(oxford,)),))
    affiliation = xp(record(pub), "dcite:creators/dcite:creator/dcite:affiliation")[0]
    assert (affiliation.get("affiliationIdentifier"), affiliation.get("affiliationIdentifierScheme")) == (
        "https://ror.org/052gg0110", "ROR")


def test_corporate_creator_editors_of_an_edited_book_and_unavailable_creators() -> None:
    assert xp(record(report()), "dcite:creators/dcite:creator/dcite:creatorName[@nameType='Organizational']/text()") \
        == ["Naturvårdsverket"]
    edited = dataclasses.replace(report(), publication_type="sam", output_type="publication/edited-book",
                                 contributors=(Contributor("Berg", "Anna", roles=("edt",)),))
    root = record(edited)
    assert xp(root, "dcite:creators/dcite:creator/dcite:creatorName/text()") == ["Berg, Anna"]
    assert xp(root, "dcite:contributors/dcite:contributor[@contributorType='Editor']") == []
    nobody = dataclasses.replace(report(), contributors=())
    assert xp(record(nobody), "dcite:creators/dcite:creator/dcite:creatorName/text()") == [":unav"]
    assert validation_errors(datacite.render(nobody, today=DAY), datacite.SCHEMA) == []


def test_contributors_by_role_and_the_hosting_institution() -> None:
    root = record(doctoral_thesis())
    found = [(c.get("contributorType"), xp(c, "dcite:contributorName/text()")[0])
             for c in xp(root, "dcite:contributors/dcite:contributor")]
    assert found == [("Supervisor", "Ek, Lars"), ("Other", "Doe, Jane")]
    hosting = xp(record(journal_article()),
                 "dcite:contributors/dcite:contributor[@contributorType='HostingInstitution']")
    assert xp(hosting[0], "dcite:contributorName/text()") == ["Uppsala universitet"]
    translator = dataclasses.replace(journal_article(), contributors=journal_article().contributors + (
        Contributor("Lund", "Ida", roles=("trl",)),))
    assert xp(record(translator), "dcite:contributors/dcite:contributor[@contributorType='Translator']"
                                  "/dcite:familyName/text()") == ["Lund"]


def test_titles_subtitle_and_translated_title() -> None:
    titles = [(t.get("titleType"), t.get(XML_LANG), t.text) for t in xp(record(journal_article()), "dcite:titles/*")]
    assert titles == [(None, "sv", "Ålgräsängar i Östersjön"),
                      ("Subtitle", "sv", "en översikt över förändringar 1990–2020"),
                      ("TranslatedTitle", "en", "Eelgrass meadows in the Baltic Sea: a review of changes 1990–2020")]


def test_a_record_without_a_title_is_refused() -> None:
    with pytest.raises(ValueError, match="record 101 has no title"):
        datacite.render(dataclasses.replace(journal_article(), titles=(Title("\x00 "),)))


def test_publisher_year_and_resource_type() -> None:
    root = record(doctoral_thesis())
    assert xp(root, "dcite:publisher/text()") == ["Acta Universitatis Upsaliensis"]
    assert xp(root, "dcite:publicationYear/text()") == ["2023"]
    assert xp(record(book_chapter()), "dcite:publisher/text()") == ["Springer"]
    assert xp(record(journal_article()), "dcite:publisher/text()") == ["Uppsala universitet"]
    assert xp(record(conference_paper()), "dcite:publisher/text()") == [":unav"]
    undated = dataclasses.replace(journal_article(), issued=None)
    assert xp(record(undated), "dcite:publicationYear/text()") == ["2021"]  # the online date's year
    with pytest.raises(ValueError, match="requires a publication year"):
        datacite.render(dataclasses.replace(report(), issued=None))


@pytest.mark.parametrize(("pub", "general", "label"), [
    (journal_article(), "JournalArticle", "Journal article"),
    (book_chapter(), "BookChapter", "Book chapter"),
    (conference_paper(), "ConferencePaper", "Paper"),
    (doctoral_thesis(), "Dissertation", "Doctoral thesis"),
    (student_thesis(), "Dissertation", "Student thesis"),
    (report(), "Report", "Report"),
    (dataclasses.replace(report(), output_type="other/data-set"), "Dataset", "Data set"),
    (dataclasses.replace(report(), output_type="intellectual-property/patent", publication_type="pat"), "Other",
     "Patent"),
    (dataclasses.replace(report(), output_type="publication/book-review", publication_type="rec"), "Text",
     "Book review"),
], ids=lambda v: v if isinstance(v, str) else getattr(v, "publication_type", None))
def test_resource_types(pub: Publication, general: str, label: str) -> None:
    resource_type = xp(record(pub), "dcite:resourceType")[0]
    assert (resource_type.get("resourceTypeGeneral"), resource_type.text) == (general, label)


def test_subjects_keywords_and_ssif() -> None:
    subjects = [(s.get("subjectScheme"), s.get("classificationCode"), s.get(XML_LANG), s.text)
                for s in xp(record(journal_article()), "dcite:subjects/dcite:subject")]
    assert subjects == [(None, None, "sv", "ålgräs"), (None, None, "en", "eelgrass"), (None, None, "en", "Baltic Sea"),
                        ("SSIF 2025", "10501", "en", "Climate Science"),
                        ("SSIF 2025", "10501", "sv", "Klimatvetenskap")]


def test_dates_language_sizes_and_formats() -> None:
    root = record(journal_article())
    assert [(d.get("dateType"), d.text) for d in xp(root, "dcite:dates/dcite:date")] == [
        ("Issued", "2021-05-17"), ("Available", "2021-04-02"), ("Updated", "2024-03-01")]
    assert xp(root, "dcite:language/text()") == ["sv"]
    assert xp(root, "dcite:formats/dcite:format/text()") == ["application/pdf"]
    thesis = record(doctoral_thesis(), today=dt.date(2025, 1, 1))
    dates = {d.get("dateType"): d for d in xp(thesis, "dcite:dates/dcite:date")}
    assert dates["Available"].text == "2030-01-01"  # the embargo's end
    assert (dates["Other"].text, dates["Other"].get("dateInformation")) == (
        "2023-05-12T09:15:00Z", "Public defence of the thesis")
    assert xp(thesis, "dcite:sizes/dcite:size/text()") == ["84 pages"]
    accepted = dataclasses.replace(journal_article(), accepted=dt.date(2021, 3, 1))
    assert xp(record(accepted), "dcite:dates/dcite:date[@dateType='Accepted']/text()") == ["2021-03-01"]


def test_alternate_and_related_identifiers() -> None:
    root = record(journal_article())
    alternates = [(a.get("alternateIdentifierType"), a.text) for a in xp(root, "dcite:alternateIdentifiers/*")]
    assert alternates == [("ISI", "000123456789012"), ("PMID", "31234567"), ("Scopus", "2-s2.0-85012345678"),
                          ("URN", "urn:nbn:se:uu:hylla-101"),
                          ("URI", "https://urn.kb.se/resolve?urn=urn:nbn:se:uu:hylla-101"),
                          ("URL", "https://hylla.example.org/publications/101")]
    related = [(r.get("relatedIdentifierType"), r.get("relationType"), r.text)
               for r in xp(root, "dcite:relatedIdentifiers/*")]
    assert related == [("ISSN", "IsPublishedIn", "0171-8630"), ("EISSN", "IsPublishedIn", "1616-1599")]
    chapter = [(r.get("relatedIdentifierType"), r.get("relationType"), r.text)
               for r in xp(record(book_chapter()), "dcite:relatedIdentifiers/*")]
    assert chapter == [("ISBN", "IsPublishedIn", "978-3-16-148410-0"), ("ISSN", "IsPartOf", "0302-9743")]


def test_the_host_as_a_related_item_with_its_part_details() -> None:
    item = xp(record(journal_article()), "dcite:relatedItems/dcite:relatedItem")[0]
    assert (item.get("relationType"), item.get("relatedItemType")) == ("IsPublishedIn", "Journal")
    assert xp(item, "dcite:relatedItemIdentifier[@relatedItemIdentifierType='ISSN']/text()") == ["0171-8630"]
    assert xp(item, "dcite:titles/dcite:title/text()") == ["Marine Ecology Progress Series"]
    assert [xp(item, f"dcite:{e}/text()") for e in ("volume", "issue", "firstPage", "lastPage")] == [
        ["12"], ["3"], ["101"], ["118"]]
    paper = xp(record(conference_paper()), "dcite:relatedItems/dcite:relatedItem")[0]
    assert paper.get("relatedItemType") == "ConferenceProceeding"
    assert xp(paper, "dcite:number[@numberType='Article']/text()") == ["7"]
    book = xp(record(book_chapter()), "dcite:relatedItems/dcite:relatedItem")[0]
    assert xp(book, "dcite:contributors/dcite:contributor[@contributorType='Editor']/dcite:contributorName/text()") \
        == ["Berg, Anna", "Kim, Lee"]


def test_related_records() -> None:
    related = (RelatedRecord("constituent", "Paper I", identifiers=(Identifier("doi", "10.1234/p1"),)),
               RelatedRecord("constituent", "Paper II", url="https://example.org/p2"),
               RelatedRecord("isSupplementedBy", "Data"))
    root = record(dataclasses.replace(doctoral_thesis(), related=related))
    items = [(i.get("relationType"), xp(i, "dcite:relatedItemIdentifier/text()"),
              xp(i, "dcite:titles/dcite:title/text()")) for i in xp(root, "dcite:relatedItems/dcite:relatedItem")]
    assert items == [("HasPart", ["10.1234/p1"], ["Paper I"]), ("HasPart", ["https://example.org/p2"], ["Paper II"])]
    assert ("DOI", "HasPart", "10.1234/p1") in [
        (r.get("relatedIdentifierType"), r.get("relationType"), r.text) for r in xp(root, "dcite:relatedIdentifiers/*")]


def test_rights_licence_and_access() -> None:
    rights = [(r.get("rightsURI"), r.get("rightsIdentifier"), r.text)
              for r in xp(record(journal_article()), "dcite:rightsList/dcite:rights")]
    assert rights == [("https://creativecommons.org/licenses/by/4.0/", "CC-BY-4.0", "CC-BY-4.0"),
                      ("info:eu-repo/semantics/openAccess", None, "Open access")]
    cc0 = dataclasses.replace(journal_article(), licence="https://creativecommons.org/publicdomain/zero/1.0/")
    assert xp(record(cc0), "dcite:rightsList/dcite:rights/@rightsIdentifier") == ["CC0-1.0"]
    embargoed = xp(record(doctoral_thesis(), today=dt.date(2025, 1, 1)), "dcite:rightsList/dcite:rights/@rightsURI")
    assert embargoed == ["info:eu-repo/semantics/embargoedAccess"]


def test_descriptions_and_funding() -> None:
    root = record(journal_article())
    descriptions = [(d.get("descriptionType"), d.get(XML_LANG), d.text) for d in xp(root, "dcite:descriptions/*")]
    assert descriptions[0] == ("Abstract", "sv", "Vi studerar ålgräs & dess utbredning.")
    assert ("Other", None, "Open access funded by the library.") in descriptions
    assert xp(record(doctoral_thesis()), "dcite:descriptions/dcite:description[@descriptionType='SeriesInformation']"
                                          "/text()") == ["Digital Comprehensive Summaries of Uppsala Dissertations, "
                                                        "ISSN 1651-6214 ; 2231"]
    funding = xp(root, "dcite:fundingReferences/dcite:fundingReference")[0]
    assert xp(funding, "dcite:funderName/text()") == ["Vetenskapsrådet"]
    assert xp(funding, "dcite:awardNumber/text()") == ["2019-01234"]
    erc = Funding("European Research Council", funder_id="https://doi.org/10.13039/501100000781",
                  project_title="Seagrass", grant_id="101000001")
    root = record(dataclasses.replace(journal_article(), funding=(erc,)))
    identifier = xp(root, "dcite:fundingReferences/dcite:fundingReference/dcite:funderIdentifier")[0]
    assert identifier.get("funderIdentifierType") == "Crossref Funder ID"
    assert xp(root, "dcite:fundingReferences/dcite:fundingReference/dcite:awardTitle/text()") == ["Seagrass"]
    assert validation_errors(datacite.render(dataclasses.replace(journal_article(), funding=(erc,))),
                             datacite.SCHEMA) == []


@settings(max_examples=60, deadline=None)
@given(title=hostile_text(), subtitle=hostile_text(), family=hostile_text(), given_name=hostile_text(),
       corporate=hostile_text(), abstract=hostile_text())
def test_hostile_text_stays_well_formed_and_valid(title: str, subtitle: str, family: str, given_name: str,
                                                 corporate: str, abstract: str) -> None:
    pub = dataclasses.replace(
        journal_article(), titles=(Title(title, subtitle, "swe"), journal_article().titles[1]),
        contributors=(Contributor(family, given_name, affiliations=(Affiliation(corporate),)),
                      Contributor(corporate_name=corporate, roles=("ths",))),
        abstracts=(dataclasses.replace(journal_article().abstracts[0], text=abstract),), publisher=corporate)
    document = datacite.render(pub, today=DAY)
    assert validation_errors(document, datacite.SCHEMA) == []
    creators = xp(parse(document), "dcite:creators/dcite:creator/dcite:creatorName/text()")
    family, given_name = clean(family).strip(), clean(given_name).strip()
    name = f"{family}, {given_name}" if family and given_name else family or given_name
    assert creators == [name or ":unav"]


def test_research_subjects_without_labels_take_the_vocabularys_or_stand_for_themselves() -> None:
    pub = dataclasses.replace(journal_article(), keywords=(), subjects=(Subject("106"), Subject("99999")))
    subjects = [(s.get("classificationCode"), s.get(XML_LANG), s.text)
                for s in xp(record(pub), "dcite:subjects/dcite:subject")]
    assert subjects == [("106", "en", "Biological Sciences"), ("106", "sv", "Biologi"), ("99999", None, "99999")]
