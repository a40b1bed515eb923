"""Identifier rules: check digits, syntax and normal forms, as SwePub checks them."""

from __future__ import annotations

import pytest

from exports import identifiers as ids


@pytest.mark.parametrize(("scheme", "raw", "normal"), [
    ("doi", "https://doi.org/10.1000/ABC.def", "10.1000/abc.def"),
    ("doi", "doi: 10.1038/nphys1170", "10.1038/nphys1170"),
    ("issn", "00280836", "0028-0836"),
    ("issn", "1616-1599", "1616-1599"),
    ("isbn", "978-3-16-148410-0", "978-3-16-148410-0"),
    ("isbn", "0-306-40615-2", "0-306-40615-2"),
    ("orcid", "https://orcid.org/0000-0002-1825-0097", "0000-0002-1825-0097"),
    ("orcid", "000000021694233x", "0000-0002-1694-233X"),
    ("isi", "WOS:000123456789012", "000123456789012"),
    ("scopus", "85012345678", "2-s2.0-85012345678"),
    ("pmid", "31234567", "31234567"),
    ("arxiv", "arXiv:2101.01234v2", "2101.01234v2"),
    ("urn", "URN:NBN:SE:UU:DIVA-12345", "urn:nbn:se:uu:diva-12345"),
    ("handle", "https://hdl.handle.net/1765/315", "1765/315"),
    ("uri", "https://urn.kb.se/resolve?urn=urn:nbn:se:uu:hylla-1", "https://urn.kb.se/resolve?urn=urn:nbn:se:uu:hylla-1"),
])
def test_normal_forms(scheme: str, raw: str, normal: str) -> None:
    assert ids.normalise_identifier(scheme, raw) == normal
    assert ids.is_valid(scheme, raw)


@pytest.mark.parametrize(("scheme", "raw", "words"), [
    ("doi", "10.12/x", "registrant"),
    ("doi", "10.1000/a b", "no spaces"),
    ("doi", "10.1000/x\x07", "DOI"),
    ("issn", "0028-0837", "check digit"),
    ("isbn", "978-3-16-148410-1", "check digit"),
    ("orcid", "0000-0002-1825-0098", "check digit"),
    ("orcid", "0000-0002-1825", "16 characters"),
    ("isi", "123456789012345", "000 or 001"),
    ("uri", "https://exämple.org/", "ASCII"),
    ("uri", "no-scheme", "absolute"),
    ("nonsense", "x", "unknown identifier type"),
])
def test_rejections_say_why(scheme: str, raw: str, words: str) -> None:
    with pytest.raises(ValueError) as raised:
        ids.normalise_identifier(scheme, raw)
    assert words in str(raised.value)
    assert not ids.is_valid(scheme, raw)


def test_isbn13_conversion() -> None:
    assert ids.isbn13("0-306-40615-2") == "978-0-306-40615-7"
