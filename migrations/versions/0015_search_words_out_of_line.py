"""search: PostgreSQL's words out of the row, and an index per field

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05 21:00:00

A word that 35 % of a million records hold needs the id of every one of them (for the exact
count and the facets). GIN finds them in 17-35 ms, but the ids sit in ``search_words`` rows beside
their ``tsv`` (about 700 bytes each, 666 MB at 1,000,000 records), so the bitmap heap scan read
the whole table: 230 ms of the 250 ms. With the ``tsv`` out of line the rows are about 90 bytes
(84 MB) and the same ids take 60-80 ms.

PostgreSQL moves values out of a row only when the row is over about 2 KB
(``TOAST_TUPLE_THRESHOLD``), whatever ``toast_tuple_target`` says; ``pad`` (2,100 zero bytes,
generated, compressed to some 40 bytes in the row) makes every row qualify, and then
``toast_tuple_target = 128`` with ``STORAGE EXTERNAL`` moves the ``tsv`` out. Adding the column
rewrites the table, so existing rows move too.

Reading a ``tsv`` now costs a TOAST lookup, about 3 µs instead of 0.7, so nothing reads them in
bulk any more: ranking is by field tiers answered from indexes (see postgres_fts.py), and the
fielded searches (``title:``, ``author:``, ``subject:``) get their own GIN indexes over
``ts_filter(tsv, <weights>)``, which answer without reading a ``tsv`` where ``word:A`` needed
every candidate's. The fifth index (title, names and subjects together) serves the middle tier.
"""
from __future__ import annotations

from alembic import op


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

# (index name, weights) for each field's words: A title, B names, C subjects and keywords.
FIELD_INDEXES = [
    ("ix_search_words_title", "{a}"),
    ("ix_search_words_names", "{b}"),
    ("ix_search_words_subjects", "{c}"),
    ("ix_search_words_heads", "{a,b,c}"),
]

POSTGRESQL_UP = [
    "ALTER TABLE search_words SET (toast_tuple_target = 128)",
    "ALTER TABLE search_words ALTER COLUMN tsv SET STORAGE EXTERNAL",
    "ALTER TABLE search_words ADD COLUMN pad bytea GENERATED ALWAYS AS (decode(repeat('00', 2100), 'hex')) STORED",
    *(f"CREATE INDEX {name} ON search_words USING gin (ts_filter(tsv, '{weights}'))" for name, weights in FIELD_INDEXES),
    "ANALYZE search_words",
]
POSTGRESQL_DOWN = [
    *(f"DROP INDEX IF EXISTS {name}" for name, _ in FIELD_INDEXES),
    "ALTER TABLE search_words DROP COLUMN IF EXISTS pad",
    "ALTER TABLE search_words ALTER COLUMN tsv SET STORAGE EXTENDED",
    "ALTER TABLE search_words RESET (toast_tuple_target)",
]


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in POSTGRESQL_UP:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in POSTGRESQL_DOWN:
            op.execute(statement)
