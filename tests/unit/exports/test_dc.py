"""oai_dc and the plain "dc" format: schema-valid, OpenAIRE's vocabularies, the same elements in both."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from hypothesis import given, settings
from lxml import etree

from exports import dc, dc_simple
from exports.dc import full_title, inverted_name
from exports.readmodel import Contributor, FileInfo, Identifier, Publication, Subject, ThesisInfo, Title
from exports.schemas import validation_errors
from exports.xml import clean
from harvest.parse import parse_metadata
from tests.samples import all_samples, book_chapter, doctoral_thesis, journal_article, report, student_thesis
from tests.unit.exports.xml_support import (
    DAY, NS, CountingPublications, hostile_text, joined, oai_get_record, parse, visible_hostile_text,
)


def record(pub: Publication, today: dt.date = DAY) -> etree._Element:
    return parse(dc.render(pub, today=today))


def values(root: etree._Element, element: str) -> list[str]:
    return root.xpath(f"dc:{element}/text()", namespaces=NS)


@pytest.mark.parametrize("pub", all_samples(), ids=lambda p: p.publication_type)
def test_every_sample_is_valid_oai_dc_and_valid_plain_dc(pub: Publication) -> None:
    assert validation_errors(dc.render(pub, today=DAY), dc.SCHEMA) == []
    assert validation_errors(dc_simple.render(pub, today=DAY), dc_simple.SCHEMA) == []


def test_the_element_is_complete_inside_a_streamed_oai_pmh_response() -> None:
    for pub in all_samples():
        response = oai_get_record(dc.element(pub, today=DAY), f"oai:hylla.example.org:{pub.id}", "oai_dc")
        assert validation_errors(response, "oai-pmh-full") == [], pub.id


def test_both_formats_carry_the_same_elements() -> None:
    for pub in all_samples():
        oai = [(e.tag, e.text, dict(e.attrib)) for e in record(pub)]
        plain_root = parse(dc_simple.render(pub, today=DAY))
        assert plain_root.tag == "metadata"
        assert [(e.tag, e.text, dict(e.attrib)) for e in plain_root] == oai


@pytest.mark.parametrize("writer", [dc, dc_simple], ids=["oai_dc", "dc"])
def test_render_many_is_one_valid_records_document_streamed(writer) -> None:
    document = joined(writer.render_many(all_samples(), today=DAY))
    assert validation_errors(document, "hylla-dc-records") == []
    root = parse(document)
    assert root.tag == "records" and len(root) == len(all_samples())
    pubs = CountingPublications(all_samples(), total=10_000)
    stream = writer.render_many(pubs, today=DAY)
    next(stream), next(stream)
    assert pubs.taken == 1


def test_titles_creators_and_contributors() -> None:
    root = record(journal_article())
    titles = root.xpath("dc:title", namespaces=NS)
    assert [(t.text, t.get(f"{{{'http://www.w3.org/XML/1998/namespace'}}}lang")) for t in titles] == [
        ("Ålgräsängar i Östersjön: en översikt över förändringar 1990–2020", "sv"),
        ("Eelgrass meadows in the Baltic Sea: a review of changes 1990–2020", "en")]
    assert values(root, "creator") == ["Öberg, Åsa", "Smith, John R.", "Lindström, Per-Erik"]
    thesis = record(doctoral_thesis())
    assert values(thesis, "creator") == ["Karlsson, Märta"]
    assert values(thesis, "contributor") == ["Ek, Lars", "Doe, Jane"]
    assert values(record(report()), "creator") == ["Naturvårdsverket"]


def test_subjects_descriptions_publisher_date_language() -> None:
    root = record(journal_article())
    assert values(root, "subject") == ["ålgräs", "eelgrass", "Baltic Sea", "Climate Science", "Klimatvetenskap"]
    assert values(root, "description") == ["Vi studerar ålgräs & dess utbredning.", "We study eelgrass and its extent."]
    assert values(root, "date") == ["2021-05-17"]
    assert values(root, "language") == ["swe"]
    assert values(record(book_chapter()), "publisher") == ["Springer"]  # the host's, as the chapter has none
    assert values(record(report()), "language") == ["swe", "eng"]
    assert values(record(dataclasses.replace(report(), languages=("ger", "fre"))), "language") == ["deu", "fra"]


def test_types_follow_openaire() -> None:
    article = values(record(journal_article()), "type")
    assert article == ["info:eu-repo/semantics/article", "Text", "art",
                       "https://id.kb.se/term/swepub/output/publication/journal-article"]
    assert values(record(book_chapter()), "type")[0] == "info:eu-repo/semantics/bookPart"
    assert values(record(doctoral_thesis()), "type")[0] == "info:eu-repo/semantics/doctoralThesis"
    assert values(record(student_thesis()), "type") == ["info:eu-repo/semantics/masterThesis", "Text"]
    bachelor = dataclasses.replace(student_thesis(), thesis=ThesisInfo(level="bachelor"))
    assert values(record(bachelor), "type")[0] == "info:eu-repo/semantics/bachelorThesis"
    preprint = dataclasses.replace(journal_article(), output_type="publication/preprint")
    assert values(record(preprint), "type")[0] == "info:eu-repo/semantics/preprint"


def test_the_full_texts_version_is_a_type() -> None:
    accepted = dataclasses.replace(journal_article().files[0], version="accepted")
    pub = dataclasses.replace(journal_article(), files=(accepted,))
    assert "info:eu-repo/semantics/acceptedVersion" in values(record(pub), "type")


def test_identifiers_as_uris_and_the_host_as_source() -> None:
    root = record(journal_article())
    assert values(root, "identifier") == [
        "https://hylla.example.org/publications/101", "https://doi.org/10.3354/meps12345",
        "urn:nbn:se:uu:hylla-101", "https://urn.kb.se/resolve?urn=urn:nbn:se:uu:hylla-101",
        "https://hylla.example.org/files/1/%C3%B6berg_2021.pdf"]
    assert values(root, "source") == [
        "Marine Ecology Progress Series, ISSN 0171-8630, E-ISSN 1616-1599, Vol. 12, no 3, p. 101-118"]
    assert "urn:isbn:978-91-513-1234-7" in values(record(doctoral_thesis()), "identifier")
    with_handle = dataclasses.replace(report(), identifiers=(Identifier("handle", "1765/315"),
                                                             Identifier("issn", "0282-7298")))
    assert values(record(with_handle), "identifier") == ["https://hdl.handle.net/1765/315", "urn:issn:0282-7298"]
    assert values(record(book_chapter()), "source") == [
        "Handbook of Research Infrastructures, ISBN 978-3-16-148410-0, p. 45-67"]


def test_series_and_related_records_are_relations() -> None:
    root = record(doctoral_thesis())
    assert values(root, "relation") == [
        "Digital Comprehensive Summaries of Uppsala Dissertations, ISSN 1651-6214 ; 2231", "Paper I: membrane folding"]
    assert values(record(journal_article()), "relation") == ["https://example.org/data"]


def test_rights_and_embargo_on_the_day() -> None:
    root = record(journal_article())
    assert values(root, "rights") == ["https://creativecommons.org/licenses/by/4.0/",
                                      "info:eu-repo/semantics/openAccess"]
    embargoed = record(doctoral_thesis(), today=dt.date(2029, 12, 31))
    assert values(embargoed, "rights") == ["info:eu-repo/semantics/embargoedAccess"]
    assert "info:eu-repo/date/embargoEnd/2030-01-01" in values(embargoed, "date")
    assert values(record(doctoral_thesis(), today=dt.date(2030, 1, 1)), "rights") == [
        "info:eu-repo/semantics/openAccess"]
    assert values(record(report()), "rights") == ["info:eu-repo/semantics/closedAccess"]


def test_formats_name_files_but_links_only_open_ones() -> None:
    restricted = FileInfo(3, "x.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", 5,
                          "a" * 64, "b" * 32, access="restricted", url="https://hylla.example.org/files/3/x.docx")
    pub = dataclasses.replace(journal_article(), files=journal_article().files + (restricted,))
    root = record(pub)
    assert values(root, "format") == ["application/pdf", restricted.mime_type]
    assert restricted.url not in values(root, "identifier")
    assert values(record(doctoral_thesis()), "format") == ["application/pdf", "84 pages"]


@settings(max_examples=60, deadline=None)
@given(title=visible_hostile_text(), subtitle=hostile_text(), family=hostile_text(), given_name=hostile_text(),
       keyword=hostile_text())
def test_hostile_text_stays_well_formed_valid_and_faithful(title: str, subtitle: str, family: str, given_name: str,
                                                           keyword: str) -> None:
    pub = dataclasses.replace(journal_article(), titles=(Title(title, subtitle, "swe"),),
                              contributors=(Contributor(family, given_name),),
                              keywords=(dataclasses.replace(journal_article().keywords[0], term=keyword),))
    for writer, schema in ((dc, dc.SCHEMA), (dc_simple, dc_simple.SCHEMA)):
        document = writer.render(pub, today=DAY)
        assert validation_errors(document, schema) == []
    expected = Title(clean(title).strip(), clean(subtitle).strip() or None).full()
    assert values(record(pub), "title") == [expected]


@pytest.mark.parametrize("pub", all_samples(), ids=lambda p: p.publication_type)
def test_hyllas_harvester_reads_back_what_oai_dc_can_carry(pub: Publication) -> None:
    """The aggregator's own oai_dc reader (harvest.parse, written independently) as a second reader."""
    metadata = etree.Element(f"{{{NS['oai']}}}metadata")
    metadata.append(dc.element(pub, today=DAY))
    back = parse_metadata(metadata, "oai_dc", oai_identifier=f"oai:hylla.example.org:{pub.id}", datestamp=None,
                          today=DAY).publication
    assert [t.title for t in back.titles] == [full_title(t) for t in pub.titles]
    assert [inverted_name(c) for c in back.authors] == [inverted_name(c) for c in pub.authors]
    assert (back.publication_type, back.languages, back.issued, back.doi) == (
        pub.publication_type, pub.languages, pub.issued, pub.doi)
    assert back.licence == pub.licence


def test_research_subjects_without_labels_take_the_vocabularys() -> None:
    pub = dataclasses.replace(journal_article(), keywords=(), subjects=(Subject("106"),))
    assert values(record(pub), "subject") == ["Biological Sciences", "Biologi"]
