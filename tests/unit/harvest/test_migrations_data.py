"""Migrations 0012 and 0013 move the harvest's data both ways: nothing a refresh needs is lost.

On SQLite both copy tables that others refer to with ON DELETE CASCADE (harvest_works,
harvest_records): the memberships, facets and keys must survive the copies too.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from harvest import dedup, store
from harvest.models import Work
from repository import migrate
from repository.db import make_engine
from tests.conftest import backends
from tests.samples import book_chapter, journal_article
from tests.unit.harvest.test_store import _version


@pytest.mark.parametrize("fresh_database_url", backends(), indirect=True)
def test_single_record_copies_and_the_queue_survive_down_and_up(fresh_database_url: str) -> None:
    url = fresh_database_url
    migrate.upgrade(url)
    engine = make_engine(url)
    sessions = sessionmaker(bind=engine, expire_on_commit=False)
    try:
        with sessions.begin() as s:
            source = store.add_source(s, "uu", "https://uu.example.org/oai", "swepub_mods")
            run = store.start_run(s, source, "full", None, None)
            store.write_records(s, source.id, run.id, [_version(journal_article(), "oai:uu:1", "a" * 64)], [], [])
            dedup.refresh(s)
            store.write_records(s, source.id, run.id, [_version(book_chapter(), "oai:uu:2", "b" * 64)], [], [])
        with sessions() as s:
            first = store.known_records(s, source.id, ["oai:uu:1"])["oai:uu:1"].id
            second = store.known_records(s, source.id, ["oai:uu:2"])["oai:uu:2"].id
            record = s.get(store.HarvestedRecord, first).record
            assert s.scalars(select(Work.merged)).all() == [None]
            before = _children(s)
        assert before == {"harvest_work_memberships": 1, "harvest_work_facets": before["harvest_work_facets"],
                          "harvest_blocking_keys": before["harvest_blocking_keys"], "harvest_record_problems": 2}
        assert before["harvest_work_facets"] > 3 and before["harvest_blocking_keys"] > 2
        engine.dispose()

        migrate.downgrade(url, "0011")
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM harvest_works WHERE merged IS NULL")).scalar_one() == 0
            flagged = conn.execute(text("SELECT id FROM harvest_records WHERE needs_dedup ORDER BY id")).scalars().all()
        assert flagged == [second]  # the one record queued and not yet clustered
        with sessions() as s:
            assert _children(s) == before
        engine.dispose()

        migrate.upgrade(url)
        with sessions() as s:
            assert s.scalars(select(Work.merged)).all() == [None]
            assert s.scalars(select(Work.merged_record)).all() == [record]
            assert store.pending_dedup(s).record_ids == [second]
            assert _children(s) == before
    finally:
        engine.dispose()


def _children(s: Session) -> dict[str, int]:
    """Row counts of the tables that refer to works and records."""
    return {table: s.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
            for table in ("harvest_work_memberships", "harvest_work_facets", "harvest_blocking_keys",
                          "harvest_record_problems")}
