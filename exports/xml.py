"""What Hylla's XML writers share: namespaces, safe element building, streamed list documents, access facts.

The writers (``dc``, ``dc_simple``, ``mods``, ``swepub``, ``datacite``) never build XML from strings:
they add elements with ``add``/``add_text`` here, which strip what XML 1.0 forbids from every text
and attribute value, so any read-model record serialises to well-formed XML. ``stream_document``
writes a list as one document with ``lxml.etree.xmlfile`` and hands out the bytes after each
record, so a 100,000-record export holds one record in memory at a time.

The access facts (which files are open on a day, the record's access status) live here because
the three crosswalks must agree on them: the MODS ``accessCondition``, the DC ``rights`` and the
DataCite ``rights`` of one record say the same thing on the same day.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

import pycountry
from lxml import etree

from exports.readmodel import FileInfo, Publication
from exports.vocabularies import default_output_type, iso639_1

XML_NS = "http://www.w3.org/XML/1998/namespace"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
XLINK_NS = "http://www.w3.org/1999/xlink"
MODS_NS = "http://www.loc.gov/mods/v3"
OAI_DC_NS = "http://www.openarchives.org/OAI/2.0/oai_dc/"
DC_NS = "http://purl.org/dc/elements/1.1/"
DATACITE_NS = "http://datacite.org/schema/kernel-4"

XML_LANG = f"{{{XML_NS}}}lang"
XSI_TYPE = f"{{{XSI_NS}}}type"
XSI_SCHEMA_LOCATION = f"{{{XSI_NS}}}schemaLocation"
XLINK_HREF = f"{{{XLINK_NS}}}href"

# XML 1.0 allows tab, newline, carriage return and everything from U+0020 except the surrogate
# block and U+FFFE/U+FFFF. Python strings can hold lone surrogates ("\ud800" is a valid str),
# which no encoder turns into UTF-8, so they are removed too, and so are DEL and the C1 controls,
# which XML 1.0 only discourages but which are never text in a bibliographic record.
_NOT_XML_CHAR = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")

Attributes = Mapping[str, str | None]


def clean(text: str) -> str:
    """``text`` without the characters XML 1.0 cannot carry (control characters, lone surrogates)."""
    if text.isascii() and text.isprintable():  # the common case, checked in C without a regex
        return text
    return _NOT_XML_CHAR.sub("", text)


def tidy(text: str) -> str:
    """``text`` cleaned, then stripped of surrounding whitespace: how every optional value is written."""
    return clean(text).strip()


def has_text(value: str | None) -> bool:
    """Whether ``value`` still says something once cleaned and stripped."""
    return value is not None and bool(tidy(value))


def qualified(namespace: str, local: str) -> str:
    return f"{{{namespace}}}{local}"


def _cleaned(attrs: Attributes) -> dict[str, str]:
    return {key: clean(value) for key, value in attrs.items() if value is not None}


def add(parent: etree._Element, tag: str, text: str | None = None, attrs: Attributes | None = None, /,
        **named: str | None) -> etree._Element:
    """A child element with cleaned text and attributes; attributes whose value is None are left out.

    ``attrs`` carries qualified attribute names (``XLINK_HREF``, ``XML_LANG``); plain ones may
    also come as keywords, any name included (the parameters are positional-only, so MARC's
    ``tag=`` attribute is an attribute, not the element name).
    """
    el = etree.SubElement(parent, tag, _cleaned({**attrs, **named} if attrs else named))
    if text is not None:
        el.text = clean(text)
    return el


def add_text(parent: etree._Element, tag: str, text: str | None, attrs: Attributes | None = None, /,
             **named: str | None) -> etree._Element | None:
    """Like ``add``, but only when ``text`` has something besides whitespace after cleaning.

    Optional fields go through here so that an empty or control-character-only value leaves no
    empty element behind (schemas reject empty required strings; readers show blank lines).
    """
    value = tidy(text) if text is not None else ""
    return add(parent, tag, value, attrs, **named) if value else None


def root_element(tag: str, nsmap: Mapping[str | None, str], attrs: Attributes | None = None) -> etree._Element:
    """A record's root element with every namespace the record uses declared on it, once."""
    return etree.Element(tag, _cleaned(attrs or {}), nsmap=dict(nsmap))


def document(el: etree._Element) -> bytes:
    """One record as a complete UTF-8 document with its XML declaration."""
    return etree.tostring(el, xml_declaration=True, encoding="UTF-8")


def stream_document(root_tag: str, elements: Iterable[etree._Element],
                    nsmap: Mapping[str | None, str] | None = None,
                    attrs: Attributes | None = None) -> Iterator[bytes]:
    """A list document: ``root_tag`` around every element of ``elements``, in chunks.

    The buffer is drained after the opening tag and after each record, so memory stays at one
    record whatever the length of the list, and the first bytes go out before the second record
    is built. ``elements`` is consumed lazily (a generator of records is never materialised).
    """
    buffer = io.BytesIO()

    def drain() -> bytes:
        data = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return data

    with etree.xmlfile(buffer, encoding="UTF-8") as xf:
        xf.write_declaration()
        with xf.element(root_tag, _cleaned(attrs or {}), nsmap=dict(nsmap or {})):
            xf.flush()
            yield drain()
            for el in elements:
                xf.write(el)
                xf.flush()
                yield drain()
    tail = drain()
    if tail:
        yield tail


def today_utc() -> dt.date:
    """The day embargoes are judged on when the caller names none."""
    return dt.datetime.now(dt.timezone.utc).date()


def output_type_of(pub: Publication) -> str | None:
    """The KB output type: the record's own, else the default for its SVEP type (None for student theses)."""
    return pub.output_type or default_output_type(pub.publication_type, pub.content_type)


def open_files(pub: Publication, day: dt.date) -> tuple[FileInfo, ...]:
    """Full texts and supplements anyone may download on ``day`` and that have a URL to point at.

    Embargoed and restricted files are never exposed: a harvester would otherwise publish the
    link before the embargo lifts.
    """
    return tuple(f for f in pub.files
                 if f.role in ("fulltext", "supplementary") and f.url and f.is_open_on(day))


# Per status: the OpenAIRE (info:eu-repo) access right that oai_dc and DataCite use, the COAR
# access-right concept that MODS accessCondition links to, and words for people.
_ACCESS_TERMS = {
    "open": ("info:eu-repo/semantics/openAccess", "http://purl.org/coar/access_right/c_abf2", "open access"),
    "embargoed": ("info:eu-repo/semantics/embargoedAccess", "http://purl.org/coar/access_right/c_f1cf",
                  "embargoed access"),
    "restricted": ("info:eu-repo/semantics/restrictedAccess", "http://purl.org/coar/access_right/c_16ec",
                   "restricted access"),
    "metadata-only": ("info:eu-repo/semantics/closedAccess", "http://purl.org/coar/access_right/c_14cb",
                      "metadata only access"),
}


@dataclass(frozen=True, slots=True)
class AccessStatus:
    """A record's access to its full text on one day, in the three vocabularies the writers need."""

    status: str  # open | embargoed | restricted | metadata-only
    embargo_until: dt.date | None = None

    @property
    def eu_repo(self) -> str:
        return _ACCESS_TERMS[self.status][0]

    @property
    def coar_uri(self) -> str:
        return _ACCESS_TERMS[self.status][1]

    @property
    def label(self) -> str:
        return _ACCESS_TERMS[self.status][2]


def access_status(pub: Publication, day: dt.date) -> AccessStatus:
    """Open if a full text is open on ``day``; embargoed (until the earliest lift) if one will open;
    restricted if full texts exist but none will; metadata only without full text."""
    fulltexts = [f for f in pub.files if f.role == "fulltext"]
    if any(f.is_open_on(day) for f in fulltexts):
        return AccessStatus("open")
    lifts = [f.embargo_until for f in fulltexts
             if f.access == "embargoed" and f.embargo_until is not None and f.embargo_until > day]
    if lifts:
        return AccessStatus("embargoed", min(lifts))
    if fulltexts:
        return AccessStatus("restricted")
    return AccessStatus("metadata-only")


def w3c_datetime(value: dt.datetime) -> str:
    """``YYYY-MM-DDThh:mm:ssZ`` for an aware time (in UTC), without a zone for a naive one (local time)."""
    if value.tzinfo is None:
        return value.isoformat(timespec="seconds")
    return value.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def utc_day(value: dt.datetime) -> dt.date:
    """The UTC calendar day of a timestamp (a naive one is taken as UTC already)."""
    if value.tzinfo is None:
        return value.date()
    return value.astimezone(dt.timezone.utc).date()


@functools.cache
def iso639_3(code: str) -> str:
    """The ISO 639-3 (terminology) form of a three-letter code: ``ger`` -> ``deu``, ``swe`` stays.

    OpenAIRE asks for 639-3 in ``dc:language``; BCP 47 language tags use the same codes where no
    two-letter one exists. Unknown codes come back unchanged.
    """
    lang = pycountry.languages.get(alpha_3=code) or pycountry.languages.get(bibliographic=code)
    return lang.alpha_3 if lang is not None else code


@functools.cache
def language_tag(code: str | None) -> str | None:
    """The BCP 47 tag for ``xml:lang`` and DataCite ``language``: two letters where ISO 639-1 has them."""
    if not code:
        return None
    return iso639_1(code) or iso639_3(code)
