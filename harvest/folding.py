"""How titles and names are folded for comparison and search: lower case, no diacritics, single spaces."""

from __future__ import annotations

import re
import unicodedata

_NON_WORD = re.compile(r"[\W_]+")
_COMBINING = re.compile(r"[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]+")


def normalise_text(text: str) -> str:
    """Lower case, no diacritics, words separated by single spaces: what titles and names compare as."""
    plain = _COMBINING.sub("", unicodedata.normalize("NFKD", text))
    return _NON_WORD.sub(" ", plain.casefold()).strip()
