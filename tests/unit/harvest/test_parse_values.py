"""The value readers under the MODS and DC parsers: free text, dates, language codes, identifiers."""

from __future__ import annotations

import datetime as dt

import pytest
from lxml import etree

from exports.readmodel import PartialDate
from harvest.parse_values import (
    find_date, free_text, identifier_value, language_code, parse_datetime, plain_text, strip_html,
)


@pytest.mark.parametrize("xml, text", [
    # DiVA escapes its HTML once: after XML parsing the tags are text, and &amp;amp; has become &amp;.
    ("<a>&lt;p&gt;SSCI &amp;amp; A&amp;amp;HCI&lt;/p&gt;</a>", "SSCI & A&HCI"),
    # Real XHTML children are read the same way.
    ("<a><p>Ett <em>stycke</em></p><p>Två</p></a>", "Ett stycke\n\nTvå"),
    ("<a>&lt;ul&gt;&lt;li&gt;ett&lt;/li&gt;&lt;li&gt;två&lt;/li&gt;&lt;/ul&gt;</a>", "ett\n\ntvå"),
    ("<a>energy &lt;5 kJ/mol and a &lt; b</a>", "energy <5 kJ/mol and a < b"),
    ("<a>before&lt;script&gt;alert(1)&lt;/script&gt; after</a>", "before after"),
    ("<a>  spaced\n   out <!-- a comment --> text </a>", "spaced out text"),
    ("<a>&amp;ouml; &amp;#229;</a>", "ö å"),
])
def test_free_text_strips_html_and_unescapes(xml: str, text: str) -> None:
    assert free_text(etree.fromstring(xml), paragraphs=True) == text


def test_free_text_on_one_line_and_plain_text() -> None:
    el = etree.fromstring("<a><p>Ett</p><p>Två</p></a>")
    assert free_text(el) == "Ett Två"
    assert free_text(None) == "" and plain_text(None) == ""
    assert plain_text(etree.fromstring("<a>Dept Biochem &amp; Mol Biol,\n  Israel</a>")) == "Dept Biochem & Mol Biol, Israel"
    assert strip_html("<b>bold</b> &lt;", paragraphs=False) == "bold <"
    # A comment inside a value is not text, whether or not the value has child elements.
    assert plain_text(etree.fromstring("<a>Lund<!-- checked --> University</a>")) == "Lund University"


@pytest.mark.parametrize("text, date", [
    ("2019", PartialDate(2019)), ("1999-08-01", PartialDate(1999, 8, 1)), ("2019-02", PartialDate(2019, 2)),
    ("2003-04-15T10:18:51Z", PartialDate(2003, 4, 15)), ("1915-1916", PartialDate(1915)),
    ("Created: 1906; Available: 1991", PartialDate(1906)), ("1600s", PartialDate(1600)),
    ("2019-13-45", PartialDate(2019)), ("2019-02-30", PartialDate(2019, 2)), ("n.d.", None), ("12345", None),
    ("0000", None),  # year 0 is no year, bare or in a date
])
def test_find_date(text: str, date: PartialDate | None) -> None:
    assert find_date(text) == date


def test_parse_datetime() -> None:
    assert parse_datetime(" 2019-09-13T13:00:00 ") == dt.datetime(2019, 9, 13, 13, 0)
    assert parse_datetime("2017-02-04T11:41:42+01:00").utcoffset() == dt.timedelta(hours=1)
    assert parse_datetime("13 Sept 2019") is None


@pytest.mark.parametrize("value, code", [
    ("eng", "eng"), ("swe", "swe"), ("deu", "ger"), ("en", "eng"), ("sv-SE", "swe"), ("nl", "dut"),
    ("English", "eng"), ("french", "fre"), ("smj", "smj"), ("other", "other"), ("xx", "xx"),
])
def test_language_code(value: str, code: str) -> None:
    assert language_code(value) == code


def test_identifier_values_are_normalised_or_kept() -> None:
    assert identifier_value("doi", "https://doi.org/10.1000/ABC") == "10.1000/abc"
    assert identifier_value("issn", "0346718X") == "0346-718X"
    assert identifier_value("issn", " 0346-7181 ") == "0346-7181"  # wrong check digit: kept for the checks
    assert identifier_value("orcid", "0000-0002-18250097") == "0000-0002-1825-0097"
    assert identifier_value("doi", "10.12 34/x\n y") == "10.12 34/x y"
