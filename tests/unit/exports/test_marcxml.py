"""MARCXML export: valid MARC 21 slim, read back by pymarc (an independent MARC library) field by field."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io

import pymarc
import pytest
from hypothesis import given, settings

from exports import marcxml
from exports.readmodel import Contributor, Publication, Title
from exports.schemas import validation_errors
from exports.xml import clean
from tests.samples import all_samples, book_chapter, conference_paper, doctoral_thesis, journal_article, report
from tests.unit.exports.xml_support import DAY, CountingPublications, everything, hostile_text, joined


def read(pub: Publication, today: dt.date = DAY) -> pymarc.Record:
    records = pymarc.parse_xml_to_array(io.BytesIO(marcxml.render(pub, today=today)))
    assert len(records) == 1
    return records[0]


def subfields(record: pymarc.Record, tag: str, code: str) -> list[str]:
    return [value for field in record.get_fields(tag) for value in field.get_subfields(code)]


@pytest.mark.parametrize("pub", all_samples() + [everything()], ids=lambda p: p.publication_type + p.id)
def test_every_sample_is_valid_marcxml_with_a_proper_leader_and_008(pub: Publication) -> None:
    document = marcxml.render(pub, today=DAY)
    assert validation_errors(document, marcxml.SCHEMA) == []
    record = pymarc.parse_xml_to_array(io.BytesIO(document))[0]
    assert len(str(record.leader)) == 24 and str(record.leader).endswith("4500")
    assert len(record["008"].data) == 40
    assert record["001"].data == pub.id


def test_render_many_is_one_valid_collection_streamed() -> None:
    document = joined(marcxml.render_many(all_samples(), today=DAY))
    assert validation_errors(document, marcxml.SCHEMA) == []
    assert [r["001"].data for r in pymarc.parse_xml_to_array(io.BytesIO(document))] == [p.id for p in all_samples()]
    pubs = CountingPublications(all_samples(), total=10_000)
    stream = marcxml.render_many(pubs, today=DAY)
    next(stream), next(stream)
    assert pubs.taken == 1


def test_leader_level_and_fixed_fields() -> None:
    assert str(read(journal_article()).leader)[7] == "b"  # a part of a serial
    assert str(read(book_chapter()).leader)[7] == "a"  # a part of a book
    assert str(read(report()).leader)[7] == "m"
    fixed = read(doctoral_thesis())["008"].data
    assert (fixed[7:11], fixed[23], fixed[24], fixed[35:38]) == ("2023", "o", "m", "swe")
    assert read(conference_paper())["008"].data[29] == "1"


def test_titles_and_statement_of_responsibility() -> None:
    record = read(journal_article())
    title = record["245"]
    assert (title.indicator1, title.get_subfields("a", "b")) == ("1", ["Ålgräsängar i Östersjön",
                                                                       "en översikt över förändringar 1990–2020"])
    assert title.get_subfields("c") == ["Åsa Öberg, John R. Smith, Per-Erik Lindström"]
    assert record["246"].indicator2 == "1"
    assert subfields(record, "246", "a") == ["Eelgrass meadows in the Baltic Sea"]


def test_names_roles_affiliations_and_orcid() -> None:
    record = read(doctoral_thesis())
    main = record["100"]
    assert main.get_subfields("a", "4", "1") == ["Karlsson, Märta", "aut", "https://orcid.org/0000-0001-5109-3700"]
    assert main.get_subfields("u") == ["Uppsala universitet, Institutionen för kemi"]
    others = {f.get_subfields("a")[0]: f.get_subfields("e", "4") for f in record.get_fields("700")}
    assert others == {"Ek, Lars": ["thesis advisor", "ths"], "Doe, Jane": ["opponent", "opn"]}
    assert subfields(read(report()), "110", "a") == ["Naturvårdsverket"]


def test_identifiers_subjects_and_languages() -> None:
    record = read(journal_article())
    assert dict(zip(subfields(record, "024", "2"), subfields(record, "024", "a"))) == {
        "doi": "10.3354/meps12345", "isi": "000123456789012", "pmid": "31234567", "scopus": "2-s2.0-85012345678",
        "urn": "urn:nbn:se:uu:hylla-101", "uri": "https://urn.kb.se/resolve?urn=urn:nbn:se:uu:hylla-101"}
    assert subfields(record, "084", "a") == ["10501"] and subfields(record, "084", "2") == ["ssif"]
    assert subfields(record, "653", "a") == ["ålgräs", "eelgrass", "Baltic Sea"]
    assert subfields(record, "041", "a") == ["swe"]
    assert subfields(read(doctoral_thesis()), "020", "a") == ["978-91-513-1234-7"]


def test_host_series_and_thesis() -> None:
    host = read(journal_article())["773"]
    assert host.get_subfields("t", "g", "q", "x") == [
        "Marine Ecology Progress Series", "Vol. 12, no. 3 (2021), p. 101-118", "12:3<101", "0171-8630", "1616-1599"]
    chapter = read(book_chapter())
    assert chapter["773"].get_subfields("d", "z") == ["Cham : Springer", "978-3-16-148410-0"]
    assert chapter["490"].get_subfields("a", "v", "x") == ["Lecture Notes in Science", "112", "0302-9743"]
    thesis = read(doctoral_thesis())
    assert thesis["502"].get_subfields("b", "c", "d") == ["Filosofie doktor", "Uppsala universitet", "2023"]
    assert subfields(thesis, "774", "t") == ["Paper I: membrane folding"]


def test_access_on_the_day_and_links() -> None:
    embargoed = read(doctoral_thesis(), today=dt.date(2029, 12, 31))["506"]
    assert (embargoed.indicator1, embargoed.get_subfields("g")) == ("1", ["2030-01-01"])
    assert read(doctoral_thesis(), today=dt.date(2030, 1, 1))["506"].indicator1 == "0"
    record = read(journal_article())
    assert subfields(record, "856", "u") == ["https://hylla.example.org/publications/101",
                                            "https://hylla.example.org/files/1/%C3%B6berg_2021.pdf",
                                            "https://example.org/data"]
    assert subfields(record, "540", "u") == ["https://creativecommons.org/licenses/by/4.0/"]


@settings(max_examples=60, deadline=None)
@given(title=hostile_text(min_size=1), family=hostile_text(), given_name=hostile_text())
def test_hostile_text_stays_valid_marcxml(title: str, family: str, given_name: str) -> None:
    pub = dataclasses.replace(journal_article(), titles=(Title(title, lang="swe"),),
                              contributors=(Contributor(family, given_name),))
    document = marcxml.render(pub, today=DAY)
    assert validation_errors(document, marcxml.SCHEMA) == []
    written = subfields(pymarc.parse_xml_to_array(io.BytesIO(document))[0], "245", "a")
    assert written == ([clean(title).strip()] if clean(title).strip() else [])
