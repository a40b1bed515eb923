"""The embedded backend on PostgreSQL: a weighted ``tsv`` column (GIN) in the ``hylla`` configuration.

Migration 0006 creates the configuration (the ``simple`` parser with ``unaccent``, so å/ä/ö
fold for matching and no stemmer guesses the language) and a trigger that fills ``tsv`` from the
text columns with weights A title, B names, C subjects and keywords, D abstract and the rest.
Queries are built as tsquery text from the parsed tree, one quoted word at a time, so fielded
words (weights) and prefixes (``:*``) work and no user text reaches the tsquery parser raw.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from psycopg import sql
from sqlalchemy import ColumnElement, FromClause, func, literal_column, text
from sqlalchemy.orm import Session

from repository.search.embedded import DOCS, EmbeddedBackend, Scored
from repository.search.query import And, Node, Not, Or, Text

CONFIG = "hylla"
_SCORED_ROW = np.dtype([("fields", ">i2"), ("id_length", ">i4"), ("id", ">i4"), ("score_length", ">i4"),
                        ("score", ">f4")])
WEIGHTS = {"title": "A", "author": "B", "subject": "C"}
TSV = literal_column("search_documents.tsv")


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
        return TSV.op("@@")(_query(node))

    def ranked_source(self, node: Node) -> tuple[FromClause, ColumnElement[bool], ColumnElement[Any]] | None:
        query = _query(node)
        return DOCS, TSV.op("@@")(query), -func.ts_rank(TSV, query)

    def text_ids(self, node: Node) -> list[int] | None:
        return self.raw_ids(f"SELECT publication_id FROM search_documents WHERE tsv @@ to_tsquery('{CONFIG}', %s)",
                            (tsquery_text(node),))

    def scored_ids(self, node: Node) -> Scored:
        """Every match with its ``ts_rank``, in one scan (ranking a page apart from finding the
        hits read every matching ``tsv`` twice). Binary COPY hands the pairs to numpy without a
        Python object per row; COPY takes no parameters, so the tsquery text goes in as a quoted
        literal."""
        statement = sql.SQL("COPY (SELECT publication_id, ts_rank(tsv, q) FROM search_documents, "
                            "to_tsquery({}, {}) AS q WHERE tsv @@ q) TO STDOUT (FORMAT BINARY)").format(
            sql.Literal(CONFIG), sql.Literal(tsquery_text(node)))
        data = bytearray()
        cursor = self.session.connection().connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            with cursor.copy(statement) as copy:
                for block in copy:
                    data += block
        finally:
            cursor.close()
        # 19 bytes of header, then per row: field count, (length, id), (length, score); 2 bytes of trailer.
        rows = np.frombuffer(memoryview(data)[19:-2], dtype=_SCORED_ROW)
        return rows["id"].astype(np.int64), rows["score"].astype(np.float32)

    def ranked_ids(self, node: Node, limit: int | None) -> list[int] | None:
        sql = (f"SELECT publication_id FROM search_documents, to_tsquery('{CONFIG}', %s) AS q WHERE tsv @@ q "
               "ORDER BY ts_rank(tsv, q) DESC, publication_id DESC")
        return self.raw_ids(sql + " LIMIT %s", (tsquery_text(node), limit)) if limit else \
            self.raw_ids(sql, (tsquery_text(node),))

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
