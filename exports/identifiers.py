"""Syntax and check-digit rules for the identifiers a record carries, shared by deposit and harvest.

Each ``normalise_*`` returns the canonical form or raises ``ValueError`` with a sentence a
depositor can act on; each ``is_valid_*`` is the same test as a boolean. The rules are SwePub's
(see the aggregator's field checks), so a record that passes here passes there too.

The check-digit rules remember the values they passed: a national harvest meets the same
journals' ISSNs and the same researchers' ORCID iDs over and over, and python-stdnum's cleaning
of a value costs more than the rest of a record's identifier checks together. A value that fails
raises again each time (exceptions are not remembered).
"""

from __future__ import annotations

import functools
import re

from stdnum import isbn as _isbn
from stdnum import issn as _issn
from stdnum.exceptions import ValidationError as _StdnumError
from stdnum.iso7064 import mod_11_2

_REMEMBERED = 1 << 16

_DOI_PREFIXES = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi:\s*)", re.IGNORECASE)
_DOI = re.compile(r"^10\.[^\s/]{4,}/\S+$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_ORCID_URL = re.compile(r"^(?:https?://)?(?:www\.)?orcid\.org/", re.IGNORECASE)
_ORCID = re.compile(r"^(\d{4})-?(\d{4})-?(\d{4})-?(\d{3}[\dX])$")
_ISI = re.compile(r"^(?:(?:000|001)\d{12}|A19[\dA-Z]{12})$")
_PMID = re.compile(r"^[1-9]\d{0,9}$")
_SCOPUS = re.compile(r"^2-s2\.0-\d{8,12}$")
_ARXIV = re.compile(r"^(?:\d{4}\.\d{4,5}|[a-z\-]+(?:\.[A-Z]{2})?/\d{7})(?:v\d+)?$")
_URN_NBN = re.compile(r"^urn:nbn:[a-z]{2}:[a-z0-9\-]+:[a-z0-9\-]+$", re.IGNORECASE)
_HANDLE = re.compile(r"^\d+(?:\.\d+)*/\S+$")


def normalise_doi(value: str) -> str:
    """A bare lower-case DOI (``10.1234/abc``), with any resolver prefix removed."""
    text = _DOI_PREFIXES.sub("", value.strip())
    if _CONTROL.search(text) or not _DOI.match(text):
        raise ValueError(
            f"{value!r} is not a DOI: it must look like 10.1234/suffix (prefix 10., a registrant "
            "code of four or more characters, a slash and a suffix, no spaces)"
        )
    return text.lower()


@functools.lru_cache(maxsize=_REMEMBERED)
def normalise_issn(value: str) -> str:
    """``NNNN-NNNX`` with a valid check digit."""
    try:
        return _issn.format(_issn.validate(value.strip()))
    except _StdnumError:
        raise ValueError(f"{value!r} is not a valid ISSN: it must be eight characters NNNN-NNNX "
                         "whose last one is the check digit") from None


@functools.lru_cache(maxsize=_REMEMBERED)
def normalise_isbn(value: str) -> str:
    """An ISBN-10 or ISBN-13 with a valid check digit, hyphenated by its registration groups."""
    try:
        return _isbn.format(_isbn.validate(value.strip()), convert=False)
    except _StdnumError:
        raise ValueError(f"{value!r} is not a valid ISBN: it needs 10 or 13 digits with a correct "
                         "check digit") from None


@functools.lru_cache(maxsize=_REMEMBERED)
def isbn13(value: str) -> str:
    """The ISBN-13 form (SwePub's normal form) of a valid ISBN, hyphenated."""
    return _isbn.format(_isbn.validate(value.strip()), convert=True)


@functools.lru_cache(maxsize=_REMEMBERED)
def normalise_orcid(value: str) -> str:
    """A bare ORCID iD ``0000-0002-1825-0097`` whose ISO 7064 mod 11-2 checksum holds."""
    text = _ORCID_URL.sub("", value.strip()).upper()
    match = _ORCID.match(text)
    if not match:
        raise ValueError(f"{value!r} is not an ORCID iD: it must be 16 characters in four groups "
                         "like 0000-0002-1825-0097")
    digits = "".join(match.groups())
    if not mod_11_2.is_valid(digits):
        raise ValueError(f"{value!r} is not a valid ORCID iD: its check digit does not match")
    return "-".join(match.groups())


def normalise_isi(value: str) -> str:
    """A Web of Science accession number: ``000``/``001`` + 12 digits, or ``A19`` + 12 characters."""
    text = value.strip().upper()
    if text.startswith("WOS:"):
        text = text[4:]
    if not _ISI.match(text):
        raise ValueError(f"{value!r} is not a Web of Science id: it must be 000 or 001 followed by "
                         "12 digits, or A19 followed by 12 characters")
    return text


def normalise_pmid(value: str) -> str:
    text = value.strip()
    if not _PMID.match(text):
        raise ValueError(f"{value!r} is not a PubMed id: it must be a positive whole number")
    return text


def normalise_scopus(value: str) -> str:
    text = value.strip()
    if text.isdigit():
        text = f"2-s2.0-{text}"
    if not _SCOPUS.match(text):
        raise ValueError(f"{value!r} is not a Scopus EID: it must look like 2-s2.0-85012345678")
    return text


def normalise_arxiv(value: str) -> str:
    text = re.sub(r"^arxiv:", "", value.strip(), flags=re.IGNORECASE)
    if not _ARXIV.match(text):
        raise ValueError(f"{value!r} is not an arXiv id: it must look like 2101.01234 or hep-th/9901001")
    return text


def normalise_urn(value: str) -> str:
    text = value.strip()
    if not _URN_NBN.match(text):
        raise ValueError(f"{value!r} is not a URN:NBN: it must look like urn:nbn:se:uu:diva-12345")
    return text.lower()


def normalise_handle(value: str) -> str:
    text = re.sub(r"^(?:https?://hdl\.handle\.net/|hdl:)", "", value.strip(), flags=re.IGNORECASE)
    if not _HANDLE.match(text):
        raise ValueError(f"{value!r} is not a handle: it must look like 1765/315")
    return text


def normalise_uri(value: str) -> str:
    """An absolute URI in ASCII, as SwePub requires for ``identifier type="uri"``."""
    text = value.strip()
    if not text.isascii() or _CONTROL.search(text) or " " in text:
        raise ValueError(f"{value!r} is not a URI: it must be ASCII with no spaces")
    if not re.match(r"^[a-zA-Z][a-zA-Z0-9+.\-]*:\S+$", text):
        raise ValueError(f"{value!r} is not an absolute URI (it needs a scheme such as https:)")
    return text


def _free(value: str) -> str:
    text = value.strip()
    if not text or _CONTROL.search(text):
        raise ValueError(f"{value!r} is empty or contains control characters")
    return text


NORMALISERS = {
    "doi": normalise_doi,
    "isbn": normalise_isbn,
    "issn": normalise_issn,
    "eissn": normalise_issn,
    "orcid": normalise_orcid,
    "isi": normalise_isi,
    "pmid": normalise_pmid,
    "scopus": normalise_scopus,
    "arxiv": normalise_arxiv,
    "urn": normalise_urn,
    "handle": normalise_handle,
    "uri": normalise_uri,
    "libris": _free,
    "local": _free,
}
IDENTIFIER_SCHEMES: tuple[str, ...] = tuple(NORMALISERS)


def normalise_identifier(scheme: str, value: str) -> str:
    """Normalise ``value`` by the rule of ``scheme``; ValueError names what is wrong."""
    try:
        rule = NORMALISERS[scheme]
    except KeyError:
        raise ValueError(f"unknown identifier type {scheme!r}; known: {', '.join(IDENTIFIER_SCHEMES)}") from None
    return rule(value)


def is_valid(scheme: str, value: str) -> bool:
    try:
        normalise_identifier(scheme, value)
    except ValueError:
        return False
    return True
