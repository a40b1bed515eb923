"""The shared XML helpers: text cleaning, element building, streamed list documents, access facts."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools

from hypothesis import given
from lxml import etree

from exports.readmodel import FileInfo, PartialDate, Publication, Title
from exports.xml import (
    XLINK_HREF, access_status, add, add_text, clean, iso639_3, language_tag, open_files, output_type_of,
    stream_document, utc_day, w3c_datetime,
)
from tests.samples import doctoral_thesis, journal_article, student_thesis
from tests.unit.exports.xml_support import hostile_text, parse

PDF = FileInfo(9, "a.pdf", "application/pdf", 1, "e" * 64, "f" * 32, url="https://example.org/a.pdf")


@given(hostile_text())
def test_cleaned_text_always_serialises_and_round_trips(text: str) -> None:
    root = etree.Element("r")
    add(root, "t", text, {"a": text})
    parsed = parse(etree.tostring(root, encoding="UTF-8"))
    assert parsed.findtext("t") == clean(text)  # lxml writes \r as &#13;, so even it survives
    assert parsed.find("t").get("a") == clean(text)


def test_clean_removes_exactly_what_xml_forbids() -> None:
    assert clean("a\x00b\x0bc\x1fd\x7fe\x9ff\ufffeg\ud800h") == "abcdefgh"
    assert clean("tab\tnew\nline\r å ß 😀 e\u0301 \u202e") == "tab\tnew\nline\r å ß 😀 e\u0301 \u202e"


def test_add_leaves_out_attributes_without_value() -> None:
    el = add(etree.Element("r"), "x", "t", {XLINK_HREF: None}, type="a", lang=None)
    assert dict(el.attrib) == {"type": "a"}


def test_add_text_skips_values_that_say_nothing() -> None:
    root = etree.Element("r")
    for value in (None, "", "   ", "\x00\x01", "\ud800 "):
        assert add_text(root, "x", value) is None
    assert len(root) == 0
    assert add_text(root, "x", "  kept \x00 ").text == "kept"


def test_stream_document_drains_after_the_opening_tag_and_after_each_record() -> None:
    elements = (etree.Element("item", n=str(i)) for i in range(3))
    chunks = list(stream_document("list", elements, attrs={"count": "3"}))
    assert chunks[0].startswith(b"<?xml") and b"<list" in chunks[0]
    assert [c.count(b"<item") for c in chunks[1:4]] == [1, 1, 1]
    document = parse(b"".join(chunks))
    assert document.tag == "list" and document.get("count") == "3"
    assert [i.get("n") for i in document] == ["0", "1", "2"]


def test_stream_document_takes_records_lazily() -> None:
    taken = []

    def records():
        for i in itertools.count():
            taken.append(i)
            yield etree.Element("item")

    stream = stream_document("list", records())
    first_three = list(itertools.islice(stream, 3))
    assert len(first_three) == 3 and len(taken) == 2  # the opening tag, then one chunk per record


def test_an_empty_list_is_a_complete_document() -> None:
    assert parse(b"".join(stream_document("list", iter(())))).tag == "list"


def test_open_files_hides_embargoed_and_restricted_files_until_they_open() -> None:
    embargoed = dataclasses.replace(PDF, access="embargoed", embargo_until=dt.date(2030, 1, 1))
    restricted = dataclasses.replace(PDF, id=10, access="restricted")
    cover = dataclasses.replace(PDF, id=11, role="cover")
    pub = dataclasses.replace(journal_article(), files=(embargoed, restricted, cover))
    assert open_files(pub, dt.date(2029, 12, 31)) == ()
    assert open_files(pub, dt.date(2030, 1, 1)) == (embargoed,)


def test_access_status_on_a_day() -> None:
    thesis = doctoral_thesis()  # its only full text is embargoed until 2030-01-01
    before = access_status(thesis, dt.date(2024, 1, 1))
    assert (before.status, before.embargo_until) == ("embargoed", dt.date(2030, 1, 1))
    assert before.eu_repo == "info:eu-repo/semantics/embargoedAccess"
    assert before.coar_uri == "http://purl.org/coar/access_right/c_f1cf"
    assert access_status(thesis, dt.date(2030, 1, 1)).status == "open"
    restricted = dataclasses.replace(thesis, files=(dataclasses.replace(PDF, access="restricted"),))
    assert access_status(restricted, dt.date(2024, 1, 1)).eu_repo == "info:eu-repo/semantics/restrictedAccess"
    assert access_status(student_thesis(), dt.date(2024, 1, 1)).label == "metadata only access"


def test_output_type_falls_back_to_the_svep_default() -> None:
    pub = Publication(id="1", publication_type="art", content_type="pop", titles=(Title("T"),))
    assert output_type_of(pub) == "publication/newspaper-article"
    assert output_type_of(student_thesis()) is None


def test_language_codes() -> None:
    assert [iso639_3(c) for c in ("swe", "ger", "fre", "xyz")] == ["swe", "deu", "fra", "xyz"]
    assert [language_tag(c) for c in ("swe", "ger", "smj", None)] == ["sv", "de", "smj", None]


def test_dates_and_times() -> None:
    aware = dt.datetime(2023, 5, 12, 11, 15, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert w3c_datetime(aware) == "2023-05-12T09:15:00Z"
    assert w3c_datetime(dt.datetime(2023, 5, 12, 9, 15)) == "2023-05-12T09:15:00"
    assert utc_day(dt.datetime(2024, 1, 1, 0, 30, tzinfo=dt.timezone(dt.timedelta(hours=1)))) == dt.date(2023, 12, 31)
    assert PartialDate(2022, 9).iso() == "2022-09"
