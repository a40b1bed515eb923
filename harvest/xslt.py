"""Per-source XSLT repairs, applied to a record's payload before it is parsed, with no file or network access.

SwePub keeps one stylesheet per institution for its quirks (a misplaced genre, a wrong
authority); Hylla stores it with the source. A stylesheet is configuration, but one typed into an
admin page, so it gets no more power than a repair needs: lxml's access control denies every file
and network read and write, ``xsl:include``/``xsl:import`` are refused (a stored stylesheet is
self-contained), and it is parsed with the same locked-down parser as harvested XML.
"""

from __future__ import annotations

from lxml import etree

from harvest import safexml

_XSL_NS = "http://www.w3.org/1999/XSL/Transform"


class XSLTError(ValueError):
    """A stylesheet that cannot be compiled, or a record it fails on; the message says which and why."""


def compile_stylesheet(text: str) -> etree.XSLT:
    """A ready transform for ``text``, sandboxed; XSLTError says what is wrong with it."""
    try:
        doc = safexml.parse_bytes(text.encode("utf-8"))
    except safexml.HarvestXMLError as exc:
        raise XSLTError(f"the stylesheet is not usable XML: {exc}") from None
    for name in ("include", "import"):
        if doc.find(f".//{{{_XSL_NS}}}{name}") is not None:
            raise XSLTError(f"the stylesheet uses xsl:{name}; a source's repair stylesheet must be self-contained")
    try:
        return etree.XSLT(doc, access_control=etree.XSLTAccessControl.DENY_ALL)
    except etree.XSLTParseError as exc:
        raise XSLTError(f"the stylesheet does not compile: {exc}") from None


def check_stylesheet(text: str) -> str:
    """``text`` unchanged if it compiles, for validating a stylesheet before it is stored."""
    compile_stylesheet(text)
    return text


def apply(transform: etree.XSLT, payload: etree._Element) -> etree._Element:
    """The repaired payload; XSLTError when the stylesheet fails or produces no element for this record."""
    try:
        result = transform(payload)
    except etree.XSLTApplyError as exc:
        raise XSLTError(f"the source's stylesheet failed on this record: {exc}") from None
    root = result.getroot()
    if root is None:
        raise XSLTError("the source's stylesheet produced no XML element for this record")
    return root
