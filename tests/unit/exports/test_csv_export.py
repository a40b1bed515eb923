"""CSV: read back by the stdlib csv module, BOM first, header once, formulas defused."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io

from hypothesis import given, settings
from hypothesis import strategies as st

from exports import csv_export
from exports.readmodel import Keyword, Publication, Subject, Title
from tests.samples import all_samples, book_chapter, doctoral_thesis, journal_article, report

TODAY = dt.date(2024, 1, 1)
HOSTILE = st.lists(
    st.sampled_from(list("=+-@\t\r\n\",;'{}\\ ") + ["\u202e", "\u05e9", "\u0301", "😀", "Ö", "a", "\r\n", "=SUM(A1)"]),
    min_size=1, max_size=30,
).map("".join)


def _csv(pubs: list[Publication], today: dt.date = TODAY) -> bytes:
    return b"".join(csv_export.render_many(pubs, today=today))


def _rows(data: bytes) -> list[dict[str, str]]:
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def test_header_once_then_a_row_per_record() -> None:
    data = _csv(all_samples())
    assert data.decode("utf-8-sig").startswith("Id,URL,Publication type,")
    rows = _rows(data)
    assert [r["Id"] for r in rows] == ["101", "102", "103", "104", "105", "106"]
    assert list(rows[0]) == list(csv_export.COLUMNS)


def test_journal_article_row() -> None:
    row = _rows(_csv([journal_article()]))[0]
    assert row["Title"] == "Ålgräsängar i Östersjön"
    assert row["Subtitle"] == "en översikt över förändringar 1990–2020"
    assert row["Authors"] == "Öberg, Åsa; Smith, John R.; Lindström, Per-Erik"
    assert row["Author affiliations"] == "Uppsala universitet, Institutionen för kemi; University of Oxford"
    assert (row["Publication type"], row["Output type"], row["Content type"]) == (
        "art", "publication/journal-article", "ref")
    assert (row["Year"], row["Journal / host title"], row["Volume"], row["Issue"], row["Pages"]) == (
        "2021", "Marine Ecology Progress Series", "12", "3", "101-118")
    assert (row["ISSN"], row["eISSN"], row["DOI"]) == ("0171-8630", "1616-1599", "10.3354/meps12345")
    assert (row["ISI"], row["PMID"], row["Scopus"], row["URN"]) == (
        "000123456789012", "31234567", "2-s2.0-85012345678", "urn:nbn:se:uu:hylla-101")
    assert (row["Open access"], row["Licence"]) == ("yes", "https://creativecommons.org/licenses/by/4.0/")
    assert row["Languages"] == "swe"
    assert row["Subjects"] == "10501 Climate Science"
    assert row["Keywords"] == "ålgräs; eelgrass; Baltic Sea"
    assert row["Organisation units"] == "Institutionen för kemi (uu:teknat:kemi)"


def test_chapter_takes_isbn_and_pages_from_its_book() -> None:
    row = _rows(_csv([book_chapter()]))[0]
    assert (row["ISBN"], row["Pages"], row["ISSN"]) == ("978-3-16-148410-0", "45-67", "0302-9743")


def test_report_has_corporate_author_and_both_languages() -> None:
    row = _rows(_csv([report()]))[0]
    assert (row["Authors"], row["Languages"], row["ISBN"]) == ("Naturvårdsverket", "swe; eng", "978-91-620-6931-5")


def test_open_access_follows_the_embargo_on_the_given_day() -> None:
    assert _rows(_csv([doctoral_thesis()], dt.date(2029, 12, 31)))[0]["Open access"] == "no"
    assert _rows(_csv([doctoral_thesis()], dt.date(2030, 1, 1)))[0]["Open access"] == "yes"


def test_subject_without_label_takes_it_from_the_vocabulary() -> None:
    pub = dataclasses.replace(journal_article(), subjects=(Subject("10501"),))
    assert _rows(_csv([pub]))[0]["Subjects"] == "10501 Climate Science"


def test_formula_cells_get_an_apostrophe() -> None:
    pub = dataclasses.replace(journal_article(), titles=(Title('=HYPERLINK("http://evil.example","x")'),),
                              keywords=(Keyword("@SUM(1)"),))
    row = _rows(_csv([pub]))[0]
    assert row["Title"] == '\'=HYPERLINK("http://evil.example","x")'
    assert row["Keywords"] == "'@SUM(1)"
    assert [csv_export.safe_cell(v) for v in ("+1", "-1", "\tx", "\rx", "a=b")] == [
        "'+1", "'-1", "'\tx", "'\rx", "a=b"]


def test_rows_end_in_crlf_and_newlines_stay_inside_quotes() -> None:
    pub = dataclasses.replace(journal_article(), titles=(Title("line one\nline two"),))
    data = _csv([pub])
    assert data.count(b"\r\n") == 2
    assert b'"line one\nline two"' in data
    assert _rows(data)[0]["Title"] == "line one\nline two"


def test_render_is_a_complete_file_of_one_record() -> None:
    data = csv_export.render(report(), today=TODAY)
    assert [r["Id"] for r in _rows(data)] == ["106"]


def test_render_many_streams_a_row_per_chunk() -> None:
    assert len(list(csv_export.render_many(all_samples(), today=TODAY))) == 1 + len(all_samples())


@settings(max_examples=100, deadline=None)
@given(title=HOSTILE, subtitle=HOSTILE, keyword=HOSTILE)
def test_hostile_text_parses_back_to_the_same_cells(title: str, subtitle: str, keyword: str) -> None:
    pub = dataclasses.replace(journal_article(), titles=(Title(title, subtitle),), keywords=(Keyword(keyword),))
    rows = _rows(csv_export.render(pub, today=TODAY))
    assert len(rows) == 1
    for column, value in (("Title", title), ("Subtitle", subtitle), ("Keywords", keyword)):
        expected = "'" + value if value[0] in "=+-@\t\r" else value
        assert rows[0][column] == expected
