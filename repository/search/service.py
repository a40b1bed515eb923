"""The search service's contract: requests, results, facets, sorts and cursors, whatever the backend.

The web pages, the JSON API, the Atom feed and the harvester's national bibliography all ask
in these terms; a backend (SQLite FTS5, PostgreSQL full text, OpenSearch) only turns a ``Plan``
into hits and counts.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from exports.readmodel import CONTENT_TYPES, PUBLICATION_TYPES, THESIS_LEVELS
from repository.search.query import MatchAll, Node, QueryError, parse

SORTS: tuple[str, ...] = ("relevance", "newest", "oldest", "title", "added")
# Facets in the order the search page shows them; ``oa`` is a yes/no count.
FACETS: tuple[str, ...] = ("type", "content", "year", "unit", "subject", "language", "oa", "level")
SCALAR_FACETS = {"type": "publication_type", "content": "content_type", "year": "year", "level": "thesis_level"}
VALUE_FACETS = ("unit", "subject", "language", "person")
FILTERS: tuple[str, ...] = FACETS + ("person",)
MAX_PAGE_SIZE = 200
MAX_OFFSET = 10_000  # relevance pages go this deep; field sorts page with cursors without limit
FACET_SIZE = {"year": 200, "unit": 500, "subject": 1000}
DEFAULT_FACET_SIZE = 100

_UNIT = re.compile(r"^[a-z0-9][a-z0-9_\-]*(?::[a-z0-9_\-]+)*$", re.IGNORECASE)


class Backend(Protocol):
    name: str

    def search(self, plan: Plan) -> SearchResult:
        """One page of hits (ids in order), the total and, if asked, the facet counts."""

    def id_query(self, plan: Plan) -> Any:
        """Every hit's id: a subquery (embedded) or a list (external), for whole-set exports."""


@dataclass(frozen=True, slots=True)
class Plan:
    """A validated request, ready for a backend."""

    node: Node
    filters: dict[str, tuple[str, ...]]
    sort: str
    size: int
    offset: int
    after: tuple[Any, int] | None  # the sort value and id of the last hit on the previous page
    facets: bool
    now: dt.datetime

    @property
    def today(self) -> dt.date:
        return self.now.date()

    @property
    def ranked(self) -> bool:
        return self.sort == "relevance"


@dataclass(frozen=True, slots=True)
class FacetCount:
    value: str
    count: int


@dataclass
class SearchResult:
    total: int
    ids: list[int]
    facets: dict[str, list[FacetCount]] = field(default_factory=dict)
    next_cursor: str | None = None
    sort_values: list[tuple[Any, int]] = field(default_factory=list)


def _bad(name: str, value: str, why: str) -> QueryError:
    return QueryError(f"{name}={value!r}: {why}")


def _check_filter(name: str, value: str) -> str:
    value = value.strip()
    if name == "type" and value not in PUBLICATION_TYPES:
        raise _bad(name, value, f"not a publication type (one of {', '.join(PUBLICATION_TYPES)})")
    if name == "content" and value not in CONTENT_TYPES:
        raise _bad(name, value, f"not a content type (one of {', '.join(CONTENT_TYPES)})")
    if name == "level" and value not in THESIS_LEVELS:
        raise _bad(name, value, f"not a thesis level (one of {', '.join(THESIS_LEVELS)})")
    if name == "year" and not (value.isdigit() and len(value) == 4):
        raise _bad(name, value, "a year has four digits")
    if name == "subject" and not (value.isdigit() and len(value) in (1, 3, 5)):
        raise _bad(name, value, "a research subject code has 1, 3 or 5 digits")
    if name == "language" and not (value.isalpha() and len(value) == 3):
        raise _bad(name, value, "a language is a three-letter ISO 639-2 code such as swe or eng")
    if name == "unit" and not (_UNIT.match(value) and len(value) <= 500):
        raise _bad(name, value, "an organisation unit is a path of codes such as uu:teknat:kemi")
    if name == "person" and not value.isdigit():
        raise _bad(name, value, "a person is given by number")
    if name == "oa" and value not in ("true", "false"):
        raise _bad(name, value, "open access is true or false")
    return value.lower() if name in ("language", "unit") else value


def encode_cursor(sort: str, value: Any, publication_id: int) -> str:
    if isinstance(value, dt.datetime):
        value = value.isoformat()
    raw = json.dumps([sort, value, publication_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(sort: str, cursor: str) -> tuple[Any, int]:
    """The position a cursor names; a cursor from another sort or a mangled one is refused."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        kind, value, publication_id = json.loads(raw)
    except (binascii.Error, ValueError, TypeError):
        raise QueryError("the page cursor is not one this search handed out; start again from the first page") from None
    if kind != sort or not isinstance(publication_id, int):
        raise QueryError("the page cursor belongs to another sort order; start again from the first page")
    if sort == "added":
        try:
            value = dt.datetime.fromisoformat(value)
        except (TypeError, ValueError):
            raise QueryError("the page cursor is damaged; start again from the first page") from None
    elif sort in ("newest", "oldest") and not isinstance(value, int):
        raise QueryError("the page cursor is damaged; start again from the first page")
    elif sort == "title" and not isinstance(value, str):
        raise QueryError("the page cursor is damaged; start again from the first page")
    return value, publication_id


def plan(q: str = "", filters: Mapping[str, Any] | None = None, *, sort: str | None = None, size: int = 20,
         page: int = 1, cursor: str | None = None, facets: bool = True, now: dt.datetime | None = None) -> Plan:
    """Validate a request; every mistake raises ``QueryError`` naming the parameter."""
    node = parse(q or "")
    checked: dict[str, tuple[str, ...]] = {}
    for name, raw in (filters or {}).items():
        if name not in FILTERS:
            raise QueryError(f"unknown filter {name!r}; filters are {', '.join(FILTERS)}")
        values = (raw,) if isinstance(raw, str) else tuple(raw)
        kept = tuple(dict.fromkeys(_check_filter(name, v) for v in values if v and v.strip()))
        if kept:
            checked[name] = kept
    sort = sort or ("relevance" if not isinstance(node, MatchAll) else "newest")
    if sort not in SORTS:
        raise QueryError(f"unknown sort {sort!r}; sorts are {', '.join(SORTS)}")
    if sort == "relevance" and isinstance(node, MatchAll):
        sort = "newest"  # nothing to rank by: the newest first, as DiVA lists
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise QueryError(f"size must be between 1 and {MAX_PAGE_SIZE}")
    if page < 1:
        raise QueryError("page numbers start at 1")
    after = None
    offset = 0
    if cursor:
        if sort == "relevance":
            raise QueryError("relevance-ranked results page by number (page=2); cursors serve the other sorts")
        after = decode_cursor(sort, cursor)
    else:
        offset = (page - 1) * size
        if offset + size > MAX_OFFSET:
            raise QueryError(f"results go {MAX_OFFSET:,} deep by page number; sort by date or title to page "
                             "further (those pages have a 'next' link that goes to the end)")
    return Plan(node, checked, sort, size, offset, after, facets,
                now or dt.datetime.now(dt.timezone.utc))


def sort_value(sort: str, row: Mapping[str, Any]) -> Any:
    """The value of a hit that its cursor remembers for ``sort``."""
    return {"newest": row.get("sort_date"), "oldest": row.get("sort_date"), "title": row.get("sort_title"),
            "added": row.get("published_at")}.get(sort)


def finish(plan_: Plan, total: int, rows: list[tuple[int, Any]], facets: dict[str, list[FacetCount]]) -> SearchResult:
    """A result whose ``next_cursor`` continues after the last row (for field sorts)."""
    next_cursor = None
    if rows and plan_.sort != "relevance" and len(rows) == plan_.size:
        pid, value = rows[-1]
        next_cursor = encode_cursor(plan_.sort, value, pid)
    return SearchResult(total, [pid for pid, _ in rows], facets, next_cursor)


def facet_order(name: str, counts: dict[str, int]) -> list[FacetCount]:
    """Years newest first, everything else most frequent first (ties by value, for stable pages)."""
    if name == "year":
        items = sorted(counts.items(), key=lambda kv: kv[0], reverse=True)
    else:
        items = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return [FacetCount(v, c) for v, c in items[:FACET_SIZE.get(name, DEFAULT_FACET_SIZE)] if c > 0]
