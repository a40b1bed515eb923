"""Alembic environment: the repository's and the harvester's tables, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic import context
from harvest.models import HarvestBase
from repository.db import make_engine
from repository.models import Base

config = context.config
target_metadata = [Base.metadata, HarvestBase.metadata]

# Full-text objects that migrations 0006 and 0011 create in each dialect's own SQL; no model declares them.
SEARCH_ONLY = {("table", "search_fts"), ("column", "tsv"), ("index", "ix_search_documents_tsv"),
               ("table", "search_words"), ("index", "ix_search_words_tsv")}


def include_name(name, type_, parent_names):  # type: ignore[no-untyped-def]
    """Keep autogenerate away from FTS5's virtual table (and its shadow tables) and PostgreSQL's words."""
    if type_ == "table" and name and name.startswith("search_fts"):
        return False
    return (type_, name) not in SEARCH_ONLY


def run_migrations_offline() -> None:
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata,
                      literal_binds=True, render_as_batch=True, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url"))
    with engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            _run_without_cascades(conn)
        else:
            _run(conn)
    engine.dispose()


def _run_without_cascades(connection) -> None:  # type: ignore[no-untyped-def]
    """SQLite alters a table by copying it and dropping the original; with foreign keys enforced,
    that drop deletes (ON DELETE CASCADE) every row that refers to the table: altering
    harvest_works would empty its memberships and facets. So enforcement is off while migrations
    run (SQLite takes the pragma only outside a transaction), and the references are checked
    before it comes back on.
    """
    raw = connection.connection.driver_connection
    raw.execute("PRAGMA foreign_keys=OFF")
    try:
        _run(connection)
        broken = raw.execute("PRAGMA foreign_key_check").fetchall()
        if broken:
            raise RuntimeError(f"migration left {len(broken)} rows referring to missing rows, e.g. {broken[:3]}")
    finally:
        raw.execute("PRAGMA foreign_keys=ON")


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying them
        compare_type=True,
        include_name=include_name,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
