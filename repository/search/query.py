"""The search box's language: free words, phrases, fields, AND/OR/NOT, year ranges and identifiers.

The parser never fails on what a person types in a hurry (an unclosed quote or parenthesis,
Lucene or FTS5 operators, a lone ``*``): stray syntax is read as separators, so every backend
receives a well-formed tree. It raises ``QueryError`` only for input it cannot honour, with a
sentence saying why: a query that is too long, or a field whose value cannot be what it names
(``year:soon``, ``orcid:abc``, ``doi:xyz``).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from stdnum import isbn as stdnum_isbn

from exports import identifiers

MAX_QUERY_LENGTH = 1000
MAX_CLAUSES = 64
YEAR_MIN, YEAR_MAX = 1000, 2999

WORD = re.compile(r"[^\W_]+")
_FIELDS = {"title", "author", "orcid", "doi", "subject", "year", "isbn", "issn", "urn", "id"}
TEXT_FIELDS = ("title", "author", "subject")


class QueryError(ValueError):
    """A query that cannot be run, with a sentence a searcher can act on."""


@dataclass(frozen=True, slots=True)
class Text:
    """Words to find in the record's text; several words are a phrase; ``field`` limits where."""

    words: tuple[str, ...]
    field: str | None = None  # None (anywhere) | title | author | subject
    prefix: bool = False  # the last word is a prefix ("ålgr*")


@dataclass(frozen=True, slots=True)
class Value:
    """An exact value among a record's keys: ``id`` (scheme:value), ``orcid``, ``subject`` code."""

    facet: str
    value: str


@dataclass(frozen=True, slots=True)
class YearRange:
    low: int | None
    high: int | None


@dataclass(frozen=True, slots=True)
class And:
    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Or:
    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Not:
    item: Node


@dataclass(frozen=True, slots=True)
class MatchAll:
    pass


Node = Text | Value | YearRange | And | Or | Not | MatchAll


def fold(text: str) -> str:
    """Lower case without diacritics: how every backend compares words (å, ä -> a; ö -> o)."""
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


# --- identifiers typed into the box -------------------------------------------------------------

_DOI_LIKE = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi:)?10\.\d{4,9}/\S+$", re.IGNORECASE)
_ORCID_LIKE = re.compile(r"^(?:https?://(?:www\.)?orcid\.org/)?\d{4}-\d{4}-\d{4}-\d{3}[\dXx]$")
_URN_LIKE = re.compile(r"^urn:nbn:", re.IGNORECASE)
_ISBN_LIKE = re.compile(r"^(?:97[89][\d-]{10,14}|\d[\d-]{8,11}[\dXx])$")
_ISSN_LIKE = re.compile(r"^\d{4}-\d{3}[\dXx]$")


def isbn_key(value: str) -> str:
    """The compact ISBN-13 of an ISBN-10 or -13, so both forms of a book find each other."""
    return stdnum_isbn.compact(stdnum_isbn.to_isbn13(stdnum_isbn.validate(value)))


def identifier_key(scheme: str, value: str) -> str:
    """The ``scheme:value`` key a record's identifier is indexed and looked up under.

    Raises ValueError (with the normaliser's sentence) when ``value`` is not of ``scheme``.
    """
    if scheme == "isbn":
        try:
            return f"isbn:{isbn_key(value)}"
        except Exception:  # python-stdnum raises several ValidationError subclasses
            raise ValueError(f"{value!r} is not a valid ISBN: it needs 10 or 13 digits with a correct "
                             "check digit") from None
    if scheme in ("issn", "eissn"):
        return f"issn:{identifiers.normalise_issn(value)}"
    if scheme == "urn":
        return f"urn:{value.strip().lower()}"
    return f"{scheme}:{identifiers.normalise_identifier(scheme, value)}"


def _as_identifier(token: str) -> Node | None:
    """The lookup a bare token stands for, when it is a DOI, ORCID, URN:NBN, ISBN or ISSN."""
    candidates: list[tuple[str, re.Pattern[str]]] = [
        ("doi", _DOI_LIKE), ("orcid", _ORCID_LIKE), ("urn", _URN_LIKE), ("isbn", _ISBN_LIKE), ("issn", _ISSN_LIKE)]
    for scheme, pattern in candidates:
        if pattern.match(token):
            try:
                key = identifier_key(scheme, token)
            except ValueError:
                continue
            if scheme == "orcid":
                return Value("orcid", key.removeprefix("orcid:"))
            return Value("id", key)
    return None


# --- tokens ---------------------------------------------------------------------------------------

_TOKEN = re.compile(r'\s*(?:(?P<open>\()|(?P<close>\))|"(?P<phrase>[^"]*)(?:"|$)|(?P<bare>[^\s()"]+))')


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # open | close | phrase | bare
    text: str


def _tokens(query: str) -> list[_Token]:
    out: list[_Token] = []
    pos = 0
    while pos < len(query):
        m = _TOKEN.match(query, pos)
        if m is None or m.end() == pos:
            break
        pos = m.end()
        kind = m.lastgroup or "bare"
        out.append(_Token(kind, m.group(kind) or ""))
    return out


class _Parser:
    """Recursive descent over: or := and ('OR' and)*; and := unary+; unary := ('NOT'|'-')? atom."""

    def __init__(self, tokens: list[_Token]) -> None:
        self.tokens = tokens
        self.pos = 0
        self.clauses = 0

    def peek(self) -> _Token | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> _Token:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def parse(self) -> Node:
        items: list[Node] = []
        while self.peek() is not None:
            if self.peek().kind == "close":  # type: ignore[union-attr]
                self.take()  # a stray closing parenthesis: ignore it
                continue
            node = self.parse_or()
            if node is not None:
                items.append(node)
        return _simplify(And(tuple(items)))

    def parse_or(self) -> Node | None:
        branches = [self.parse_and()]
        while (t := self.peek()) is not None and t.kind == "bare" and t.text in ("OR", "||"):
            self.take()
            branches.append(self.parse_and())
        kept = [b for b in branches if b is not None]
        if not kept:
            return None
        return kept[0] if len(kept) == 1 else Or(tuple(kept))

    def parse_and(self) -> Node | None:
        items: list[Node] = []
        while (t := self.peek()) is not None and t.kind != "close":
            if t.kind == "bare" and t.text in ("OR", "||"):
                if not items:
                    self.take()  # "OR" with nothing before it: a separator
                    continue
                break
            if t.kind == "bare" and t.text in ("AND", "&&", "+"):
                self.take()
                continue
            node = self.parse_unary()
            if node is not None:
                items.append(node)
        if not items:
            return None
        return items[0] if len(items) == 1 else And(tuple(items))

    def parse_unary(self) -> Node | None:
        t = self.peek()
        assert t is not None
        negate = False
        if t.kind == "bare" and t.text in ("NOT", "!"):
            self.take()
            negate = True
        elif t.kind == "bare" and t.text.startswith("-"):
            self.take()
            if len(t.text) > 1:
                self.tokens.insert(self.pos, _Token("bare", t.text[1:]))
            negate = True
        if self.peek() is None or self.peek().kind == "close":  # type: ignore[union-attr]
            return None
        node = self.parse_atom()
        if node is None:
            return None
        return Not(node) if negate else node

    def parse_atom(self) -> Node | None:
        t = self.take()
        self.clauses += 1
        if self.clauses > MAX_CLAUSES:
            raise QueryError(f"the query has more than {MAX_CLAUSES} terms; shorten it or use the filters")
        if t.kind == "open":
            inner = self.parse_or()
            if (c := self.peek()) is not None and c.kind == "close":
                self.take()
            return inner  # an unclosed parenthesis closes at the end
        if t.kind == "phrase":
            return _text(t.text, None)
        text = t.text.lstrip("+")
        ident = _as_identifier(text)  # before fields: a URN:NBN starts like the field "urn:"
        if ident is not None:
            return ident
        field, sep, rest = text.partition(":")
        if sep and field.lower() in _FIELDS:
            return self.fielded(field.lower(), rest)
        return _bare(text)

    def fielded(self, field: str, rest: str) -> Node | None:
        """``field:value``, ``field:"a phrase"`` or ``field:(a b)``: the value may be the next token."""
        if not rest and (t := self.peek()) is not None and t.kind in ("phrase", "open"):
            if t.kind == "phrase":
                self.take()
                return _field(field, t.text, phrase=True)
            self.take()
            inner = self.parse_or()
            if (c := self.peek()) is not None and c.kind == "close":
                self.take()
            return _restrict(inner, field) if inner is not None else None
        if not rest:
            return None
        return _field(field, rest, phrase=False)


def _text(text: str, field: str | None) -> Node | None:
    prefix = text.rstrip().endswith("*")
    words = tuple(WORD.findall(text))
    if not words:
        return None
    return Text(words, field, prefix)


def _bare(token: str) -> Node | None:
    ident = _as_identifier(token)
    if ident is not None:
        return ident
    return _text(token, None)


def _restrict(node: Node, field: str) -> Node | None:
    """Apply a field to every text leaf of a parenthesised group (``title:(a OR b)``)."""
    if isinstance(node, Text):
        return _field(field, " ".join(node.words) + ("*" if node.prefix else ""), phrase=len(node.words) > 1)
    if isinstance(node, And):
        items = tuple(n for n in (_restrict(i, field) for i in node.items) if n is not None)
        return And(items) if items else None
    if isinstance(node, Or):
        items = tuple(n for n in (_restrict(i, field) for i in node.items) if n is not None)
        return Or(items) if items else None
    if isinstance(node, Not):
        inner = _restrict(node.item, field)
        return Not(inner) if inner is not None else None
    return node


def _field(field: str, value: str, *, phrase: bool) -> Node | None:
    value = value.strip()
    if field in TEXT_FIELDS:
        if field == "author" and _ORCID_LIKE.match(value):
            return _field("orcid", value, phrase=phrase)
        if field == "subject" and value.isdigit():
            if len(value) not in (1, 3, 5):
                raise QueryError(f"subject:{value} is not a research subject code: SSIF codes have 1, 3 or 5 digits")
            return Value("subject", value)
        return _text(value, field)
    if field == "year":
        return _year(value)
    if field == "orcid":
        try:
            return Value("orcid", identifiers.normalise_orcid(value))
        except ValueError as exc:
            raise QueryError(f"orcid: {exc}") from None
    if field == "id":
        ident = _as_identifier(value)
        if ident is None:
            raise QueryError(f"id:{value} is not a DOI, ISBN, ISSN, ORCID iD or URN:NBN")
        return ident
    try:
        return Value("id", identifier_key(field, value))
    except ValueError as exc:
        raise QueryError(f"{field}: {exc}") from None


_YEAR = re.compile(r"^(\d{4})?(?:(\.\.|-)(\d{4})?)?$")


def _year(value: str) -> Node:
    m = _YEAR.match(value)
    if not value or m is None or (m.group(1) is None and m.group(3) is None):
        raise QueryError(f"year:{value} is not a year or a range: write year:2019 or year:2019..2021 "
                         "(year:2019.. and year:..2021 leave one end open)")
    low = int(m.group(1)) if m.group(1) else None
    high = int(m.group(3)) if m.group(3) else (low if m.group(2) is None else None)
    for y in (low, high):
        if y is not None and not YEAR_MIN <= y <= YEAR_MAX:
            raise QueryError(f"year:{value}: years run from {YEAR_MIN} to {YEAR_MAX}")
    if low is not None and high is not None and low > high:
        raise QueryError(f"year:{value}: the range starts after it ends")
    return YearRange(low, high)


def _simplify(node: Node) -> Node:
    """Flatten nested ANDs/ORs, drop empty groups; an empty query matches everything."""
    if isinstance(node, (And, Or)):
        kind = type(node)
        items: list[Node] = []
        for item in node.items:
            simple = _simplify(item)
            if isinstance(simple, MatchAll):
                if kind is Or:
                    return MatchAll()
                continue
            items.extend(simple.items if isinstance(simple, kind) else (simple,))
        if not items:
            return MatchAll()
        return items[0] if len(items) == 1 else kind(tuple(items))
    if isinstance(node, Not):
        inner = _simplify(node.item)
        if isinstance(inner, Not):
            return inner.item
        return Not(inner)
    return node


def parse(query: str) -> Node:
    """The tree of a query typed into the search box (empty or ``*`` match everything)."""
    if len(query) > MAX_QUERY_LENGTH:
        raise QueryError(f"the query is {len(query):,} characters long; the limit is {MAX_QUERY_LENGTH:,}")
    query = "".join(c if c.isprintable() else " " for c in query)
    return _Parser(_tokens(query)).parse()


def positive_text(node: Node) -> list[Text]:
    """The text leaves a match must contain somewhere (for highlighting), outside any NOT."""
    if isinstance(node, Text):
        return [node]
    if isinstance(node, (And, Or)):
        return [t for item in node.items for t in positive_text(item)]
    return []


def is_identifier_lookup(node: Node) -> bool:
    """Whether the whole query is one identifier, so a single hit can open the record itself."""
    return isinstance(node, Value) and node.facet in ("id",)
