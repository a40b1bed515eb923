"""CSL-JSON: valid against the official csl-data.json schema, with the values each sample carries."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exports import _bibfields as bib
from exports import csljson
from exports.readmodel import Contributor, Publication, Title
from tests.samples import all_samples, book_chapter, conference_paper, doctoral_thesis, journal_article, report

SCHEMA = json.loads((Path(__file__).parent / "data" / "csl-data.json").read_text(encoding="utf-8"))
VALIDATOR = jsonschema.Draft7Validator(SCHEMA)

HOSTILE = st.text(
    alphabet=st.sampled_from(list("{}\\%&#$_~^\"'`<>\n\r\t ,;") + ["\u202e", "\u05e9", "\u0301", "😀", "Å", "a", "Z"]),
    min_size=1, max_size=40,
)


def _items(pubs: list[Publication]) -> list[dict[str, Any]]:
    return json.loads(b"".join(csljson.render_many(pubs)))


def test_every_sample_validates_against_the_csl_schema() -> None:
    items = _items(all_samples())
    VALIDATOR.validate(items)
    assert [i["id"] for i in items] == ["101", "102", "103", "104", "105", "106"]


def test_types_follow_the_kind_of_work() -> None:
    types = [i["type"] for i in _items(all_samples())]
    assert types == ["article-journal", "chapter", "paper-conference", "thesis", "thesis", "report"]


def test_journal_article_carries_its_citation_fields() -> None:
    item = _items([journal_article()])[0]
    assert item["title"] == "Ålgräsängar i Östersjön: en översikt över förändringar 1990–2020"
    assert item["author"] == [{"family": "Öberg", "given": "Åsa"}, {"family": "Smith", "given": "John R."},
                              {"family": "Lindström", "given": "Per-Erik"}]
    assert item["issued"] == {"date-parts": [[2021, 5, 17]]}
    assert item["container-title"] == "Marine Ecology Progress Series"
    assert (item["volume"], item["issue"], item["page"]) == ("12", "3", "101-118")
    assert item["DOI"] == "10.3354/meps12345"
    assert item["ISSN"] == "0171-8630, 1616-1599"
    assert item["PMID"] == "31234567"
    assert item["language"] == "sv"
    assert item["keyword"] == "ålgräs, eelgrass, Baltic Sea"
    assert item["abstract"] == "Vi studerar ålgräs & dess utbredning."
    assert item["URL"] == "https://hylla.example.org/publications/101"
    assert item["note"] == "Open access funded by the library."


def test_chapter_has_book_editors_isbn_publisher_and_series() -> None:
    item = _items([book_chapter()])[0]
    assert item["editor"] == [{"family": "Berg", "given": "Anna"}, {"family": "Kim", "given": "Lee"}]
    assert item["container-title"] == "Handbook of Research Infrastructures"
    assert (item["publisher"], item["publisher-place"]) == ("Springer", "Cham")
    assert item["ISBN"] == "978-3-16-148410-0"
    assert (item["collection-title"], item["collection-number"]) == ("Lecture Notes in Science", "112")
    assert item["issued"] == {"date-parts": [[2019]]}


def test_conference_paper_has_event_article_number_and_all_authors() -> None:
    item = _items([conference_paper()])[0]
    assert item["event"] == "Digital Libraries Conference 2022"
    assert item["event-place"] == "Göteborg"
    assert item["event-date"] == {"date-parts": [[2022, 9, 5], [2022, 9, 8]]}
    assert item["number"] == "7"
    assert len(item["author"]) == 24


def test_thesis_has_genre_university_and_page_count() -> None:
    item = _items([doctoral_thesis()])[0]
    assert item["genre"] == "Doctoral thesis"
    assert item["publisher"] == "Uppsala universitet"
    assert item["number-of-pages"] == "84"
    assert "editor" not in item  # supervisors and opponents are not cited


def test_licentiate_and_student_levels_name_the_genre() -> None:
    lic = dataclasses.replace(doctoral_thesis(), publication_type="lic", thesis=None)
    bachelor = dataclasses.replace(doctoral_thesis(), publication_type="stud",
                                   thesis=dataclasses.replace(doctoral_thesis().thesis, level="bachelor"))
    assert [i["genre"] for i in _items([lic, bachelor])] == ["Licentiate thesis", "Bachelor's thesis"]


def test_corporate_author_is_a_literal_name() -> None:
    assert _items([report()])[0]["author"] == [{"literal": "Naturvårdsverket"}]


def test_render_is_render_many_of_one_and_an_empty_list_is_an_empty_array() -> None:
    pub = journal_article()
    assert csljson.render(pub) == b"".join(csljson.render_many([pub]))
    assert json.loads(b"".join(csljson.render_many([]))) == []


def test_render_many_yields_one_chunk_per_record() -> None:
    chunks = list(csljson.render_many(all_samples()))
    assert len(chunks) == len(all_samples()) + 2  # opening bracket, records, closing bracket


def test_unknown_publication_type_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown publication type 'xyz'"):
        csljson.render(dataclasses.replace(journal_article(), publication_type="xyz"))


@settings(max_examples=100, deadline=None)
@given(title=HOSTILE, family=HOSTILE, given_name=HOSTILE)
def test_hostile_text_stays_valid_json_equal_to_the_input(title: str, family: str, given_name: str) -> None:
    pub = dataclasses.replace(journal_article(), titles=(Title(title),),
                              contributors=(Contributor(family=family, given=given_name),))
    items = json.loads(csljson.render(pub).decode("utf-8"))
    VALIDATOR.validate(items)
    assert items[0]["title"] == title
    assert items[0]["author"] == [{"family": family, "given": given_name}]


def test_every_kind_of_work_has_a_csl_type() -> None:
    assert set(csljson.CSL_TYPES) == set(bib.KINDS)
