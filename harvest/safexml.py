"""Safe parsing of untrusted XML from harvested OAI-PMH sources.

Harvested bytes come from servers we do not control, so the parser is locked down: no DTDs, no
entity expansion, no network, libxml2's resource limits on, and never ``recover=True`` (which
silently drops broken records). Every refusal is a ``HarvestXMLError`` carrying a short machine
reason (for harvest statistics) and a sentence for the harvest log.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lxml import etree

# libxml2's own ceilings without XML_PARSE_HUGE: a configured limit can be lower, never higher.
LIBXML2_MAX_DEPTH = 256
LIBXML2_MAX_TEXT_BYTES = 10_000_000

_XML_ERR_UNDECLARED_ENTITY = 26
_XML_ERR_RESOURCE_LIMIT = 114
_ENCODING_DECL = re.compile(rb"""^<\?xml[^>]*?\bencoding\s*=\s*["']([A-Za-z0-9._\-]+)["']""")
_UTF8_BOM = b"\xef\xbb\xbf"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


class HarvestXMLError(ValueError):
    """A harvested document we refuse to read; ``reason`` is a short code, the message says why."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class UnsafeXML(HarvestXMLError):
    """Well-formed or not, the document tries something we never allow (DTDs, huge sizes)."""


class MalformedXML(HarvestXMLError):
    """The bytes are not a well-formed UTF-8 XML document."""


@dataclass(frozen=True, slots=True)
class Limits:
    """How much one harvested document may hold; the defaults fit the largest OAI-PMH pages seen."""

    max_bytes: int = 200 * 1024 * 1024
    max_depth: int = LIBXML2_MAX_DEPTH
    max_text_bytes: int = LIBXML2_MAX_TEXT_BYTES

    def __post_init__(self) -> None:
        if self.max_bytes < 1 or self.max_depth < 1 or self.max_text_bytes < 1:
            raise ValueError("XML limits must be positive")
        if self.max_depth > LIBXML2_MAX_DEPTH or self.max_text_bytes > LIBXML2_MAX_TEXT_BYTES:
            raise ValueError(f"XML limits cannot exceed libxml2's safe ceilings (depth {LIBXML2_MAX_DEPTH}, "
                             f"text node {LIBXML2_MAX_TEXT_BYTES} bytes) without turning on huge_tree")


DEFAULT_LIMITS = Limits()


def _parser() -> etree.XMLParser:
    # A fresh parser per document: lxml keeps the error log on the parser, and a shared one
    # would mix the messages of concurrent or earlier documents.
    return etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False,
                           remove_blank_text=False, recover=False)


def _skip_prolog_item(data: bytes, pos: int) -> int | None:
    """The position after one prolog comment or processing instruction at ``pos``, else None."""
    for opener, closer in ((b"<!--", b"-->"), (b"<?", b"?>")):
        if data.startswith(opener, pos):
            end = data.find(closer, pos + len(opener))
            if end < 0:
                raise MalformedXML("not_well_formed", f"unterminated {opener.decode()} in the prolog")
            return end + len(closer)
    return None


def _check_prolog(data: bytes) -> None:
    """Refuse a DOCTYPE before libxml2 sees it: no internal subset, no entity, no external DTD."""
    pos = len(_UTF8_BOM) if data.startswith(_UTF8_BOM) else 0
    while pos < len(data):
        while pos < len(data) and data[pos] in b" \t\r\n":
            pos += 1
        if data.startswith(b"<!DOCTYPE", pos) or data.startswith(b"<!doctype", pos):
            raise UnsafeXML("doctype", "the document has a DOCTYPE declaration; harvested XML may not declare "
                                       "DTDs or entities (XXE and entity-expansion attacks)")
        after = _skip_prolog_item(data, pos)
        if after is None:
            return
        pos = after


def _check_encoding(data: bytes) -> None:
    if data.startswith(_UTF16_BOMS):
        raise MalformedXML("encoding_not_utf8", "the document is UTF-16; OAI-PMH responses must be UTF-8")
    head = data[len(_UTF8_BOM):] if data.startswith(_UTF8_BOM) else data
    match = _ENCODING_DECL.match(head[:300])
    if match and match.group(1).lower() not in (b"utf-8", b"utf8"):
        raise MalformedXML("encoding_not_utf8", f"the document declares encoding {match.group(1).decode()!r}; "
                                                "OAI-PMH responses must be UTF-8")


def _utf8_error(data: bytes) -> MalformedXML | None:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return MalformedXML("invalid_utf8", f"the document is not valid UTF-8: byte {exc.object[exc.start]:#04x} "
                                            f"at offset {exc.start} cannot start or continue a character")
    return None


def _translate(exc: etree.XMLSyntaxError, data: bytes) -> HarvestXMLError:
    where = f"line {exc.lineno}" if exc.lineno else "the document"
    message = exc.msg or str(exc)
    if exc.code == _XML_ERR_RESOURCE_LIMIT and "depth" in message.lower():
        return UnsafeXML("too_deep", f"elements nest deeper than {LIBXML2_MAX_DEPTH} levels ({where})")
    if exc.code == _XML_ERR_RESOURCE_LIMIT:
        return UnsafeXML("text_too_large", f"a text node is larger than {LIBXML2_MAX_TEXT_BYTES} bytes ({where})")
    utf8 = _utf8_error(data)
    if utf8 is not None:
        return utf8
    if exc.code == _XML_ERR_UNDECLARED_ENTITY:
        return MalformedXML("undefined_entity", f"not well-formed: {message} (HTML entities such as &ouml; "
                                                "are not XML; the source must write the character itself)")
    return MalformedXML("not_well_formed", f"not well-formed XML: {message}")


def _check_limits(root: etree._Element, limits: Limits) -> None:
    """Walk the tree only when a limit is stricter than libxml2's, which already holds its own."""
    if limits.max_depth >= LIBXML2_MAX_DEPTH and limits.max_text_bytes >= LIBXML2_MAX_TEXT_BYTES:
        return
    depth = 0
    for event, el in etree.iterwalk(root, events=("start", "end")):
        if event == "end":
            depth -= 1
            continue
        depth += 1
        if depth > limits.max_depth:
            raise UnsafeXML("too_deep", f"elements nest deeper than {limits.max_depth} levels")
        for text in (el.text, el.tail):
            if text is not None and len(text) > limits.max_text_bytes // 4 and len(text.encode()) > limits.max_text_bytes:
                raise UnsafeXML("text_too_large", f"a text node is larger than {limits.max_text_bytes} bytes")


def parse_bytes(data: bytes, *, limits: Limits = DEFAULT_LIMITS) -> etree._Element:
    """The root element of a harvested document, or a ``HarvestXMLError`` saying why not."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError(f"parse_bytes takes bytes, not {type(data).__name__}")
    data = bytes(data)
    if len(data) > limits.max_bytes:
        raise UnsafeXML("too_large", f"the document is {len(data)} bytes, over the limit of {limits.max_bytes}")
    if not data.strip():
        raise MalformedXML("empty", "the document is empty")
    _check_encoding(data)
    _check_prolog(data)
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        raise _translate(exc, data) from None
    if root.getroottree().docinfo.doctype:
        raise UnsafeXML("doctype", "the document has a DOCTYPE declaration; harvested XML may not declare DTDs")
    _check_limits(root, limits)
    return root
