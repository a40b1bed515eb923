"""search: an index of adjacent word pairs, for phrases

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05 21:30:00

A phrase (``"language change"``) matches where its words stand side by side: GIN finds the
records holding both words and PostgreSQL then reads each one's ``tsv`` for the positions. Out
of line since 0015, that is a TOAST lookup per candidate: 1.5-3.5 s for two words that 311,000
of a million records hold. This GIN index holds every two adjacent words of a record as one
lexeme (``'language change'``), so a two-word phrase is one exact lookup and a longer one reads
only the records that hold all its pairs. The ``tsv`` itself is unchanged (holding the pairs
there too would have made it 2.5 times larger).

``search_word_pairs(tsvector)`` gives a vector's pairs (immutable, as an index expression must
be); ``search_phrase_pairs(text)`` the tsquery that asks for every pair of a phrase, computed once
when a query is planned.
"""
from __future__ import annotations

from alembic import op


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

POSTGRESQL_UP = [
    """CREATE FUNCTION search_word_pairs(words tsvector) RETURNS tsvector
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  WITH at AS (SELECT u.lexeme, p.pos FROM unnest(words) AS u, unnest(u.positions) AS p(pos))
  SELECT coalesce(array_to_tsvector(array_agg(DISTINCT a.lexeme || ' ' || b.lexeme)), ''::tsvector)
  FROM at AS a JOIN at AS b ON b.pos = a.pos + 1
$$""",
    r"""CREATE FUNCTION search_phrase_pairs(phrase text) RETURNS tsquery
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT string_agg('''' || replace(replace(p.lexeme, '\', '\\'), '''', '''''') || '''', ' & ')::tsquery
  FROM unnest(search_word_pairs(to_tsvector('hylla', phrase))) AS p
$$""",
    "CREATE INDEX ix_search_words_pairs ON search_words USING gin (search_word_pairs(tsv))",
    "ANALYZE search_words",
]
POSTGRESQL_DOWN = [
    "DROP INDEX IF EXISTS ix_search_words_pairs",
    "DROP FUNCTION IF EXISTS search_phrase_pairs(text)",
    "DROP FUNCTION IF EXISTS search_word_pairs(tsvector)",
]


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in POSTGRESQL_UP:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in POSTGRESQL_DOWN:
            op.execute(statement)
