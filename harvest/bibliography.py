"""The national bibliography's search: what a merged work is filtered, faceted, sorted and matched on, and the SQL.

Why not the repository's search service: its backends (SQLite FTS5, PostgreSQL full text,
OpenSearch) index the repository's own ``search_documents`` keyed by publication id and are kept
in step by a hook on the repository's session; works are another table, rewritten by dedup in
the harvest's own transactions, and the harvester's core may not import ``repository/``. Reusing
the service would mean a second document table, a second index hook and backend subclasses for
it. Works need less: exact facet values and words in titles and names. So each work carries a
year, a type, a sort title and a folded search text, plus one ``harvest_work_facets`` row per
facet value; a search is one keyset-paged query (``year, id`` or ``sort_title, id`` indexes) and
one GROUP BY over the facet rows of its hits. Words are matched as word prefixes in the folded
text, which stays fast to a few hundred thousand works; a national installation with millions
would point an OpenSearch index at the same facet rows.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, select, true
from sqlalchemy.orm import Session

from exports.readmodel import CONTENT_TYPES, PUBLICATION_TYPES
from harvest.folding import normalise_text
from harvest.models import Work, WorkFacet

FACETS: tuple[str, ...] = ("institution", "year", "type", "content", "subject", "oa", "language")
SORTS: tuple[str, ...] = ("newest", "oldest", "title")
MAX_PAGE_SIZE = 200
MAX_WORDS = 10
FACET_LIMIT = {"year": 100, "subject": 60, "institution": 200}
DEFAULT_FACET_LIMIT = 30
SORT_TITLE_LENGTH = 255


class BibliographyQueryError(ValueError):
    """A search the bibliography refuses; the message names the parameter and what it takes."""


# -- what a work is searched by ----------------------------------------------------------------------

def _title_text(merged: Mapping[str, Any]) -> str:
    titles = merged.get("titles") or []
    main = next((t for t in titles if t.get("kind", "main") == "main"), titles[0] if titles else {})
    return " ".join(p for p in (main.get("title"), main.get("subtitle")) if p)


def facet_values(merged: Mapping[str, Any], institutions: Iterable[str], open_access: bool) -> list[tuple[str, str]]:
    """The (facet, value) pairs of a merged work; SSIF subjects count at each of their levels (1, 3, 5 digits)."""
    pairs = {("institution", inst) for inst in institutions if inst}
    year = (merged.get("issued") or "")[:4]
    if year.isdigit():
        pairs.add(("year", year))
    if merged.get("publication_type"):
        pairs.add(("type", merged["publication_type"]))
    if merged.get("content_type"):
        pairs.add(("content", merged["content_type"]))
    for subject in merged.get("subjects") or []:
        code = subject.get("code", "")
        if code.isdigit() and len(code) in (1, 3, 5):
            pairs.update(("subject", code[:n]) for n in (1, 3, 5) if n <= len(code))
    pairs.update(("language", code) for code in merged.get("languages") or [] if code)
    pairs.add(("oa", "true" if open_access else "false"))
    return sorted((facet, value[:100]) for facet, value in pairs)


def work_columns(merged: Mapping[str, Any]) -> dict[str, Any]:
    """The sort and match columns of a work: year (0 when unknown), type, sort title, folded search text."""
    year = (merged.get("issued") or "")[:4]
    title = _title_text(merged)
    people = [" ".join(p for p in (c.get("given"), c.get("family"), c.get("corporate_name")) if p)
              for c in merged.get("contributors") or []]
    host = (merged.get("host") or {}).get("title", "")
    words = [title, *(t.get("title", "") for t in merged.get("titles") or []), *people, host,
             *(i.get("value", "") for i in merged.get("identifiers") or []),
             *(k.get("term", "") for k in merged.get("keywords") or [])]
    return {"year": int(year) if year.isdigit() else 0, "publication_type": merged.get("publication_type"),
            "sort_title": normalise_text(title)[:SORT_TITLE_LENGTH],
            "search_text": f" {normalise_text(' '.join(w for w in words if w))} "}


# -- the query ----------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class WorkQuery:
    """A validated search: words, facet filters (values of one facet OR-ed, facets AND-ed), a sort, a page."""

    words: tuple[str, ...] = ()
    filters: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    sort: str = "newest"
    size: int = 20
    after: tuple[Any, int] | None = None  # the sort value and id of the last work on the previous page


@dataclass(frozen=True, slots=True)
class FacetCount:
    value: str
    count: int


@dataclass
class WorkPage:
    total: int
    works: list[Work]
    facets: dict[str, list[FacetCount]]
    next_cursor: str | None


def _check_value(name: str, value: str) -> str:
    value = value.strip()
    ok = {
        "year": value.isdigit() and len(value) == 4,
        "type": value in PUBLICATION_TYPES,
        "content": value in CONTENT_TYPES,
        "subject": value.isdigit() and len(value) in (1, 3, 5),
        "oa": value in ("true", "false"),
        "language": value.isalpha() and len(value) == 3,
        "institution": 0 < len(value) <= 100,
    }[name]
    if not ok:
        hints = {"year": "a year has four digits", "type": f"one of {', '.join(PUBLICATION_TYPES)}",
                 "content": f"one of {', '.join(CONTENT_TYPES)}", "subject": "an SSIF code of 1, 3 or 5 digits",
                 "oa": "true or false", "language": "a three-letter code such as swe",
                 "institution": "an organisation code such as kth"}
        raise BibliographyQueryError(f"{name}={value!r}: {hints[name]}")
    return value.lower() if name == "language" else value


def encode_cursor(sort: str, value: Any, work_id: int) -> str:
    raw = json.dumps([sort, value, work_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(sort: str, cursor: str) -> tuple[Any, int]:
    try:
        kind, value, work_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, TypeError):
        raise BibliographyQueryError("the page cursor is not one this search handed out; start from the first "
                                     "page") from None
    expected = str if sort == "title" else int
    if kind != sort or not isinstance(work_id, int) or not isinstance(value, expected):
        raise BibliographyQueryError("the page cursor belongs to another sort order; start from the first page")
    return value, work_id


def make_query(q: str = "", filters: Mapping[str, Sequence[str]] | None = None, *, sort: str | None = None,
               size: int = 20, cursor: str | None = None) -> WorkQuery:
    """Validate a request's parameters; each mistake is a BibliographyQueryError naming the parameter."""
    words = tuple(dict.fromkeys(w for w in normalise_text(q or "").split() if w))
    if len(words) > MAX_WORDS:
        raise BibliographyQueryError(f"q: at most {MAX_WORDS} words, please")
    checked: dict[str, tuple[str, ...]] = {}
    for name, values in (filters or {}).items():
        if name not in FACETS:
            raise BibliographyQueryError(f"unknown filter {name!r}; filters are {', '.join(FACETS)}")
        kept = tuple(dict.fromkeys(_check_value(name, v) for v in values if v and v.strip()))
        if kept:
            checked[name] = kept
    sort = sort or "newest"
    if sort not in SORTS:
        raise BibliographyQueryError(f"unknown sort {sort!r}; sorts are {', '.join(SORTS)}")
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise BibliographyQueryError(f"size must be between 1 and {MAX_PAGE_SIZE}")
    return WorkQuery(words, checked, sort, size, decode_cursor(sort, cursor) if cursor else None)


def _escape_like(word: str) -> str:
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _where(query: WorkQuery) -> ColumnElement[bool]:
    # The search text is folded words between spaces: " word" finds words that start with it.
    parts: list[ColumnElement[bool]] = [Work.search_text.like(f"% {_escape_like(w)}%", escape="\\")
                                        for w in query.words]
    for name, values in query.filters.items():
        parts.append(Work.id.in_(select(WorkFacet.work_id).where(WorkFacet.facet == name,
                                                                 WorkFacet.value.in_(values))))
    return and_(true(), *parts)


def _ordered(stmt: Select[Any], query: WorkQuery) -> Select[Any]:
    if query.sort == "title":
        key, descending = Work.sort_title, False
    else:
        key, descending = Work.year, query.sort == "newest"
    if query.after is not None:
        value, work_id = query.after
        stmt = stmt.where((key < value) | ((key == value) & (Work.id < work_id)) if descending
                          else (key > value) | ((key == value) & (Work.id > work_id)))
    order = (key.desc(), Work.id.desc()) if descending else (key.asc(), Work.id.asc())
    return stmt.order_by(*order).limit(query.size)


def search(session: Session, query: WorkQuery, *, facets: bool = True) -> WorkPage:
    """One page of works (two statements, three with facets) and the facet counts of every hit."""
    where = _where(query)
    works = list(session.scalars(_ordered(select(Work).where(where), query)))
    total = session.scalar(select(func.count()).select_from(Work).where(where)) or 0
    counts: dict[str, list[FacetCount]] = {}
    if facets and total:
        hits = select(Work.id).where(where)
        rows = session.execute(select(WorkFacet.facet, WorkFacet.value, func.count())
                               .where(WorkFacet.work_id.in_(hits)).group_by(WorkFacet.facet, WorkFacet.value))
        grouped: dict[str, dict[str, int]] = {}
        for facet, value, n in rows:
            grouped.setdefault(facet, {})[value] = n
        counts = {name: _facet_order(name, grouped[name]) for name in FACETS if name in grouped}
    next_cursor = None
    if len(works) == query.size:
        last = works[-1]
        next_cursor = encode_cursor(query.sort, last.sort_title if query.sort == "title" else last.year, last.id)
    return WorkPage(total, works, counts, next_cursor)


def _facet_order(name: str, counts: dict[str, int]) -> list[FacetCount]:
    """Years newest first, subjects by code, everything else most frequent first (ties by value)."""
    if name == "year":
        items = sorted(counts.items(), reverse=True)
    elif name == "subject":
        items = sorted(counts.items())
    else:
        items = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return [FacetCount(v, n) for v, n in items[:FACET_LIMIT.get(name, DEFAULT_FACET_LIMIT)]]


def where(query: WorkQuery) -> ColumnElement[bool]:
    """The query's condition on works, for whole-result exports (which page by id on their own)."""
    return _where(query)
