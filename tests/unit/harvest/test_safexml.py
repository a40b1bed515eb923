"""Hostile and broken documents must each end in a clear HarvestXMLError, quickly."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from harvest.safexml import (
    DEFAULT_LIMITS, HarvestXMLError, Limits, MalformedXML, UnsafeXML, parse_bytes,
)

OAI = Path(__file__).resolve().parents[2] / "data" / "oai"

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<foo>&xxe;</foo>"""

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<lolz>&lol9;</lolz>"""

EXTERNAL_DTD = b"""<?xml version="1.0"?>
<!-- a comment first does not hide it -->
<!DOCTYPE OAI-PMH SYSTEM "http://127.0.0.1:9/evil.dtd">
<OAI-PMH/>"""


def test_reads_a_real_oai_pmh_response() -> None:
    root = parse_bytes((OAI / "swepub-redux" / "kth-new-diva.xml").read_bytes())
    assert root.tag == "{http://www.openarchives.org/OAI/2.0/}OAI-PMH"
    assert root.findtext(".//{http://www.loc.gov/mods/v3}recordContentSource") == "kth"


def test_keeps_whitespace_and_a_utf8_bom() -> None:
    root = parse_bytes("\ufeff<?xml version='1.0' encoding='utf-8'?><a> Å <b/> </a>".encode())
    assert root.text == " Å "
    assert root[0].tail == " "


@pytest.mark.parametrize("document", [XXE, BILLION_LAUGHS, EXTERNAL_DTD], ids=["xxe", "billion-laughs", "external-dtd"])
def test_any_doctype_is_refused_before_parsing(document: bytes) -> None:
    with pytest.raises(UnsafeXML) as caught:
        parse_bytes(document)
    assert caught.value.reason == "doctype"
    assert "DOCTYPE" in str(caught.value)


def test_file_contents_never_leak_through_an_entity() -> None:
    with pytest.raises(HarvestXMLError) as caught:
        parse_bytes(XXE)
    assert "root:" not in str(caught.value)


def test_a_100_mb_text_node_is_refused_fast() -> None:
    document = b"<a>" + b"x" * (100 * 1024 * 1024) + b"</a>"
    started = time.perf_counter()
    with pytest.raises(UnsafeXML) as caught:
        parse_bytes(document)
    assert caught.value.reason == "text_too_large"
    assert time.perf_counter() - started < 5


def test_a_document_over_the_byte_limit_is_refused_unread() -> None:
    with pytest.raises(UnsafeXML) as caught:
        parse_bytes(b"<a>" + b"x" * 2000 + b"</a>", limits=Limits(max_bytes=1000))
    assert caught.value.reason == "too_large"
    assert "1000" in str(caught.value)


def test_deep_nesting_is_refused() -> None:
    with pytest.raises(UnsafeXML) as caught:
        parse_bytes(b"<a>" * 300 + b"</a>" * 300)
    assert caught.value.reason == "too_deep"


def test_stricter_limits_are_enforced_by_our_own_walk() -> None:
    assert parse_bytes(b"<a>" * 10 + b"</a>" * 10, limits=Limits(max_depth=10)).tag == "a"
    with pytest.raises(UnsafeXML, match="deeper than 10"):
        parse_bytes(b"<a>" * 11 + b"</a>" * 11, limits=Limits(max_depth=10))
    with pytest.raises(UnsafeXML, match="larger than 100 bytes") as caught:
        parse_bytes(b"<a><b>" + "å".encode() * 60 + b"</b></a>", limits=Limits(max_text_bytes=100))
    assert caught.value.reason == "text_too_large"


def test_limits_cannot_be_raised_above_libxml2s_ceiling() -> None:
    with pytest.raises(ValueError, match="ceilings"):
        Limits(max_depth=DEFAULT_LIMITS.max_depth + 1)
    with pytest.raises(ValueError, match="positive"):
        Limits(max_bytes=0)


def test_invalid_utf8_names_the_offending_byte() -> None:
    with pytest.raises(MalformedXML) as caught:
        parse_bytes(b"<a>gr\xe5</a>")
    assert caught.value.reason == "invalid_utf8"
    assert "0xe5" in str(caught.value) and "offset 5" in str(caught.value)


@pytest.mark.parametrize("document", [
    b'<?xml version="1.0" encoding="ISO-8859-1"?><a>\xe5</a>',
    "<a>å</a>".encode("utf-16"),
], ids=["latin-1", "utf-16"])
def test_other_encodings_are_refused(document: bytes) -> None:
    with pytest.raises(MalformedXML) as caught:
        parse_bytes(document)
    assert caught.value.reason == "encoding_not_utf8"


@pytest.mark.parametrize("document, reason", [
    (b"", "empty"),
    (b"  \n", "empty"),
    (b"<a><b></a>", "not_well_formed"),
    (b"<!-- unterminated", "not_well_formed"),
    (b"plain text", "not_well_formed"),
])
def test_broken_documents_have_a_reason(document: bytes, reason: str) -> None:
    with pytest.raises(MalformedXML) as caught:
        parse_bytes(document)
    assert caught.value.reason == reason


def test_chalmers_feed_fails_on_its_html_entity() -> None:
    with pytest.raises(MalformedXML) as caught:
        parse_bytes((OAI / "swepub-redux" / "chalmers.xml").read_bytes())
    assert caught.value.reason == "undefined_entity"
    assert "ouml" in str(caught.value) and "line 186" in str(caught.value)


def test_broken_identify_response_fails_on_its_undefined_entity() -> None:
    with pytest.raises(MalformedXML) as caught:
        parse_bytes((OAI / "eur-dspace-2003" / "Identify-broken-undefined-entity.xml").read_bytes())
    assert caught.value.reason == "undefined_entity"
    assert "bogus" in str(caught.value)


def test_errors_are_value_errors_and_refuse_text() -> None:
    assert issubclass(HarvestXMLError, ValueError)
    with pytest.raises(TypeError, match="bytes"):
        parse_bytes("<a/>")  # type: ignore[arg-type]
