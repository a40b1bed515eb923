"""The harvester's SQL on SQLite and (with TEST_DATABASE_URL) PostgreSQL: sources, runs, records, works, migration."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import orjson
import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from harvest import dedup, store
from harvest.models import HarvestedRecord, HarvestRun, Source
from harvest.records import publication_from_dict, publication_to_dict
from harvest.store import RecordVersion
from repository import migrate
from tests.samples import all_samples, journal_article

REPAIR = ('<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">'
          '<xsl:template match="/"><xsl:copy-of select="."/></xsl:template></xsl:stylesheet>')


@pytest.mark.parametrize(("name", "url", "prefix", "xslt", "message"), [
    ("kth diva", "https://kth.diva-portal.org/dice/oai", "swepub_mods", None, "without spaces"),
    ("kth", "ftp://kth.diva-portal.org/dice/oai", "swepub_mods", None, "not an OAI-PMH base URL"),
    ("kth", "https://kth.diva-portal.org/dice/oai?verb=Identify", "swepub_mods", None, "no query string"),
    ("kth", "https://kth.diva-portal.org/dice/oai", "marcxml", None, "use one of swepub_mods, mods, oai_dc"),
    ("kth", "https://kth.diva-portal.org/dice/oai", "mods", "<xsl:stylesheet", "not usable XML"),
    ("kth", "https://kth.diva-portal.org/dice/oai", "mods",
     REPAIR.replace("<xsl:template", '<xsl:include href="/etc/passwd"/><xsl:template'), "self-contained"),
])
def test_bad_sources_are_refused(sessions: sessionmaker[Session], name: str, url: str, prefix: str,
                                 xslt: str | None, message: str) -> None:
    with sessions.begin() as s, pytest.raises(store.SourceError, match=message):
        store.add_source(s, name, url, prefix, xslt_text=xslt)


def test_sources_are_unique_and_listed(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as s:
        store.add_source(s, "kth", "https://kth.diva-portal.org/dice/oai", "swepub_mods", set_spec="SwePub-kth",
                         xslt_text=REPAIR, contact="diva@kth.se")
        store.add_source(s, "chalmers", "https://research.chalmers.se/oai", "mods")
    with sessions.begin() as s, pytest.raises(store.SourceError, match="already exists"):
        store.add_source(s, "kth", "https://other.example.org/oai", "mods")
    with sessions() as s:
        assert [src.name for src in store.list_sources(s)] == ["chalmers", "kth"]
        assert store.get_source(s, "kth").xslt == REPAIR
        with pytest.raises(store.SourceError, match=r"no source named 'uu' \(known: chalmers, kth\)"):
            store.get_source(s, "uu")


def test_timestamps_are_utc_and_naive_ones_refused(sessions: sessionmaker[Session]) -> None:
    stockholm = dt.timezone(dt.timedelta(hours=2))
    with sessions.begin() as s:
        source = store.add_source(s, "kth", "https://kth.diva-portal.org/dice/oai", "swepub_mods")
        source.last_success_from = dt.datetime(2024, 6, 1, 12, 0, tzinfo=stockholm)
    with sessions() as s:
        stored = s.scalar(select(Source.last_success_from))
    assert stored == dt.datetime(2024, 6, 1, 10, 0, tzinfo=dt.UTC) and stored.tzinfo is dt.UTC
    with sessions.begin() as s, pytest.raises(Exception, match="must carry its zone"):
        store.get_source(s, "kth").last_success_from = dt.datetime(2024, 6, 1, 12, 0)
        s.flush()


def test_checkpoint_lives_until_success(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as s:
        source = store.add_source(s, "kth", "https://kth.diva-portal.org/dice/oai", "swepub_mods")
        run = store.start_run(s, source, "full", None, None)
        store.save_checkpoint(source, run, "token-2")
        store.finish_run(s, source, run, "interrupted", "network: refused")
    with sessions.begin() as s:
        source = store.get_source(s, "kth")
        again = store.resumable_run(s, source)
        assert again is not None and again.id == run.id and source.checkpoint_pages == 1
        store.reopen_run(s, again)
        store.save_checkpoint(source, again, None)
        store.finish_run(s, source, again, "succeeded")
    with sessions() as s:
        source = store.get_source(s, "kth")
        assert store.resumable_run(s, source) is None and source.checkpoint_token is None
        assert source.last_success_from == s.get_one(HarvestRun, run.id).started
        assert store.latest_runs(s)[source.id].pages == 2


def _version(pub, ident: str, digest: str) -> RecordVersion:  # type: ignore[no-untyped-def]
    data = publication_to_dict(pub)
    feats = dedup.features(pub, data)
    return RecordVersion(ident, dt.datetime(2024, 1, 2, tzinfo=dt.UTC), False, digest, raw_xml="<record>Å</record>",
                         record=data, accepted=True, problems=[{"code": "ssif_missing", "severity": "warning",
                                                                "path": "subjects", "message": "x"}],
                         xsd_valid=False, match_features=feats, keys=dedup.blocking_keys(feats))


def test_records_round_trip_and_update_in_bulk(sessions: sessionmaker[Session]) -> None:
    pubs = all_samples()
    with sessions.begin() as s:
        source = store.add_source(s, "uu", "https://uu.diva-portal.org/dice/oai", "swepub_mods")
        run = store.start_run(s, source, "full", None, None)
        store.write_records(s, source.id, run.id, [_version(p, f"oai:uu:{p.id}", "a" * 64) for p in pubs], [], [])
    with sessions.begin() as s:
        known = store.known_records(s, source.id, [f"oai:uu:{p.id}" for p in pubs] + ["oai:uu:none"])
        assert len(known) == len(pubs) and all(k.content_hash == "a" * 64 for k in known.values())
        first, *rest = pubs
        changed = [(known[f"oai:uu:{first.id}"].id, _version(first, f"oai:uu:{first.id}", "b" * 64))]
        run2 = store.start_run(s, source, "incremental", "2024-01-01", None)
        store.write_records(s, source.id, run2.id, [], changed, [known[f"oai:uu:{p.id}"].id for p in rest])
    with sessions() as s:
        rows = list(s.scalars(select(HarvestedRecord).order_by(HarvestedRecord.id)))
        assert [publication_from_dict(r.record) for r in rows] == pubs  # type: ignore[arg-type]
        assert rows[0].content_hash == "b" * 64 and {r.last_seen_run_id for r in rows} == {run2.id}
        assert {r.first_seen_run_id for r in rows} == {run.id} and rows[0].raw_xml == "<record>Å</record>"
        assert rows[0].problems[0]["code"] == "ssif_missing" and rows[0].xsd_valid is False
        assert store.record_counts(s) == {source.id: {"accepted": len(pubs), "rejected": 0, "deleted": 0}}


def test_new_records_are_stored_as_sqlalchemy_stores_them(sessions: sessionmaker[Session]) -> None:
    """New records go to the driver as tuples; each column must hold what SQLAlchemy's own update
    writes for the same version (JSON text, the UTC datestamp, booleans, NULLs), byte for byte."""
    accepted = _version(journal_article(), "oai:uu:x", "a" * 64)
    stockholm = dt.timezone(dt.timedelta(hours=2))
    versions = [
        accepted,
        dataclasses.replace(accepted, datestamp=dt.datetime(2024, 1, 2, 14, 5, 6, 7, tzinfo=stockholm), xsd_valid=True,
                            record=orjson.Fragment(orjson.dumps(accepted.record)), institution="uu"),
        RecordVersion("oai:uu:x", None, False, "c" * 64, raw_xml="<record/>", problems=[
            {"code": "00", "severity": "reject", "path": "metadata", "message": "no MODS"}]),
        RecordVersion("oai:uu:x", dt.datetime(2024, 3, 1, tzinfo=dt.UTC), True, "d" * 64),
    ]
    columns = ", ".join(c for c in store._NEW_RECORD_COLUMNS if c not in ("id", "oai_identifier"))
    with sessions.begin() as s:
        source = store.add_source(s, "uu", "https://uu.diva-portal.org/dice/oai", "swepub_mods")
        run = store.start_run(s, source, "full", None, None)
        for n, version in enumerate(versions):
            inserted = dataclasses.replace(version, oai_identifier=f"oai:uu:new{n}")
            updated = dataclasses.replace(version, oai_identifier=f"oai:uu:old{n}")
            store.write_records(s, source.id, run.id, [inserted, dataclasses.replace(updated, content_hash="e" * 64)],
                                [], [])
            known = store.known_records(s, source.id, [updated.oai_identifier])
            store.write_records(s, source.id, run.id, [], [(known[updated.oai_identifier].id, updated)], [])
            rows = s.execute(text(f"SELECT oai_identifier, {columns} FROM harvest_records "
                                  "WHERE oai_identifier IN (:a, :b) ORDER BY oai_identifier"),
                             {"a": inserted.oai_identifier, "b": updated.oai_identifier}).all()
            assert [r[0] for r in rows] == [inserted.oai_identifier, updated.oai_identifier]
            assert tuple(rows[0])[1:] == tuple(rows[1])[1:], version


def test_bulk_inserts_take_ids_that_later_inserts_do_not_reuse(sessions: sessionmaker[Session]) -> None:
    """Records are inserted with ids taken first (no RETURNING); an ordinary insert after them gets a new id."""
    with sessions.begin() as s:
        source = store.add_source(s, "uu", "https://uu.diva-portal.org/dice/oai", "swepub_mods")
        run = store.start_run(s, source, "full", None, None)
        store.write_records(s, source.id, run.id, [_version(journal_article(), f"oai:uu:{n}", "a" * 64)
                                                   for n in range(3)], [], [])
        store.write_records(s, source.id, run.id, [_version(journal_article(), "oai:uu:3", "a" * 64)], [], [])
    with sessions.begin() as s:
        s.add(HarvestedRecord(source_id=source.id, oai_identifier="oai:uu:orm", deleted=True, content_hash="c" * 64))
    with sessions() as s:
        ids = store.known_records(s, source.id, [f"oai:uu:{n}" for n in (0, 1, 2, 3, "orm")])
        assert [ids[f"oai:uu:{n}"].id for n in (0, 1, 2, 3)] == sorted(k.id for k in ids.values())[:4]
        assert len({k.id for k in ids.values()}) == 5 and ids["oai:uu:orm"].id > ids["oai:uu:3"].id


def test_dedup_records_carry_their_keys_in_code_point_order(sessions: sessionmaker[Session]) -> None:
    """A work's cluster key is its master's first identifier key in this order, so it must not
    depend on the database's collation: a PostgreSQL database in en_US would put "ft:2020:Öberg"
    before "ft:2020:Zeta" and "doi:10.1/bc" before "doi:10.1/b-c" (the test databases here are in
    C.UTF-8, where the order is the same either way)."""
    keys = ["pmid:123", "ft:2020:Öberg:a", "doi:10.1/b-c", "ft:2020:Zeta:a", "doi:10.1/bc", "ft:2020:oberg:a",
            "fe:2020:x", "isbn:9789151312347", "doi:10.1/B"]
    with sessions.begin() as s:
        source = store.add_source(s, "uu", "https://uu.diva-portal.org/dice/oai", "swepub_mods")
        run = store.start_run(s, source, "full", None, None)
        store.write_records(s, source.id, run.id, [_version(journal_article(), f"oai:uu:{n}", "a" * 64)
                                                   for n in range(3)], [], [])
        rids = sorted(k.id for k in store.known_records(s, source.id, [f"oai:uu:{n}" for n in range(3)]).values())
        store.replace_keys(s, [(rids[0], keys), (rids[1], keys[::-1]), (rids[2], [])])
    with sessions() as s:
        everything = store.dedup_records(s, None)
        some = store.dedup_records(s, [rids[1], rids[2]])
    assert [(r.id, r.keys) for r in everything] == [(rids[0], tuple(sorted(keys))), (rids[1], tuple(sorted(keys))),
                                                    (rids[2], ())]
    assert [(r.id, r.keys) for r in some] == [(r.id, r.keys) for r in everything[1:]]
    assert everything[0].source == "uu" and everything[0].features["t"]


def test_deletion_keeps_a_tombstone(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as s:
        source = store.add_source(s, "uu", "https://uu.diva-portal.org/dice/oai", "swepub_mods")
        run = store.start_run(s, source, "full", None, None)
        store.write_records(s, source.id, run.id, [_version(journal_article(), "oai:uu:1", "a" * 64)], [], [])
        rid = store.known_records(s, source.id, ["oai:uu:1"])["oai:uu:1"].id
        store.mark_deleted(s, [rid], run.id)
    with sessions() as s:
        record = store.get_record(s, "uu", "oai:uu:1")
        assert record.deleted and record.raw_xml
        assert rid in store.pending_dedup(s).record_ids  # its work loses it at the next refresh
        assert store.live_identifiers(s, source.id) == {}
        assert store.dedup_records(s, [rid]) == []


def test_a_refresh_deletes_only_the_queue_entries_it_read(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as s:
        source = store.add_source(s, "uu", "https://uu.diva-portal.org/dice/oai", "swepub_mods")
        run = store.start_run(s, source, "full", None, None)
        store.write_records(s, source.id, run.id, [_version(journal_article(), f"oai:uu:{n}", f"{n}" * 64)
                                                   for n in range(1, 6)], [], [])
    with sessions.begin() as s:
        pending = store.pending_dedup(s)
        assert len(pending.record_ids) == len(pending.entries) == 5
        # As if the third entry had not been committed when the refresh read the queue, and the
        # first record were queued again by a page committed after it:
        read = store.Pending(pending.record_ids, [e for i, e in enumerate(pending.entries) if i != 2])
        store.queue_for_dedup(s, [pending.record_ids[0]])
        store.mark_clustered(s, read)
    with sessions() as s:
        assert store.pending_dedup(s).record_ids == sorted([pending.record_ids[0], pending.record_ids[2]])


def test_migrations_match_the_models(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'migrated.sqlite3'}"
    migrate.upgrade(url)
    migrate.check(url)  # raises if harvest/models.py and migrations/versions disagree
