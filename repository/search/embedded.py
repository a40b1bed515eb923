"""What the two embedded backends share: filters, facet counts and keyset pages over ``search_documents``.

A backend subclass supplies only the full-text part: how a text tree becomes an FTS5 MATCH or
a tsquery, and how hits are ranked. Up to ``facet_bits.MAX_DOCUMENTS`` records, hits become a
bitset (words from the full-text index, everything else from the facet bitsets), facets are
popcounts, and a page is the backend's best hits or the first hits in the bitsets' sort orders;
beyond that, or for conditions the bitsets do not hold (identifiers, ORCIDs, people), plain SQL
answers: keyset pages, and facets in one statement over a materialised set of hits.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

import numpy as np
from sqlalchemy import (
    ColumnElement, FromClause, Select, String, and_, case, cast, func, literal, not_, or_, select,
    true, tuple_, union_all,
)
from sqlalchemy.orm import Session

from repository.models import SearchDocument, SearchValue
from repository.search import facet_bits
from repository.search.query import And, MatchAll, Node, Not, Or, Text, Value, YearRange
from repository.search.service import (
    FACETS, SCALAR_FACETS, FacetCount, Plan, SearchResult, facet_order, finish, sort_value,
)

DOCS = SearchDocument.__table__
VALUES = SearchValue.__table__
TOTAL = "_total"
DENSE = 50  # hits at least one record in this many: a page reads the sort order from its start
SORT_COLUMNS = (DOCS.c.sort_date, DOCS.c.sort_title, DOCS.c.published_at)  # what a cursor remembers (sort_value)
BITSET_FILTERS = (*SCALAR_FACETS, *facet_bits.MANY_VALUED, "oa")


def is_text(node: Node) -> bool:
    """Whether a subtree is made of words only (so one full-text expression can answer it)."""
    if isinstance(node, Text):
        return True
    if isinstance(node, (And, Or)):
        return all(is_text(i) for i in node.items)
    if isinstance(node, Not):
        return is_text(node.item)
    return False


class EmbeddedBackend(ABC):
    """Search over ``search_documents`` in the application's own database."""

    name = "embedded"

    def __init__(self, session: Session) -> None:
        self.session = session

    # -- the dialect's part -----------------------------------------------------------------------

    @abstractmethod
    def text_match(self, node: Node) -> ColumnElement[bool]:
        """A predicate on DOCS for a text-only subtree."""

    @abstractmethod
    def ranked_source(self, node: Node) -> tuple[FromClause, ColumnElement[bool], ColumnElement[Any]] | None:
        """(FROM, WHERE, score: lower is better) for a text-only subtree; None if it cannot rank it."""

    def title_order(self) -> ColumnElement[Any]:
        return DOCS.c.sort_title

    # -- shared SQL -------------------------------------------------------------------------------

    def predicate(self, node: Node) -> ColumnElement[bool]:
        if isinstance(node, MatchAll):
            return true()
        if is_text(node):
            return self.text_match(node)
        if isinstance(node, Value):
            return DOCS.c.publication_id.in_(
                select(VALUES.c.publication_id).where(VALUES.c.facet == node.facet, VALUES.c.value == node.value))
        if isinstance(node, YearRange):
            parts = []
            if node.low is not None:
                parts.append(DOCS.c.year >= node.low)
            if node.high is not None:
                parts.append(DOCS.c.year <= node.high)
            return and_(*parts)
        if isinstance(node, And):
            return and_(*(self.predicate(i) for i in node.items))
        if isinstance(node, Or):
            return or_(*(self.predicate(i) for i in node.items))
        if isinstance(node, Not):
            return not_(self.predicate(node.item))
        raise TypeError(f"unknown query node {node!r}")

    def filter_clauses(self, plan: Plan) -> list[ColumnElement[bool]]:
        clauses: list[ColumnElement[bool]] = [
            or_(DOCS.c.public_from.is_(None), DOCS.c.public_from <= plan.now)]
        for name, values in plan.filters.items():
            if name in SCALAR_FACETS:
                column = DOCS.c[SCALAR_FACETS[name]]
                clauses.append(column.in_([int(v) for v in values] if name == "year" else list(values)))
            elif name == "oa":
                is_open = and_(DOCS.c.open_from.is_not(None), DOCS.c.open_from <= plan.today)
                clauses.append(is_open if values == ("true",) else not_(is_open) if values == ("false",) else true())
            else:
                for value in values:  # every chosen value must hold: drilling down narrows
                    clauses.append(DOCS.c.publication_id.in_(
                        select(VALUES.c.publication_id).where(VALUES.c.facet == name, VALUES.c.value == value)))
        return clauses

    def _source(self, plan: Plan) -> tuple[FromClause, list[ColumnElement[bool]], ColumnElement[Any] | None]:
        """FROM, WHERE and (when ranked) the score of a plan."""
        items = plan.node.items if isinstance(plan.node, And) else (plan.node,)
        words = [i for i in items if isinstance(i, (Text, And, Or)) and is_text(i)]
        rest = [i for i in items if i not in words]
        ranked = self.ranked_source(And(tuple(words)) if len(words) > 1 else words[0]) if words else None
        clauses = self.filter_clauses(plan) + [self.predicate(i) for i in rest]
        if ranked is None:
            return DOCS, clauses + [self.predicate(i) for i in words], None
        source, match, score = ranked
        return source, [match, *clauses], score

    def id_query(self, plan: Plan) -> Select[Any]:
        """The ids of every hit, as a subquery (for exporting a whole result set)."""
        source, clauses, _ = self._source(plan)
        return select(DOCS.c.publication_id).select_from(source).where(and_(*clauses))

    def search(self, plan: Plan) -> SearchResult:
        source, clauses, score = self._source(plan)
        where = and_(*clauses)
        bits = facet_bits.current(self.session)
        hits = self._hit_bits(plan, bits, source, where) if bits is not None else None
        if bits is not None and hits is not None:
            rows = self._page_from_bits(plan, bits, hits)
            if rows is None:
                rows = self._page(plan, source, where, score)
            counts = bits.counts(hits, plan.today) if plan.facets else {}
            return finish(plan, facet_bits.count(hits), rows,
                          {name: facet_order(name, counts.get(name, {})) for name in FACETS} if plan.facets else {})
        rows = self._page(plan, source, where, score)
        if not plan.facets:
            total = self.session.execute(select(func.count()).select_from(source).where(where)).scalar_one()
            return finish(plan, total, rows, {})
        facets = self._facets(plan, source, where)
        total = facets.pop(TOTAL)[0].count if facets.get(TOTAL) else 0
        return finish(plan, total, rows, facets)

    @staticmethod
    def _words(plan: Plan) -> Node | None:
        """The top-level words of a query (what relevance ranks by), as one text subtree."""
        items = plan.node.items if isinstance(plan.node, And) else (plan.node,)
        words = [i for i in items if is_text(i)]
        return (And(tuple(words)) if len(words) > 1 else words[0]) if words else None

    def _page_from_bits(self, plan: Plan, bits: facet_bits.FacetBits, hits: facet_bits.Bits) -> list[tuple[int, Any]] | None:
        """A page of the hits bitset in the plan's order; None to let SQL sort instead.

        Relevance is the backend's (``best_ids``). A field sort uses the bitsets' ``orders``:
        common hits are read off the sorted ids from the start (or the cursor's place) until the
        page is full; rarer ones are sorted by their places. No index is walked, however the hits
        fall in the order (walking the title index for a page of a word in one record of nine
        read 20,000 rows and then asked SQL: 380 ms at 1,000,000 records).
        """
        want = plan.offset + plan.size
        if not hits.any():
            return []
        words = self._words(plan)
        if plan.sort == "relevance" and words is not None:
            best = self.best_ids(words, hits, want)
            return None if best is None else [(pid, None) for pid in best[plan.offset:want]]
        return self._sorted_page(plan, bits, hits, want)

    def _sorted_page(self, plan: Plan, bits: facet_bits.FacetBits, hits: facet_bits.Bits,
                     want: int) -> list[tuple[int, Any]] | None:
        sort = "newest" if plan.sort == "relevance" else plan.sort
        sequence, places = bits.orders[{"newest": "date", "oldest": "date", "title": "title", "added": "added"}[sort]]
        descending = sort in ("newest", "added")
        start = 0
        if plan.after is not None:
            after = self._place_of(plan, places)
            if after is None:
                return None
            start = len(sequence) - after if descending else after + 1
        order = sequence[::-1] if descending else sequence
        total = facet_bits.count(hits)
        if total * DENSE >= bits.documents:  # read the order from the start, keeping hits
            page: list[int] = []
            chunk = want * bits.documents // max(total, 1) + want
            while len(page) < want and start < len(order):
                ids = order[start:start + chunk]
                page += [int(i) for i in ids[facet_bits.contains(hits, ids)]]
                start, chunk = start + chunk, chunk * 2
            page = page[plan.offset:want]
        else:  # sort the hits' places
            ids = facet_bits.ids_of(hits)
            ranks = places[ids]
            if descending:
                ranks = len(sequence) - 1 - ranks
            keep = ranks >= start
            ids, ranks = ids[keep], ranks[keep]
            if len(ranks) > want:
                first = np.argpartition(ranks, want - 1)[:want]
                ids, ranks = ids[first], ranks[first]
            page = [int(i) for i in ids[np.argsort(ranks)][plan.offset:want]]
        rows = {r.publication_id: r for r in self.session.execute(
            select(DOCS.c.publication_id, *SORT_COLUMNS)
            .where(DOCS.c.publication_id.in_(page)))}
        if len(rows) < len(page):  # the index changed under the bitsets (another generation)
            return None
        return [(pid, sort_value(sort, rows[pid]._mapping)) for pid in page]

    def _place_of(self, plan: Plan, places: np.ndarray) -> int | None:
        """The place a cursor's record holds in the order, if it still sorts where the cursor
        says (a record changed since the cursor was made is left to SQL's keyset)."""
        assert plan.after is not None
        value, pid = plan.after
        if not 0 <= pid < len(places) or places[pid] < 0:
            return None
        row = self.session.execute(select(*SORT_COLUMNS)
                                   .where(DOCS.c.publication_id == pid)).first()
        if row is None or sort_value(plan.sort, row._mapping) != value:
            return None
        return int(places[pid])

    def raw_ids(self, sql: str, params: tuple[Any, ...]) -> list[int]:
        """The first column of a query, through the driver's own cursor in the session's transaction.

        For id lists tens of thousands long, SQLAlchemy's per-row result processing costs several
        times what the database spends finding them.
        """
        cursor = self.session.connection().connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(sql, params)
            return [row[0] for row in cursor.fetchall()]
        finally:
            cursor.close()

    def best_ids(self, words: Node, hits: facet_bits.Bits, want: int) -> list[int] | None:
        """The ``want`` best hits for the words, best first; None to let SQL rank instead.

        The ranking is read a chunk at a time and kept where the hits bitset says, until the page
        is full (FTS5 ranks without joining the documents, several times faster than SQL's sort).
        """
        limit: int | None = want * 4 + 50
        while True:
            ranked = self.ranked_ids(words, limit)
            if ranked is None:
                return None
            kept = [pid for pid, member in zip(ranked, facet_bits.contains(hits, ranked)) if member]
            if len(kept) >= want or limit is None or len(ranked) < limit:
                return kept[:want]
            limit = None

    def ranked_ids(self, node: Node, limit: int | None) -> list[int] | None:
        """Ids matching a text subtree, best first (ties: higher id first); None if it cannot rank them."""
        ranked = self.ranked_source(node)
        if ranked is None:
            return None
        source, match, score = ranked
        query = select(DOCS.c.publication_id).select_from(source).where(match).order_by(score, DOCS.c.publication_id.desc())
        return list(self.session.execute(query.limit(limit) if limit else query).scalars().all())

    def _hit_bits(self, plan: Plan, bits: facet_bits.FacetBits, source: FromClause,
                  where: ColumnElement[bool]) -> facet_bits.Bits | None:
        """The hits as a bitset; None if the bitsets cannot say (the caller then counts in SQL).

        Words come from the full-text index alone (FTS5's rowids, or PostgreSQL's search_words),
        and visibility, facet filters, year ranges and subject codes are ANDed as bitsets, so no hit
        is looked up row by row. Anything else (identifiers, ORCIDs, people) asks SQL for the ids.
        """
        items = plan.node.items if isinstance(plan.node, And) else (plan.node,)
        words = [i for i in items if is_text(i)]
        rest = [i for i in items if not is_text(i) and not isinstance(i, MatchAll)]
        rest_bits = [self._node_bits(bits, i) for i in rest]
        if not set(plan.filters) <= set(BITSET_FILTERS) or any(b is None for b in rest_bits):
            ids = self.session.execute(select(DOCS.c.publication_id).select_from(source).where(where)).scalars()
            return bits.hits(ids.all())
        hits = bits.visible(plan.now)
        if words:
            ids = self.text_ids(And(tuple(words)) if len(words) > 1 else words[0])
            found = bits.hits(ids) if ids is not None else None
            if found is None:
                return None
            hits &= found
        for node_bits in rest_bits:
            hits &= node_bits  # type: ignore[operator]
        for name, values in plan.filters.items():
            if name == "oa":
                is_open = bits.open_on(plan.today)
                if values == ("true",):
                    hits &= is_open
                elif values == ("false",):
                    hits &= ~is_open
            elif name in SCALAR_FACETS:  # one value each: the chosen values are alternatives
                hits &= bits.any_of(name, values)
            else:
                for value in values:
                    hits &= bits.any_of(name, (value,))
        return hits

    @staticmethod
    def _node_bits(bits: facet_bits.FacetBits, node: Node) -> facet_bits.Bits | None:
        if isinstance(node, YearRange):
            return bits.any_of("year", [year for year in bits.keys["year"]
                                        if (node.low is None or int(year) >= node.low)
                                        and (node.high is None or int(year) <= node.high)])
        if isinstance(node, Value) and node.facet == "subject":
            return bits.any_of("subject", (node.value,))
        return None

    def text_ids(self, node: Node) -> list[int] | np.ndarray | None:
        """The ids of every document whose words match a text subtree; None if not answerable alone."""
        return list(self.session.execute(select(DOCS.c.publication_id).where(self.text_match(node))).scalars().all())

    def _page(self, plan: Plan, source: FromClause, where: ColumnElement[bool],
              score: ColumnElement[Any] | None) -> list[tuple[int, Any]]:
        pid = DOCS.c.publication_id
        keys: dict[str, tuple[ColumnElement[Any], bool]] = {
            "newest": (DOCS.c.sort_date, True), "oldest": (DOCS.c.sort_date, False),
            "title": (self.title_order(), False), "added": (DOCS.c.published_at, True)}
        query = select(pid, *SORT_COLUMNS).select_from(source).where(where)
        if plan.sort == "relevance" and score is not None:
            query = query.order_by(score, pid.desc()).offset(plan.offset)
        else:
            column, descending = keys["newest" if plan.sort == "relevance" else plan.sort]
            if plan.after is not None:
                position = tuple_(column, pid)
                bound = tuple_(literal(plan.after[0], column.type), literal(plan.after[1]))
                query = query.where(position < bound if descending else position > bound)
            query = query.order_by(*((column.desc(), pid.desc()) if descending else (column.asc(), pid.asc())))
            query = query.offset(plan.offset)
        result = self.session.execute(query.limit(plan.size))
        return [(r.publication_id, sort_value(plan.sort, r._mapping)) for r in result]

    def _facets(self, plan: Plan, source: FromClause, where: ColumnElement[bool]) -> dict[str, list[FacetCount]]:
        hits = (select(DOCS.c.publication_id, DOCS.c.publication_type, DOCS.c.content_type, DOCS.c.year,
                       DOCS.c.thesis_level, DOCS.c.open_from)
                .select_from(source).where(where).cte("hits").prefix_with("MATERIALIZED"))
        # One statement, one evaluation of the hits: a GROUP BY over every single-valued facet at
        # once (a few hundred combinations, summed per facet below) and one over the many-valued
        # facets' keys, side by side in UNION ALL.
        is_open = case((and_(hits.c.open_from.is_not(None), hits.c.open_from <= plan.today), "true"), else_="")
        columns = [cast(hits.c[column], String) for column in SCALAR_FACETS.values()] + [is_open]
        combined = select(literal("scalar").label("part"), *(c.label(f"c{i}") for i, c in enumerate(columns)),
                          func.count().label("n")).select_from(hits).group_by(*columns)
        nothing = [cast(literal(None), String)] * (len(columns) - 2)
        keys = (select(literal("value"), VALUES.c.facet, VALUES.c.value, *nothing, func.count())
                .select_from(hits.join(VALUES, VALUES.c.publication_id == hits.c.publication_id))
                # "facet || ''" keeps the planner from walking every key of these facets in the
                # index and probing the hits for each: the hits lead, each finding its own keys.
                .where((VALUES.c.facet + "").in_(["unit", "subject", "language"]))
                .group_by(VALUES.c.facet, VALUES.c.value))
        counts: dict[str, dict[str, int]] = {name: {} for name in (*FACETS, TOTAL)}
        total = 0
        for part, *cells, n in self.session.execute(union_all(combined, keys)):
            n = int(n)
            if part == "value":
                counts[cells[0]][cells[1]] = n
                continue
            total += n
            for name, value in zip((*SCALAR_FACETS, "oa"), cells):
                if value:
                    counts[name][value] = counts[name].get(value, 0) + n
        counts[TOTAL][""] = total
        out = {name: facet_order(name, values) for name, values in counts.items() if name != TOTAL}
        out[TOTAL] = [FacetCount("", counts[TOTAL].get("", 0))]
        return out

