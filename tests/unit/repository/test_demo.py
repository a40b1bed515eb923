"""The demo loader's bulk path: what it indexes and what its worker processes generate."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Connection, MetaData, select

from repository import migrate
from repository.db import make_engine
from repository.demo import load_demo
from repository.models import Publication
from repository.search.documents import build_range
from repository.search.indexer import write_documents
from tests.conftest import backends


@pytest.mark.parametrize("fresh_database_url", backends(), indirect=True)
def test_the_demo_indexes_what_a_rebuild_would(fresh_database_url: str) -> None:
    """Documents made from the generated rows equal those a rebuild reads back from the tables."""
    migrate.upgrade(fresh_database_url)
    engine = make_engine(fresh_database_url)
    try:
        with engine.connect() as conn:
            summary = load_demo(conn, 160, batch_size=60, workers=0)
            docs, gone = build_range(conn, 1, 10_000)
            published = conn.execute(select(Publication.id).where(Publication.state == "published")).all()
            assert len(docs) == len(published)
            assert gone and summary.withdrawn <= len(gone)
            assert write_documents(conn, docs, []) == 0  # nothing differs from what the load indexed
            conn.rollback()
    finally:
        engine.dispose()


def _dump(conn: Connection) -> dict[str, list[tuple[object, ...]]]:
    meta = MetaData()
    meta.reflect(conn)
    skip = {"indexed_at"}  # when a document was written, not what it says
    return {name: sorted((tuple(v for k, v in row._mapping.items() if k not in skip)
                          for row in conn.execute(table.select())), key=repr)
            for name, table in meta.tables.items() if not name.startswith("search_fts") and name != "search_state"}


def test_worker_processes_generate_the_same_records(tmp_path: Path) -> None:
    """Each batch has its own random stream and id block: two workers give what one process gives."""
    dumps = []
    for workers in (0, 2):
        url = f"sqlite:///{tmp_path / f'w{workers}.sqlite3'}"
        migrate.upgrade(url)
        engine = make_engine(url)
        try:
            with engine.connect() as conn:
                summary = load_demo(conn, 90, batch_size=30, workers=workers, files_root=str(tmp_path / f"f{workers}"))
                dumps.append((_dump(conn), summary.files, summary.by_type))
        finally:
            engine.dispose()
    assert dumps[0] == dumps[1]
    assert dumps[0][0]["publications"] and dumps[0][0]["search_documents"]
    stored = {p.name for p in (tmp_path / "f0").rglob("*") if p.is_file()}
    assert stored == {p.name for p in (tmp_path / "f2").rglob("*") if p.is_file()}
    assert stored  # the full texts are written once each, whichever worker met them first
