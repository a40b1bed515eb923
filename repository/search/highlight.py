"""Marking the searched words in titles and abstracts, the same way whichever backend found them.

Words are compared folded (case and diacritics ignored), as every backend matches them, so a
search for ``ostersjon`` marks "Östersjön" and a prefix ``ålgr*`` marks "ålgräs".
"""

from __future__ import annotations

import re

from markupsafe import Markup, escape

from repository.search.query import Text, fold

_WORDS = re.compile(r"[^\W_]+")
SNIPPET_WORDS = 40


class Highlighter:
    """The words of a query, ready to mark any number of texts."""

    def __init__(self, terms: list[Text]) -> None:
        self.exact = {fold(w) for t in terms for w in (t.words[:-1] if t.prefix else t.words)}
        self.prefixes = tuple(fold(t.words[-1]) for t in terms if t.prefix)

    def __bool__(self) -> bool:
        return bool(self.exact or self.prefixes)

    def hits(self, word: str) -> bool:
        folded = fold(word)
        return folded in self.exact or (bool(self.prefixes) and folded.startswith(self.prefixes))

    def mark(self, text: str) -> Markup:
        """``text`` escaped, with each matching word in ``<mark>``."""
        out: list[str] = []
        last = 0
        for m in _WORDS.finditer(text):
            if self.hits(m.group()):
                out.append(str(escape(text[last:m.start()])))
                out.append(f"<mark>{escape(m.group())}</mark>")
                last = m.end()
        out.append(str(escape(text[last:])))
        return Markup("".join(out))

    def snippet(self, text: str, words: int = SNIPPET_WORDS) -> Markup | None:
        """A window of ``text`` around its first match, marked; None when nothing matches."""
        tokens = text.split()
        for i, token in enumerate(tokens):
            if any(self.hits(w) for w in _WORDS.findall(token)):
                start = max(0, i - words // 4)
                piece = " ".join(tokens[start:start + words])
                lead = "… " if start else ""
                tail = " …" if start + words < len(tokens) else ""
                return Markup(escape(lead)) + self.mark(piece) + Markup(escape(tail))
        return None
