"""MODS 3.7 export: schema-valid for every sample and hostile input, with each field where MODS readers look."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from hypothesis import given, settings
from lxml import etree

from exports import mods
from exports.readmodel import (
    PUBLICATION_STATUSES, Affiliation, Contributor, Identifier, Publication, RelatedRecord, Subject, ThesisInfo, Title,
)
from exports.schemas import schema, validation_errors
from exports.xml import clean
from harvest.parse import parse_metadata
from tests.samples import all_samples, book_chapter, conference_paper, doctoral_thesis, journal_article, report
from tests.unit.exports.xml_support import (
    DAY, NS, CountingPublications, hostile_text, joined, oai_get_record, parse, visible_hostile_text, xp,
)


def record(pub: Publication, today: dt.date = DAY) -> etree._Element:
    return parse(mods.render(pub, today=today))


@pytest.mark.parametrize("pub", all_samples(), ids=lambda p: p.publication_type)
def test_every_sample_is_valid_mods_37(pub: Publication) -> None:
    document = mods.render(pub, today=DAY)
    assert document.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")
    assert validation_errors(document, mods.SCHEMA) == []
    root = parse(document)
    assert root.tag == "{http://www.loc.gov/mods/v3}mods" and root.get("version") == "3.7"


def test_the_element_is_complete_inside_a_streamed_oai_pmh_response() -> None:
    """The provider writes element() with xmlfile into <metadata>: the response must validate whole."""
    for pub in all_samples():
        response = oai_get_record(mods.element(pub, today=DAY), f"oai:hylla.example.org:{pub.id}", "mods")
        assert validation_errors(response, "oai-pmh-full") == [], pub.id


def test_render_many_is_one_valid_mods_collection() -> None:
    chunks = list(mods.render_many(all_samples(), today=DAY))
    assert len(chunks) == len(all_samples()) + 2  # opening tag, one per record, closing tag
    document = joined(chunks)
    assert validation_errors(document, mods.SCHEMA) == []
    collection = parse(document)
    assert collection.tag == "{http://www.loc.gov/mods/v3}modsCollection"
    assert xp(collection, "mods:mods/mods:recordInfo/mods:recordIdentifier/text()")[0] == "oai:hylla.example.org:101"
    assert len(xp(collection, "mods:mods")) == len(all_samples())


def test_render_many_streams_without_reading_ahead() -> None:
    pubs = CountingPublications(all_samples(), total=10_000)
    stream = mods.render_many(pubs, today=DAY)
    next(stream), next(stream), next(stream)
    assert pubs.taken == 2


def test_title_subtitle_and_translated_title() -> None:
    root = record(journal_article())
    main, translated = xp(root, "mods:titleInfo")
    assert (main.get("lang"), main.get("type")) == ("swe", None)
    assert xp(main, "mods:title/text()") == ["Ålgräsängar i Östersjön"]
    assert xp(main, "mods:subTitle/text()") == ["en översikt över förändringar 1990–2020"]
    assert (translated.get("type"), translated.get("lang")) == ("translated", "eng")


def test_people_with_roles_orcid_local_id_and_affiliation() -> None:
    root = record(journal_article())
    first = xp(root, "mods:name[@type='personal']")[0]
    assert xp(first, "mods:namePart[@type='family']/text()") == ["Öberg"]
    assert xp(first, "mods:namePart[@type='given']/text()") == ["Åsa"]
    assert xp(first, "mods:role/mods:roleTerm[@type='code'][@authority='marcrelator']/text()") == ["aut"]
    assert xp(first, "mods:nameIdentifier[@type='orcid']/text()") == ["0000-0002-1825-0097"]
    assert xp(first, "mods:nameIdentifier[@type='uu']/text()") == ["u1abc"]
    assert xp(first, "mods:affiliation/text()") == ["Uppsala universitet, Institutionen för kemi"]


@pytest.mark.parametrize("role", ["aut", "edt", "ths", "opn", "exm", "trl", "ctb"])
def test_every_role_is_a_marc_relator_code(role: str) -> None:
    pub = dataclasses.replace(journal_article(), contributors=(Contributor("Berg", "Eva", roles=(role,)),))
    assert xp(record(pub), "mods:name/mods:role/mods:roleTerm[@authority='marcrelator']/text()") == [role]


def test_thesis_supervisor_opponent_defence_and_notes() -> None:
    thesis = dataclasses.replace(doctoral_thesis().thesis, credits="240 HE credits", programme="Biology")
    root = record(dataclasses.replace(doctoral_thesis(), thesis=thesis))
    roles = {xp(n, "mods:namePart[@type='family']/text()")[0]: xp(n, "mods:role/mods:roleTerm/text()")
             for n in xp(root, "mods:name[@type='personal']")}
    assert roles == {"Karlsson": ["aut"], "Ek": ["ths"], "Doe": ["opn"]}
    assert xp(root, "mods:originInfo/mods:dateOther[@type='defence']/text()") == ["2023-05-12T09:15:00Z"]
    assert xp(root, "mods:originInfo/mods:dateOther[@type='nailing']/text()") == ["2023-04-20"]
    notes = {n.get("type"): n.text for n in xp(root, "mods:note[@type]")}
    assert notes["thesisLevel"] == "doctoral" and notes["degree"] == "Filosofie doktor"
    assert notes["venue"] == "Room A1:111a, BMC, Uppsala" and notes["credits"] == "240 HE credits"
    assert notes["programme"] == "Biology"
    granting = xp(root, "mods:name[@type='corporate'][mods:role/mods:roleTerm='dgg']/mods:namePart/text()")
    assert granting == ["Uppsala universitet"]


def test_genres_output_svep_content_and_marc() -> None:
    root = record(journal_article())
    output = xp(root, "mods:genre[@authority='kb.se'][@type='outputType']")[0]
    assert output.text == "publication/journal-article"
    assert output.get("valueURI") == "https://id.kb.se/term/swepub/output/publication/journal-article"
    assert xp(root, "mods:genre[@authority='svep'][@type='publicationType']/text()") == ["art"]
    assert xp(root, "mods:genre[@authority='svep'][@type='contentType']/text()") == ["ref"]
    assert xp(root, "mods:genre[@authority='marcgt']/text()") == ["article"]


def test_origin_language_physical_description() -> None:
    root = record(doctoral_thesis())
    assert xp(root, "mods:originInfo/mods:publisher/text()") == ["Acta Universitatis Upsaliensis"]
    assert xp(root, "mods:originInfo/mods:place/mods:placeTerm[@type='text']/text()") == ["Uppsala"]
    assert xp(root, "mods:originInfo/mods:dateIssued[@encoding='w3cdtf']/text()") == ["2023"]
    assert xp(root, "mods:language/mods:languageTerm[@type='code'][@authority='iso639-2b']/text()") == ["swe"]
    assert xp(root, "mods:physicalDescription/mods:form[@authority='marcform']/text()") == ["electronic"]
    assert xp(root, "mods:physicalDescription/mods:extent/text()") == ["84 pages"]
    online = record(journal_article())
    assert xp(online, "mods:originInfo/mods:dateOther[@type='online']/text()") == ["2021-04-02"]


def test_languages_are_written_as_bibliographic_codes() -> None:
    root = record(dataclasses.replace(journal_article(), languages=("deu", "swe")))
    assert xp(root, "mods:language/mods:languageTerm/text()") == ["ger", "swe"]


def test_abstracts_per_language_and_notes() -> None:
    root = record(journal_article())
    abstracts = {a.get("lang"): a.text for a in xp(root, "mods:abstract")}
    assert abstracts == {"swe": "Vi studerar ålgräs & dess utbredning.", "eng": "We study eelgrass and its extent."}
    assert xp(root, "mods:note[not(@type)]/text()") == ["Open access funded by the library."]
    assert xp(root, "mods:note[@type='creatorCount']/text()") == ["3"]
    assert xp(root, "mods:note[@type='funder']/text()") == ["Vetenskapsrådet; project 2019-01234"]


@pytest.mark.parametrize("status", PUBLICATION_STATUSES)
def test_publication_status_uses_swepubs_words(status: str) -> None:
    root = record(dataclasses.replace(journal_article(), publication_status=status))
    assert xp(root, "mods:note[@type='publicationStatus']/text()") == [mods.PUBLICATION_STATUS_LABELS[status]]


def test_an_unknown_publication_status_or_title_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="publication status 'gone'"):
        mods.render(dataclasses.replace(journal_article(), publication_status="gone"))
    with pytest.raises(ValueError, match="title kind 'sub'"):
        mods.render(dataclasses.replace(journal_article(), titles=(Title("T", kind="sub"),)))


def test_keywords_and_ssif_subjects_both_ways() -> None:
    root = record(journal_article())
    keywords = [(s.get("lang"), xp(s, "mods:topic/text()")) for s in xp(root, "mods:subject[not(@authority)]")]
    assert keywords == [("swe", ["ålgräs"]), ("eng", ["eelgrass"]), ("eng", ["Baltic Sea"])]
    english = xp(root, "mods:subject[@authority='uka.se'][@lang='eng']")[0]
    assert english.get(f"{{{NS['xlink']}}}href") == "10501"
    assert xp(english, "mods:topic/text()") == ["Natural sciences", "Earth and Related Environmental Sciences",
                                                "Climate Science"]
    assert xp(root, "mods:subject[@authority='uka.se'][@lang='swe']/mods:topic/text()")[-1] == "Klimatvetenskap"
    assert xp(root, "mods:classification[@authority='ssif']/text()") == ["10501"]


def test_an_ssif_code_outside_the_vocabulary_keeps_the_records_labels() -> None:
    pub = dataclasses.replace(journal_article(), subjects=(Subject("99999", "Made up", "Påhittat"),))
    root = record(pub)
    assert xp(root, "mods:subject[@authority='uka.se']/mods:topic/text()") == ["Made up", "Påhittat"]
    assert xp(root, "mods:classification/text()") == ["99999"]


def test_journal_host_with_issn_volume_issue_and_pages() -> None:
    host = xp(record(journal_article()), "mods:relatedItem[@type='host']")[0]
    assert xp(host, "mods:titleInfo/mods:title/text()") == ["Marine Ecology Progress Series"]
    assert xp(host, "mods:identifier[@type='issn']/text()") == ["0171-8630"]
    assert xp(host, "mods:identifier[@type='eissn']/text()") == ["1616-1599"]
    assert xp(host, "mods:part/mods:detail[@type='volume']/mods:number/text()") == ["12"]
    assert xp(host, "mods:part/mods:detail[@type='issue']/mods:number/text()") == ["3"]
    assert xp(host, "mods:part/mods:extent[@unit='pages']/mods:start/text()") == ["101"]
    assert xp(host, "mods:part/mods:extent[@unit='pages']/mods:end/text()") == ["118"]


def test_book_host_with_isbn_editors_publisher_and_series() -> None:
    root = record(book_chapter())
    host = xp(root, "mods:relatedItem[@type='host']")[0]
    assert xp(host, "mods:identifier[@type='isbn']/text()") == ["978-3-16-148410-0"]
    editors = xp(host, "mods:name[mods:role/mods:roleTerm='edt']/mods:namePart[@type='family']/text()")
    assert editors == ["Berg", "Kim"]
    assert xp(host, "mods:originInfo/mods:publisher/text()") == ["Springer"]
    series = xp(root, "mods:relatedItem[@type='series']")[0]
    assert xp(series, "mods:titleInfo/mods:title/text()") == ["Lecture Notes in Science"]
    assert xp(series, "mods:identifier[@type='issn']/text()") == ["0302-9743"]
    assert xp(series, "mods:identifier[@type='issue number']/text()") == ["112"]


def test_conference_paper_article_number_and_conference_name() -> None:
    root = record(conference_paper())
    assert xp(root, "mods:relatedItem[@type='host']/mods:part/mods:detail[@type='artNo']/mods:number/text()") == ["7"]
    conference = xp(root, "mods:name[@type='conference']")[0]
    assert xp(conference, "mods:namePart[not(@type)]/text()") == ["Digital Libraries Conference 2022"]
    assert xp(conference, "mods:namePart[@type='date']/text()") == ["2022-09-05/2022-09-08"]
    assert "Göteborg" in xp(conference, "mods:displayForm/text()")[0]
    assert xp(root, "mods:originInfo/mods:dateIssued/text()") == ["2022-09"]
    assert len(xp(root, "mods:name[@type='personal']")) == 24


def test_constituent_papers_and_other_relations() -> None:
    related = (RelatedRecord("constituent", "Paper I", record_id="101", url="https://hylla.example.org/p/101",
                             identifiers=(Identifier("doi", "10.1/a"),)),
               RelatedRecord("isSupplementedBy", "Data set"))
    root = record(dataclasses.replace(doctoral_thesis(), related=related))
    paper = xp(root, "mods:relatedItem[@type='constituent']")[0]
    assert xp(paper, "mods:titleInfo/mods:title/text()") == ["Paper I"]
    assert xp(paper, "mods:identifier[@type='doi']/text()") == ["10.1/a"]
    assert xp(paper, "mods:identifier[@type='local']/text()") == ["101"]
    assert xp(paper, "mods:location/mods:url/text()") == ["https://hylla.example.org/p/101"]
    assert xp(root, "mods:relatedItem[@otherType='isSupplementedBy']/mods:titleInfo/mods:title/text()") == ["Data set"]


def test_identifiers_with_mods_types() -> None:
    extra = (Identifier("handle", "1765/315"), Identifier("isbn", "978-91-513-1234-7", "print"),
             Identifier("arxiv", "2101.01234"), Identifier("libris", "123"), Identifier("local", "x1"))
    root = record(dataclasses.replace(journal_article(), identifiers=journal_article().identifiers + extra))
    found = {i.get("type"): i.text for i in xp(root, "mods:identifier")}
    assert found == {"doi": "10.3354/meps12345", "isi": "000123456789012", "pmid": "31234567",
                     "scopus": "2-s2.0-85012345678", "urn": "urn:nbn:se:uu:hylla-101",
                     "uri": "https://urn.kb.se/resolve?urn=urn:nbn:se:uu:hylla-101", "hdl": "1765/315",
                     "isbn": "978-91-513-1234-7", "arxiv": "2101.01234", "libris": "123", "local": "x1"}
    assert xp(root, "mods:identifier[@type='isbn']/@displayLabel") == ["print"]


def test_landing_page_open_fulltext_link_and_licence() -> None:
    root = record(journal_article())
    assert xp(root, "mods:location/mods:url[@usage='primary'][@access='object in context']/text()") == [
        "https://hylla.example.org/publications/101"]
    assert xp(root, "mods:location/mods:url[@displayLabel='fulltext'][@access='raw object']/text()") == [
        "https://hylla.example.org/files/1/%C3%B6berg_2021.pdf"]
    licence = xp(root, "mods:accessCondition[@type='use and reproduction']")[0]
    assert licence.get(f"{{{NS['xlink']}}}href") == "https://creativecommons.org/licenses/by/4.0/"
    status = xp(root, "mods:accessCondition[@type='restriction on access'][not(@displayLabel)]")[0]
    assert status.text == "open access"


def test_embargoed_fulltext_is_hidden_until_the_embargo_lifts() -> None:
    before = record(doctoral_thesis(), today=dt.date(2029, 12, 31))
    assert xp(before, "mods:location/mods:url[@access='raw object']") == []
    assert xp(before, "mods:accessCondition[@displayLabel='embargo']/text()") == ["2030-01-01"]
    assert xp(before, "mods:accessCondition[@type='restriction on access'][not(@displayLabel)]/text()") == [
        "embargoed access"]
    after = record(doctoral_thesis(), today=dt.date(2030, 1, 1))
    assert len(xp(after, "mods:location/mods:url[@access='raw object']")) == 0  # the sample file has no URL
    with_url = dataclasses.replace(doctoral_thesis(), files=(dataclasses.replace(
        doctoral_thesis().files[0], url="https://hylla.example.org/files/2/thesis.pdf"),))
    assert xp(record(with_url, today=dt.date(2029, 12, 31)), "mods:location/mods:url[@access='raw object']") == []
    opened = record(with_url, today=dt.date(2030, 1, 1))
    assert xp(opened, "mods:location/mods:url[@access='raw object']/text()") == [
        "https://hylla.example.org/files/2/thesis.pdf"]
    assert xp(opened, "mods:accessCondition[@displayLabel='embargo']") == []


def test_record_info() -> None:
    info = xp(record(journal_article()), "mods:recordInfo")[0]
    assert xp(info, "mods:recordContentSource/text()") == ["uu"]
    assert xp(info, "mods:recordCreationDate[@encoding='w3cdtf']/text()") == ["2024-03-01"]
    assert xp(info, "mods:recordChangeDate[@encoding='w3cdtf']/text()") == ["2024-03-01"]
    assert xp(info, "mods:recordIdentifier/text()") == ["oai:hylla.example.org:101"]
    assert xp(record(report()), "mods:recordInfo/mods:recordIdentifier/text()") == ["106"]


def test_corporate_author() -> None:
    name = xp(record(report()), "mods:name[@type='corporate']")[0]
    assert xp(name, "mods:namePart/text()") == ["Naturvårdsverket"]
    assert xp(name, "mods:role/mods:roleTerm/text()") == ["aut"]


def test_student_thesis_level_credits_and_no_svep_type() -> None:
    root = record(all_samples()[4])
    assert xp(root, "mods:genre[@type='publicationType']") == []
    assert xp(root, "mods:genre[@authority='marcgt']/text()") == ["thesis"]
    assert xp(root, "mods:note[@type='thesisLevel']/text()") == ["master-two-years"]
    assert xp(root, "mods:note[@type='credits']/text()") == ["30 HE credits"]
    assert xp(root, "mods:name[mods:role/mods:roleTerm='exm']/mods:namePart[@type='family']/text()") == ["Holm"]


@settings(max_examples=60, deadline=None)
@given(title=visible_hostile_text(), subtitle=hostile_text(), family=hostile_text(), given_name=hostile_text(),
       abstract=hostile_text(), corporate=visible_hostile_text())
def test_hostile_text_stays_well_formed_valid_and_faithful(title: str, subtitle: str, family: str, given_name: str,
                                                           abstract: str, corporate: str) -> None:
    pub = dataclasses.replace(
        journal_article(), titles=(Title(title, subtitle, "swe"),),
        contributors=(Contributor(family, given_name, affiliations=(Affiliation(abstract),)),
                      Contributor(corporate_name=corporate)),
        abstracts=(dataclasses.replace(journal_article().abstracts[0], text=abstract),),
        thesis=ThesisInfo(level="doctoral", degree_name=title, defence_place=corporate))
    document = mods.render(pub, today=DAY)
    assert validation_errors(document, mods.SCHEMA) == []
    root = parse(document)
    assert xp(root, "mods:titleInfo/mods:title/text()") == [clean(title).strip()]
    assert xp(root, "mods:name[@type='corporate']/mods:namePart/text()")[0] == clean(corporate).strip()


@pytest.mark.parametrize("pub", all_samples(), ids=lambda p: p.publication_type)
def test_hyllas_harvester_reads_back_what_was_written(pub: Publication) -> None:
    """The aggregator's own MODS reader (harvest.parse, written independently) as a second reader."""
    metadata = etree.Element(f"{{{NS['oai']}}}metadata")
    metadata.append(mods.element(pub, today=DAY))
    parsed = parse_metadata(metadata, "mods", oai_identifier=f"oai:hylla.example.org:{pub.id}", datestamp=None,
                            today=DAY, mods_schemas=lambda version: schema(f"mods-{version.replace('.', '-')}"))
    assert parsed.xsd_valid is True
    back = parsed.publication
    assert back.titles == pub.titles
    assert (back.issued, back.languages, back.abstracts, back.keywords) == (
        pub.issued, pub.languages, pub.abstracts, pub.keywords)
    assert [(s.title, s.issn, s.number) for s in back.series] == [(s.title, s.issn, s.number) for s in pub.series]
    assert [r.title for r in back.related] == [r.title for r in pub.related]
    assert back.identifiers == pub.identifiers
    if pub.publication_type in ("dok", "lic"):  # the reader knows a thesis by its type, as SwePub does
        fields = ("level", "degree_name", "defence_at", "defence_place")
        assert [getattr(back.thesis, f) for f in fields] == [getattr(pub.thesis, f) for f in fields]
