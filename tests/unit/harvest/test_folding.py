"""``normalise_text`` folds like the regular-expression definition it replaced, for every character."""

from __future__ import annotations

import re
import unicodedata

import pytest

from harvest.folding import normalise_text

_NON_WORD = re.compile(r"[\W_]+")
_COMBINING = re.compile(r"[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]+")


def by_definition(text: str) -> str:
    """NFKD, combining marks dropped, case folded, runs of non-word characters as one space."""
    plain = _COMBINING.sub("", unicodedata.normalize("NFKD", text))
    return _NON_WORD.sub(" ", plain.casefold()).strip()


@pytest.mark.parametrize("text", [
    "Eelgrass meadows in the Baltic Sea 2024", "Åström, Björn", "  Hello -- world__x  ", "Ålgräs i Östersjön",
    "Ελληνικά κείμενα", "Straße ÆØ œuvre", "a\x1fb\tc\nd", "snake_case_name", "İstanbul", "ﬁne ﬂow", "Ǆemal",
    "10.1234/ABC-def", "", "   ", "___", "Müller-Lüdenscheidt", "naïve café", "résumé", "ÅÄÖ åäö", "Ａｂｃ１",
])
def test_examples_fold_as_defined(text: str) -> None:
    assert normalise_text(text) == by_definition(text)


def test_every_character_folds_as_defined() -> None:
    """Each character alone, between letters and next to ASCII punctuation: where the ASCII shortcut
    and the full path part ways, a character would fold differently here."""
    for code in range(0x3400):
        c = chr(code)
        if 0xD800 <= code <= 0xDFFF:
            continue  # surrogates are no text
        for text in (c, f"a{c}b", f"{c}-{c} x_{c}", f"Å{c}"):
            assert normalise_text(text) == by_definition(text), (hex(code), text)
