"""The embedded backend on PostgreSQL: a weighted ``tsv`` (GIN) in the ``hylla`` configuration.

Migration 0006 creates the configuration (the ``simple`` parser with ``unaccent``, so å/ä/ö
fold for matching and no stemmer guesses the language) and a trigger that computes ``tsv`` from
the text columns with weights A title, B names, C subjects and keywords, D abstract and the rest;
migration 0011 keeps it in ``search_words`` (id and ``tsv`` only), so a scan of the words reads
no other column.
Queries are built as tsquery text from the parsed tree, one quoted word at a time, so fielded
words (weights) and prefixes (``:*``) work and no user text reaches the tsquery parser raw.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from psycopg import sql
from sqlalchemy import ColumnElement, FromClause, column, func, literal_column, select, table, text
from sqlalchemy.orm import Session

from repository.search.embedded import DOCS, EmbeddedBackend, Scored
from repository.search.query import And, Node, Not, Or, Text

CONFIG = "hylla"
_ID_ROW = np.dtype([("fields", ">i2"), ("id_length", ">i4"), ("id", ">i4")])
_SCORED_ROW = np.dtype([("fields", ">i2"), ("id_length", ">i4"), ("id", ">i4"), ("score_length", ">i4"),
                        ("score", ">f4")])
WEIGHTS = {"title": "A", "author": "B", "subject": "C"}
WORDS = table("search_words", column("publication_id"), column("tsv"))
TSV = WORDS.c.tsv


def _lexeme(word: str, *, prefix: bool, weight: str) -> str:
    quoted = "'" + word.replace("\\", "\\\\").replace("'", "''") + "'"
    suffix = ("*" if prefix else "") + weight
    return f"{quoted}:{suffix}" if suffix else quoted


def tsquery_text(node: Node) -> str:
    """The to_tsquery() input for a text subtree."""
    if isinstance(node, Text):
        weight = WEIGHTS.get(node.field or "", "")
        last = len(node.words) - 1
        return " <-> ".join(_lexeme(w, prefix=node.prefix and i == last, weight=weight)
                            for i, w in enumerate(node.words))
    if isinstance(node, And):
        return " & ".join(f"({tsquery_text(i)})" for i in node.items)
    if isinstance(node, Or):
        return " | ".join(f"({tsquery_text(i)})" for i in node.items)
    assert isinstance(node, Not)
    return f"!({tsquery_text(node.item)})"


def _query(node: Node) -> ColumnElement[Any]:
    return func.to_tsquery(literal_column(f"'{CONFIG}'::regconfig"), tsquery_text(node))


class PostgresFtsBackend(EmbeddedBackend):
    name = "postgresql-fts"

    def text_match(self, node: Node) -> ColumnElement[bool]:
        return DOCS.c.publication_id.in_(select(WORDS.c.publication_id).where(TSV.op("@@")(_query(node))))

    def ranked_source(self, node: Node) -> tuple[FromClause, ColumnElement[bool], ColumnElement[Any]] | None:
        query = _query(node)
        return (DOCS.join(WORDS, WORDS.c.publication_id == DOCS.c.publication_id), TSV.op("@@")(query),
                -func.ts_rank(TSV, query))

    def text_ids(self, node: Node) -> np.ndarray:
        rows = self._copy(sql.SQL("SELECT publication_id FROM search_words WHERE tsv @@ to_tsquery({}, {})")
                          .format(sql.Literal(CONFIG), sql.Literal(tsquery_text(node))), _ID_ROW)
        return rows["id"].astype(np.int64)

    def scored_ids(self, node: Node) -> Scored:
        """Every match with its ``ts_rank``, in one scan (ranking a page apart from finding the
        hits read every matching ``tsv`` twice)."""
        rows = self._copy(sql.SQL("SELECT publication_id, ts_rank(tsv, q) FROM search_words, "
                                  "to_tsquery({}, {}) AS q WHERE tsv @@ q")
                          .format(sql.Literal(CONFIG), sql.Literal(tsquery_text(node))), _SCORED_ROW)
        return rows["id"].astype(np.int64), rows["score"].astype(np.float32)

    def _copy(self, query: sql.Composable, row: np.dtype) -> np.ndarray:
        """The rows of a query of fixed-width non-null columns, through binary COPY into numpy:
        no Python object per row for tens of thousands of matches. COPY takes no parameters, so
        values go in as quoted literals."""
        data = bytearray()
        cursor = self.session.connection().connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            # The planner prices ts_rank and @@ like an addition and every row handed back from a
            # worker dearly, so it scans serially; with the tuple cost lowered for this statement
            # two workers share the scan when cores are free (16,500 matches of 95,000 documents:
            # 136-160 -> 77-80 ms in psql); on two cores already busy (load 5) it changes nothing.
            cursor.execute("SET LOCAL parallel_tuple_cost = 0.001")
            with cursor.copy(sql.SQL("COPY ({}) TO STDOUT (FORMAT BINARY)").format(query)) as copy:
                for block in copy:
                    data += block
            cursor.execute("SET LOCAL parallel_tuple_cost TO DEFAULT")
        finally:
            cursor.close()
        # 19 bytes of header, then per row a field count and (length, value) per field; 2 bytes of trailer.
        return np.frombuffer(memoryview(data)[19:-2], dtype=row)

    def ranked_ids(self, node: Node, limit: int | None) -> list[int] | None:
        query = (f"SELECT publication_id FROM search_words, to_tsquery('{CONFIG}', %s) AS q WHERE tsv @@ q "
                 "ORDER BY ts_rank(tsv, q) DESC, publication_id DESC")
        return self.raw_ids(query + " LIMIT %s", (tsquery_text(node), limit)) if limit else \
            self.raw_ids(query, (tsquery_text(node),))

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
