"""Small readers shared by the MODS and Dublin Core parsers: free text, dates, language codes, identifiers.

Real feeds put escaped HTML (DiVA), real XHTML children and HTML entities into free text, write
dates in several shapes and languages as codes or names; these turn each into the read model's
form, keeping a value as it was when it cannot be understood so that field checks can flag it.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from html.parser import HTMLParser

import pycountry
from lxml import etree

from exports.identifiers import normalise_identifier
from exports.readmodel import PartialDate
from exports.vocabularies import is_language_code, to_bibliographic

_BLOCK_TAGS = frozenset({"p", "div", "br", "li", "ul", "ol", "tr", "table", "blockquote", "h1", "h2", "h3",
                         "h4", "h5", "h6", "section", "pre", "dd", "dt"})
_HIDDEN_TAGS = frozenset({"script", "style"})
_BREAK = "\x00"
_DATE = re.compile(r"(?<!\d)(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?(?!\d)")


class _TextOnly(HTMLParser):
    """Collects the text of an HTML fragment, marking paragraph breaks at block elements."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN_TAGS:
            self._hidden += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append(_BREAK)

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN_TAGS:
            self._hidden = max(0, self._hidden - 1)
        elif tag in _BLOCK_TAGS:
            self.parts.append(_BREAK)

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)


def strip_html(markup: str, *, paragraphs: bool = False) -> str:
    """Plain text of an HTML fragment, entities unescaped; blocks become blank-line-separated paragraphs."""
    if "<" not in markup and "&" not in markup:
        return " ".join(markup.split())  # most values: nothing to strip, so skip the HTML parser
    reader = _TextOnly()
    reader.feed(markup)
    reader.close()
    blocks = (" ".join(block.split()) for block in "".join(reader.parts).split(_BREAK))
    return ("\n\n" if paragraphs else " ").join(b for b in blocks if b)


def _markup(el: etree._Element) -> str:
    """An element's content as HTML source: text as it is (DiVA's escaped tags become tags), children as tags."""
    out = [el.text or ""]
    for child in el:
        if isinstance(child.tag, str):
            name = etree.QName(child).localname
            out.append(f"<{name}>{_markup(child)}</{name}>")
        out.append(child.tail or "")
    return "".join(out)


def free_text(el: etree._Element | None, *, paragraphs: bool = False) -> str:
    """Titles, abstracts, keywords and notes: HTML tags stripped, entities unescaped, spaces collapsed."""
    if el is None:
        return ""
    return strip_html(_markup(el) if len(el) else el.text or "", paragraphs=paragraphs)


def plain_text(el: etree._Element | None) -> str:
    """Names, codes and other structured values: all text, spaces collapsed, nothing unescaped."""
    if el is None:
        return ""
    if not len(el):  # most values are one text node: no need to walk the subtree
        text = el.text
        return " ".join(text.split()) if text else ""
    return " ".join("".join(el.itertext()).split())


def find_date(text: str) -> PartialDate | None:
    """The first date in ``text`` (``YYYY``, ``YYYY-MM``, ``YYYY-MM-DD``), as precise as it is valid."""
    if len(text) == 4 and text.isascii() and text.isdigit() and text != "0000":
        return PartialDate(int(text))  # a bare year, what most records give: no pattern search needed
    for match in _DATE.finditer(text):
        year, month, day = match.groups()
        for parts in ((year, month, day), (year, month, None), (year, None, None)):
            try:
                return PartialDate.parse("-".join(p for p in parts if p))
            except ValueError:
                continue
    return None


def parse_datetime(text: str) -> dt.datetime | None:
    """An ISO 8601 date or date-time (naive when the source gives no zone), or None."""
    try:
        return dt.datetime.fromisoformat(text.strip())
    except ValueError:
        return None


@functools.lru_cache(maxsize=4096)
def language_code(value: str) -> str:
    """An ISO 639-2/B code for a code or English name (``en``, ``eng``, ``English`` -> ``eng``); else as given."""
    text = value.strip()
    lowered = text.lower()
    if len(lowered) == 3 and is_language_code(lowered):
        return to_bibliographic(lowered)
    lang = None
    if len(lowered) == 2 or (len(lowered) == 5 and lowered[2] in "-_"):
        lang = pycountry.languages.get(alpha_2=lowered[:2])
    elif len(lowered) > 3:
        lang = pycountry.languages.get(name=text.capitalize())
    if lang is not None:
        return getattr(lang, "bibliographic", None) or lang.alpha_3
    return text


@functools.lru_cache(maxsize=1 << 16)  # journals' ISSNs and authors' ORCIDs recur from record to record
def identifier_value(scheme: str, value: str) -> str:
    """The normalised identifier, or the value as it came (stripped) so field checks can flag it."""
    text = " ".join(value.split())
    try:
        return normalise_identifier(scheme, text)
    except ValueError:
        return text


_OPEN_ACCESS_STATEMENTS = frozenset({"gratis", "free", "open access", "openaccess", "fritt tillgänglig",
                                     "info:eu-repo/semantics/openaccess", "http://purl.org/coar/access_right/c_abf2"})
_OPEN_LICENCES = ("creativecommons.org/licenses/", "creativecommons.org/publicdomain/")


def is_open_access_statement(text: str | None) -> bool:
    """An access statement that says anyone may read the full text (DiVA's "gratis", COAR, info:eu-repo)."""
    return bool(text) and text.strip().lower() in _OPEN_ACCESS_STATEMENTS


def is_open_licence(uri: str | None) -> bool:
    """A Creative Commons licence or public-domain mark: the work is open access by its licence."""
    return bool(uri) and any(part in uri.lower() for part in _OPEN_LICENCES)
