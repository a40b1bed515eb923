"""The embedded backend on PostgreSQL: a weighted ``tsv`` (GIN) in the ``hylla`` configuration.

Migration 0006 creates the configuration (the ``simple`` parser with ``unaccent``, so å/ä/ö
fold for matching and no stemmer guesses the language) and a trigger that computes ``tsv`` from
the text columns with weights A title, B names, C subjects and keywords, D abstract and the rest;
migration 0011 keeps it in ``search_words`` and 0015 keeps it out of line, so the rows are ids
and a TOAST pointer and the ids of a common word come from a narrow table. Each field's words
have a GIN index of their own (``ts_filter(tsv, weights)``), so ``title:railways`` is answered by
its index alone, where a weighted lexeme (``railways:A``) needed every candidate's ``tsv``, and
0016 indexes every two adjacent words as one lexeme, so a two-word phrase needs no positions
checked and a longer one only where all its pairs are.
Queries are built as tsquery text from the parsed tree, one quoted word at a time, so prefixes
(``:*``) work and no user text reaches the tsquery parser raw.

Relevance is by tiers, answered from the indexes without reading a ``tsv``: first the records
whose titles hold the words, then those whose titles, names and subjects hold them, then the
rest; newest record (highest id) first within a tier. ``ts_rank`` needed every match's ``tsv``
(about 3 µs each out of line): 1 s for a word in a third of a million records.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from typing import Any

import numpy as np
from sqlalchemy import (
    ARRAY, ColumnElement, FromClause, Integer, Select, and_, any_, case, cast, column, func, literal_column, not_, or_,
    select, table, text,
)
from sqlalchemy.orm import Session

from repository.search import facet_bits
from repository.search.embedded import DOCS, EmbeddedBackend
from repository.search.query import And, Node, Not, Or, Text
from repository.search.service import Plan, SearchResult

CONFIG = "hylla"
WORDS = table("search_words", column("publication_id"), column("tsv"))
TSV = WORDS.c.tsv
HEADS = "heads"  # not a field people type: title, names and subjects together (the middle tier)
PAIRS = "pairs"  # a phrase anywhere: found in the index of adjacent word pairs (migration 0016)
# The weights of each field's words; migration 0015 indexes ts_filter(tsv, <weights>) for each.
FIELD_WEIGHTS = {"title": "{a}", "author": "{b}", "subject": "{c}", HEADS: "{a,b,c}"}
TIERS = ("title", HEADS)  # then everything else that matches
PROBES = (4, 32)  # newest hits asked per id wanted in a tier, before its every id is read
_MIXED = "mixed"


def _lexeme(word: str, *, prefix: bool) -> str:
    quoted = "'" + word.replace("\\", "\\\\").replace("'", "''") + "'"
    return f"{quoted}:*" if prefix else quoted


def _words_text(node: Text) -> str:
    """The to_tsquery() input for one run of words (fields are the vector's business, not the query's)."""
    last = len(node.words) - 1
    return " <-> ".join(_lexeme(w, prefix=node.prefix and i == last) for i, w in enumerate(node.words))


def tsquery(node: Node) -> ColumnElement[Any]:
    """The tsquery of a text subtree."""
    if isinstance(node, Text):
        return func.to_tsquery(literal_column(f"'{CONFIG}'::regconfig"), _words_text(node))
    if isinstance(node, And):
        return functools.reduce(func.tsquery_and, (tsquery(i) for i in node.items))
    if isinstance(node, Or):
        return functools.reduce(func.tsquery_or, (tsquery(i) for i in node.items))
    assert isinstance(node, Not)
    return func.tsquery_not(tsquery(node.item))


def _is_phrase(node: Text) -> bool:
    return node.field is None and len(node.words) > 1 and not node.prefix


def _field(node: Node) -> str | None:
    """The one field every word of a subtree is in (None: anywhere), or ``_MIXED``; a phrase
    anywhere is ``PAIRS``, answered on its own."""
    if isinstance(node, Text):
        return PAIRS if _is_phrase(node) else node.field
    fields = {_field(i) for i in _children(node)}
    return fields.pop() if len(fields) == 1 and PAIRS not in fields else _MIXED


def _children(node: Node) -> tuple[Node, ...]:
    return node.items if isinstance(node, (And, Or)) else (node.item,)  # type: ignore[union-attr]


def _vector(field: str | None) -> ColumnElement[Any]:
    if field == PAIRS:
        return func.search_word_pairs(TSV)
    return TSV if field is None else func.ts_filter(TSV, literal_column(f"'{FIELD_WEIGHTS[field]}'"))


def words_condition(node: Node) -> ColumnElement[bool]:
    """A predicate on ``search_words`` for a text subtree whose words are all in one field: one
    tsquery, so GIN evaluates ``&``, ``|`` and ``!`` itself and reads no ``tsv`` (but for phrases
    in a field or ending in a prefix, whose positions are checked in the ``tsv``). A phrase
    anywhere is its word pairs: exactly the phrase for two words, and the candidates whose
    positions are checked for more."""
    if isinstance(node, Text) and _is_phrase(node):
        pairs = _vector(PAIRS).op("@@")(func.search_phrase_pairs(" ".join(node.words)))
        return pairs if len(node.words) == 2 else and_(pairs, TSV.op("@@")(tsquery(node)))
    return _vector(_field(node)).op("@@")(tsquery(node))


def per_field(node: Node, condition: Callable[[Node], ColumnElement[bool]]) -> ColumnElement[bool]:
    """``condition`` of each largest subtree whose words are in one field, combined with AND, OR
    and NOT as the tree combines them."""
    if _field(node) != _MIXED:
        return condition(node)
    if isinstance(node, And):
        return and_(*(per_field(i, condition) for i in node.items))
    if isinstance(node, Or):
        return or_(*(per_field(i, condition) for i in node.items))
    assert isinstance(node, Not)
    return not_(per_field(node.item, condition))


def row_condition(node: Node) -> ColumnElement[bool]:
    """A text subtree as a condition on each ``search_words`` row (for a few hundred rows at a
    time: with words in several fields, it reads each row's ``tsv``)."""
    return per_field(node, words_condition)


def _has_phrase(node: Node) -> bool:
    if isinstance(node, Text):
        return len(node.words) > 1
    return any(_has_phrase(i) for i in _children(node))


def in_field(node: Node, field: str | None) -> Node:
    """The subtree with its words that may be anywhere looked for in ``field`` only (a tier);
    with ``None``, every word looked for anywhere."""
    if isinstance(node, Text):
        return dataclasses.replace(node, field=field) if node.field is None or field is None else node
    if isinstance(node, And):
        return And(tuple(in_field(i, field) for i in node.items))
    if isinstance(node, Or):
        return Or(tuple(in_field(i, field) for i in node.items))
    assert isinstance(node, Not)
    return Not(in_field(node.item, field))


class PostgresFtsBackend(EmbeddedBackend):
    name = "postgresql-fts"

    def search(self, plan: Plan) -> SearchResult:
        """Without sequential scans, and without JIT compilation.

        A scan of ``search_words`` reads every row's ``tsv`` from TOAST, which the planner does
        not price: counting the records with ``health`` took 1.2 s that way, against 65 ms through
        GIN. Queries that recheck pairs or phrases are priced high enough to be compiled: 350 ms
        of compiling for 260 ms of running.
        """
        self.session.execute(text("SET LOCAL enable_seqscan = off; SET LOCAL jit = off"))
        result = super().search(plan)  # (after an error the settings end with the transaction)
        self.session.execute(text("SET LOCAL enable_seqscan TO DEFAULT; SET LOCAL jit TO DEFAULT"))
        return result

    def text_match(self, node: Node) -> ColumnElement[bool]:
        """Each field's words a subquery of their own: ANDed in one WHERE, the planner would
        filter one index's rows by the other tsquery, reading every candidate's ``tsv``."""
        return per_field(node, lambda words: DOCS.c.publication_id.in_(
            select(WORDS.c.publication_id).where(words_condition(words))))

    def ranked_source(self, node: Node) -> tuple[FromClause, ColumnElement[bool], ColumnElement[Any]] | None:
        """The tiers as a sort key for SQL (0 is best): each tier's ids are one hashed subquery."""
        tiers = [(self.text_match(in_field(node, f)), i) for i, f in enumerate(TIERS)]
        return DOCS, self.text_match(node), case(*tiers, else_=len(TIERS))

    def text_ids(self, node: Node) -> np.ndarray:
        """Words in different fields are found apart and combined here, for the same reason as
        in ``text_match``."""
        if _field(node) == _MIXED:
            if isinstance(node, Or):
                return functools.reduce(np.union1d, (self.text_ids(i) for i in node.items))
            if isinstance(node, And) and any(not isinstance(i, Not) for i in node.items):
                parts = [i for i in node.items if not isinstance(i, Not)]
                anywhere = in_field(And(tuple(parts)), None)
                if _field(anywhere) is None and not _has_phrase(anywhere):
                    # Every word anywhere first (GIN intersects the lists itself, so few rows are
                    # read), then only the words in a field apart: author:andersson birds read
                    # 135,030 + 44,250 rows instead of 135,030 + every record with birds.
                    parts = [anywhere, *(i for i in parts if _field(i) is not None)]
                found = functools.reduce(lambda a, b: np.intersect1d(a, b, assume_unique=True),
                                         (self.text_ids(i) for i in parts))
                for item in node.items:
                    if isinstance(item, Not):
                        found = np.setdiff1d(found, self.text_ids(item.item), assume_unique=True)
                return found
            return self._ids(select(DOCS.c.publication_id).where(self.text_match(node)))
        return self._ids(select(WORDS.c.publication_id).where(words_condition(node)))

    def best_ids(self, words: Node, hits: facet_bits.Bits, want: int) -> list[int]:
        """Tier by tier, each the newest first."""
        taken: list[int] = []
        rest = hits
        for field in TIERS:
            tier = in_field(words, field)
            if tier == words:  # every word already has its field: one tier
                break
            found = self._tier_hits(tier, rest, want - len(taken))
            taken += facet_bits.highest(found, want - len(taken))
            if len(taken) >= want:
                return taken
            rest = rest & ~found
        return taken + facet_bits.highest(rest, want - len(taken))

    def _tier_hits(self, tier: Node, hits: facet_bits.Bits, need: int) -> facet_bits.Bits:
        """The hits in a tier: at least its ``need`` newest, else all of them.

        A tier's own ids can be a third of the index (a common word in titles: 40 ms more per
        search); a page needs only its newest members among the hits. So the newest hits are
        asked first, a few hundred at a time, each row matched against the tier's tsquery; only
        when those hold too few members is every id in the tier read.
        """
        size = len(hits) * 64
        for probe in PROBES:
            candidates = facet_bits.highest(hits, probe * need + probe)
            found = self._ids(select(WORDS.c.publication_id).where(
                WORDS.c.publication_id == any_(cast(candidates, ARRAY(Integer))), row_condition(tier)))
            exhausted = len(candidates) < probe * need + probe
            if len(found) >= need or exhausted:
                return facet_bits.bitset(found, size)
        ids = self.text_ids(tier)
        return facet_bits.bitset(ids[ids < size], size) & hits

    def _ids(self, query: Select[Any]) -> np.ndarray:
        """The ids a one-column query selects, packed by PostgreSQL into one bytea of big-endian
        int32s: a row per id costs the driver more than the scan costs the server (libpq hands
        even COPY over a row at a time): 100 ms for 343,000 ids, against 280 by COPY."""
        ids = query.subquery()
        packed = self.session.execute(
            select(func.string_agg(func.int4send(ids.c[0]), literal_column("''::bytea")))).scalar()
        return np.frombuffer(packed, dtype=">i4").astype(np.int64) if packed else np.zeros(0, dtype=np.int64)

    def title_order(self) -> ColumnElement[Any]:
        """Titles in byte order, as SQLite and OpenSearch sort keywords.

        A database whose collation already is byte order (C, C.UTF-8, POSIX) sorts the column as
        it is, so the sort_title index serves the order; any other needs ``COLLATE "C"``, which
        that index cannot serve.
        """
        if _byte_ordered(self.session):
            return DOCS.c.sort_title
        return DOCS.c.sort_title.collate("C")


_BYTE_ORDER = {"C", "POSIX", "C.UTF-8", "C.utf8"}
_collations: dict[str, bool] = {}


def _byte_ordered(session: Session) -> bool:
    engine = session.get_bind().engine
    key = str(engine.url)
    if key not in _collations:
        collation = session.execute(text("SELECT datcollate FROM pg_database WHERE datname = current_database()")).scalar()
        _collations[key] = collation in _BYTE_ORDER
    return _collations[key]
