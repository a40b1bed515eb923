"""Text to LaTeX as BibTeX reads it: special characters, ligatures, accents, capitals and keys.

Braces are escaped as ``\\textbraceleft{}``/``\\textbraceright{}``, not ``\\{``: BibTeX counts
every brace, escaped or not, to find where a field ends, so a title with one ``{`` written as
``\\{`` would swallow the rest of the file.
"""

from __future__ import annotations

import re
import unicodedata

_SPECIALS: dict[str, str] = {
    "\\": r"\textbackslash{}",
    "{": r"\textbraceleft{}",
    "}": r"\textbraceright{}",
    "%": r"\%",
    "&": r"\&",
    "#": r"\#",
    "$": r"\$",
    "_": r"\_",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}
# Specials, and the first character of the ligatures TeX would make of ASCII text
# (-- en dash, '' and `` quotes, ?` and !` inverted marks): an empty group breaks those.
_ESCAPE = re.compile(r"[\\{}%&#$_~^]|-(?=-)|'(?=')|`(?=`)|[?!](?=`)")

# Letters LaTeX writes with a command of their own rather than an accent on a base letter.
_LETTERS: dict[str, str] = {
    "å": r"{\aa}", "Å": r"{\AA}", "æ": r"{\ae}", "Æ": r"{\AE}", "ø": r"{\o}", "Ø": r"{\O}",
    "œ": r"{\oe}", "Œ": r"{\OE}", "ß": r"{\ss}", "ł": r"{\l}", "Ł": r"{\L}", "ı": r"{\i}",
    "ȷ": r"{\j}", "đ": r"{\dj}", "Đ": r"{\DJ}", "þ": r"{\th}", "Þ": r"{\TH}", "ð": r"{\dh}",
    "Ð": r"{\DH}", "ŋ": r"{\ng}", "Ŋ": r"{\NG}",
    "\u2013": "--", "\u2014": "---", "\u2018": "`", "\u2019": "'", "\u201c": "``", "\u201d": "''",
    "\u201e": r"{\quotedblbase}", "«": r"{\guillemotleft}", "»": r"{\guillemotright}",
    "\u2026": r"{\ldots}", "\u00a0": "~", "€": r"{\texteuro}", "£": r"{\pounds}", "§": r"{\S}",
    "¶": r"{\P}", "©": r"{\copyright}", "°": r"{\textdegree}", "¡": r"{\textexclamdown}",
    "¿": r"{\textquestiondown}", "×": r"{\texttimes}", "±": r"{\textpm}",
}
# Combining marks and the LaTeX accent that puts them on a letter.
_ACCENTS: dict[str, str] = {
    "\u0300": "`", "\u0301": "'", "\u0302": "^", "\u0303": "~", "\u0304": "=", "\u0306": "u",
    "\u0307": ".", "\u0308": '"', "\u030a": "r", "\u030b": "H", "\u030c": "v", "\u0323": "d",
    "\u0327": "c", "\u0328": "k", "\u0331": "b",
}
_CLUSTER = re.compile(r"[^\x00-\x7f][\u0300-\u036f]*|[A-Za-z][\u0300-\u036f]+")

_FOLDED: dict[str, str] = {
    "ø": "o", "Ø": "O", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "ß": "ss", "ł": "l", "Ł": "L",
    "đ": "d", "Đ": "D", "þ": "th", "Þ": "Th", "ð": "d", "Ð": "D", "ı": "i", "ŋ": "ng", "Ŋ": "Ng",
}
_NOT_KEY = re.compile(r"[^A-Za-z0-9]")
_WORD_BREAK = re.compile(r"(\s+)")
_AND = re.compile(r"\sand\s", re.IGNORECASE)
_VERBATIM_UNSAFE = re.compile(r"[{}\\\s]")
_WORD_CORE = re.compile(r"^(\W*)(.*?)(\W*)$", re.DOTALL)


def escape(text: str, *, ascii_only: bool = False) -> str:
    """``text`` as a BibTeX field value: specials escaped; non-ASCII kept, or as LaTeX when ``ascii_only``."""
    latex = _ESCAPE.sub(_escaped, text)
    if ascii_only and not latex.isascii():
        latex = _CLUSTER.sub(_to_latex, unicodedata.normalize("NFD", latex))
    return latex


def _escaped(match: re.Match[str]) -> str:
    char = match.group()
    return _SPECIALS.get(char) or char + "{}"


def _to_latex(match: re.Match[str]) -> str:
    """One letter with its combining marks (or one other non-ASCII character) as ASCII LaTeX."""
    cluster = match.group()
    composed = unicodedata.normalize("NFC", cluster)
    if composed in _LETTERS:
        return _LETTERS[composed]
    base, marks = cluster[0], cluster[1:]
    if base.isascii() and marks and all(m in _ACCENTS for m in marks):
        latex = r"\i" if base == "i" else r"\j" if base == "j" else base
        for mark in marks:
            accent = _ACCENTS[mark]
            braced = accent.isalpha() or len(latex) > 1  # \c{c}, \'{\"u}; but \"o
            latex = f"\\{accent}{{{latex}}}" if braced else f"\\{accent}{latex}"
        return "{" + latex + "}"
    if len(cluster) == 1 and cluster in _LETTERS:
        return _LETTERS[cluster]
    return "".join(_LETTERS.get(c) or _unihex(c) for c in cluster)


def _unihex(char: str) -> str:
    """A character LaTeX has no ASCII form for, written visibly as its code point (as pylatexenc does)."""
    return rf"\ensuremath{{\langle}}\texttt{{U+{ord(char):04X}}}\ensuremath{{\rangle}}"


def title(text: str, *, ascii_only: bool = False) -> str:
    """A title whose capitals survive BibTeX styles that lower-case titles.

    Each word with a capital letter is braced, except a first word capitalised only at its
    first letter, which BibTeX leaves alone anyway.
    """
    parts = _WORD_BREAK.split(text)
    out = []
    first = True
    for part in parts:
        if not part or part.isspace():
            out.append(part)
            continue
        capitals = [c.isupper() for c in part]
        if any(capitals[1:] if first else capitals):
            lead, core, trail = _WORD_CORE.match(part).groups()  # type: ignore[union-attr]
            out.append(escape(lead, ascii_only=ascii_only) + "{" + escape(core, ascii_only=ascii_only) + "}"
                       + escape(trail, ascii_only=ascii_only))
        else:
            out.append(escape(part, ascii_only=ascii_only))
        first = False
    return "".join(out)


def name_part(text: str, *, ascii_only: bool = False) -> str:
    """A family or given name; braced when BibTeX would split it (at a comma or an "and") or read
    it as "and others" (et al.)."""
    latex = escape(text.strip(), ascii_only=ascii_only)
    if "," in text or (" " in text and _AND.search(f" {text} ")) or text.strip().lower() == "others":
        return "{" + latex + "}"
    return latex


def verbatim(text: str) -> str:
    """A DOI or URL for a verbatim field: only braces, backslashes and spaces percent-encoded."""
    return _VERBATIM_UNSAFE.sub(lambda m: f"%{ord(m.group()):02X}", text)


def fold(text: str) -> str:
    """ASCII letters and digits only (``Öberg`` -> ``Oberg``), for citation keys."""
    folded = "".join(_FOLDED.get(c, c) for c in text)
    decomposed = unicodedata.normalize("NFKD", folded)
    return _NOT_KEY.sub("", decomposed.encode("ascii", "ignore").decode("ascii"))
