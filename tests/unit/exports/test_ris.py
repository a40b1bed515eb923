"""RIS: read back by rispy (an independent parser) to the record's values, one record per record."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import rispy
from hypothesis import given, settings
from hypothesis import strategies as st

from exports import _bibfields as bib
from exports import ris
from exports.readmodel import Contributor, FileInfo, Publication, Title
from tests.samples import (
    all_samples, book_chapter, conference_paper, doctoral_thesis, journal_article, report, student_thesis,
)

TODAY = dt.date(2024, 1, 1)
HOSTILE = st.lists(
    st.sampled_from(list("{}\\%&#$_~^\"'`@=,;-\n\r\t\x0b\x0c\x85 ")
                    + ["\u2028", "\u2029", "\u202e", "\u05e9", "\u0301", "😀", "Ö", "a", "ER  - ", "TY  - JOUR"]),
    min_size=1, max_size=30,
).map("".join)


def _ris(pubs: list[Publication]) -> str:
    return b"".join(ris.render_many(pubs, today=TODAY)).decode("utf-8")


def _records(pubs: list[Publication]) -> list[dict[str, Any]]:
    return rispy.loads(_ris(pubs))


def test_every_sample_parses_back_to_its_values() -> None:
    records = _records(all_samples())
    assert len(records) == len(all_samples())
    for record, pub in zip(records, all_samples(), strict=True):
        assert record["title"] == pub.title.full()
        assert record["authors"] == [p.inverted_name() for p in pub.authors]
        assert record["year"] == str(pub.year)
        assert record["id"] == pub.id
        if pub.doi:
            assert record["doi"] == pub.doi


def test_types() -> None:
    assert [r["type_of_reference"] for r in _records(all_samples())] == [
        "JOUR", "CHAP", "CPAPER", "THES", "THES", "RPRT"]


def test_journal_article_fields() -> None:
    record = _records([journal_article()])[0]
    assert record["secondary_title"] == "Marine Ecology Progress Series"
    assert record["alternate_title3"] == "Marine Ecology Progress Series"  # JF
    assert (record["volume"], record["number"], record["start_page"], record["end_page"]) == ("12", "3", "101", "118")
    assert record["date"] == "2021/05/17"
    assert record["issn"] == "0171-8630"  # the first SN; the eISSN follows on its own line
    assert record["urls"] == ["https://hylla.example.org/publications/101"]
    assert record["file_attachments1"] == "https://hylla.example.org/files/1/%C3%B6berg_2021.pdf"
    assert record["abstract"] == "Vi studerar ålgräs & dess utbredning."
    assert record["keywords"] == ["ålgräs", "eelgrass", "Baltic Sea"]
    assert record["language"] == "Swedish"
    assert record["notes"] == ["Open access funded by the library."]
    assert record["translated_title"] == "Eelgrass meadows in the Baltic Sea: a review of changes 1990–2020"
    assert "SN  - 1616-1599\r\n" in _ris([journal_article()])


def test_chapter_has_book_title_editors_and_isbn() -> None:
    record = _records([book_chapter()])[0]
    assert record["secondary_title"] == "Handbook of Research Infrastructures"
    assert record["secondary_authors"] == ["Berg, Anna", "Kim, Lee"]
    assert record["issn"] == "978-3-16-148410-0"  # SN holds the ISBN first for books
    assert (record["publisher"], record["place_published"]) == ("Springer", "Cham")
    assert (record["tertiary_title"], record["note"]) == ("Lecture Notes in Science", "112")


def test_conference_paper_names_conference_and_proceedings() -> None:
    record = _records([conference_paper()])[0]
    assert record["secondary_title"] == "Digital Libraries Conference 2022"
    assert record["custom3"] == "Proceedings of the Digital Libraries Conference 2022"
    assert record["custom1"] == "Göteborg"
    assert record["custom7"] == "7"
    assert len(record["authors"]) == 24


def test_thesis_has_supervisor_type_and_university() -> None:
    doctoral, student = _records([doctoral_thesis(), student_thesis()])
    assert doctoral["tertiary_authors"] == ["Ek, Lars"]
    assert doctoral["type_of_work"] == "Doctoral thesis"
    assert doctoral["publisher"] == "Uppsala universitet"
    assert "file_attachments1" not in doctoral  # embargoed until 2030
    assert student["type_of_work"] == "Master's thesis (two years)"


def test_embargoed_full_text_is_linked_once_the_embargo_lifts() -> None:
    text = b"".join(ris.render_many([doctoral_thesis()], today=dt.date(2030, 1, 1))).decode()
    assert "L1  - " not in text  # the file has no download URL
    with_url = dataclasses.replace(doctoral_thesis(), files=(FileInfo(
        2, "t.pdf", "application/pdf", 1, "c" * 64, "d" * 32, access="embargoed",
        embargo_until=dt.date(2030, 1, 1), url="https://hylla.example.org/files/2/t.pdf"),))
    assert "L1  - https://hylla.example.org/files/2/t.pdf\r\n" in ris.render(with_url, today=dt.date(2030, 1, 1)).decode()
    assert "L1  - " not in ris.render(with_url, today=dt.date(2029, 12, 31)).decode()


def test_report_with_corporate_author() -> None:
    record = _records([report()])[0]
    assert record["authors"] == ["Naturvårdsverket"]
    assert record["issn"] == "978-91-620-6931-5"


def test_lines_end_in_crlf_ty_comes_first_and_er_closes() -> None:
    text = ris.render(journal_article(), today=TODAY).decode()
    lines = text.split("\r\n")
    assert lines[0] == "TY  - JOUR"
    assert lines[-2:] == ["ER  - ", ""]
    assert "\n" not in text.replace("\r\n", "")


def test_render_many_streams_a_record_per_chunk() -> None:
    assert len(list(ris.render_many(all_samples(), today=TODAY))) == len(all_samples())


def test_status_other_than_published_is_noted() -> None:
    record = _records([dataclasses.replace(journal_article(), publication_status="in-press")])[0]
    assert "Publication status: in press" in record["notes"]


@settings(max_examples=100, deadline=None)
@given(title=HOSTILE, family=HOSTILE)
def test_hostile_text_stays_one_record_with_the_title_intact(title: str, family: str) -> None:
    pub = dataclasses.replace(journal_article(), titles=(Title(title),), contributors=(Contributor(family=family),))
    records = rispy.loads(ris.render(pub, today=TODAY).decode("utf-8"))
    assert len(records) == 1
    folded = bib.one_line(title)
    assert records[0].get("title", "") == folded
    assert records[0].get("authors", []) == ([bib.one_line(family)] if bib.one_line(family) else [])
