"""One run per source at a time, whoever starts it: the lease on the source's row, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from harvest import store
from harvest.client import ClientSettings
from harvest.models import HarvestRun, Source
from harvest.run import HarvestOptions, Progress, harvest_source
from tests.harvest_server import OAITestServer, identify

MINUTE = dt.timedelta(minutes=1)


def _sickle(server: OAITestServer) -> None:
    server.route({"verb": "Identify"}, identify())
    server.route({"verb": "ListRecords", "metadataPrefix": "oai_dc"}, "sickle/ListRecords.xml")
    for n in (2, 3, 4):
        server.route({"verb": "ListRecords", "resumptionToken": f"ListRecords{n}.xml"}, f"sickle/ListRecords{n}.xml")


def test_a_lease_is_held_by_one_owner_until_it_expires(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as s:
        store.add_source(s, "kth", "https://kth.diva-portal.org/dice/oai", "swepub_mods")
    with sessions.begin() as s:
        assert store.take_lease(s, "kth", "cron@a", MINUTE)
    with sessions.begin() as s:
        assert not store.take_lease(s, "kth", "worker@b", MINUTE)
        assert store.take_lease(s, "kth", "cron@a", MINUTE)  # the holder may renew
        holder = store.lease_holder(s, s.scalar(select(Source.id)))
        assert holder is not None and holder[0] == "cron@a"
    with sessions.begin() as s:
        s.execute(Source.__table__.update().values(lock_expires=dt.datetime(2000, 1, 1, tzinfo=dt.UTC)))
    with sessions.begin() as s:
        assert store.take_lease(s, "kth", "worker@b", MINUTE)  # cron@a died: its lease ran out
        assert not store.take_lease(s, "nowhere", "worker@b", MINUTE)
    with sessions.begin() as s:
        store.release_lease(s, s.scalar(select(Source.id)), "cron@a")  # not the holder: nothing happens
        assert store.lease_holder(s, s.scalar(select(Source.id)))[0] == "worker@b"  # type: ignore[index]


def test_a_second_harvest_of_a_held_source_is_refused_and_records_nothing(
        sessions: sessionmaker[Session], oai_server: OAITestServer, quick: ClientSettings) -> None:
    _sickle(oai_server)
    with sessions.begin() as s:
        store.add_source(s, "src", oai_server.url, "oai_dc")
        store.take_lease(s, "src", "worker@elsewhere", MINUTE)
    with pytest.raises(store.SourceBusy, match="being harvested by worker@elsewhere until"):
        harvest_source(sessions, "src", HarvestOptions(client=quick))
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(HarvestRun)) == 0
    assert oai_server.requests == []


def test_a_run_that_loses_its_lease_stops_and_leaves_the_run_to_the_new_holder(
        sessions: sessionmaker[Session], oai_server: OAITestServer, quick: ClientSettings) -> None:
    _sickle(oai_server)
    with sessions.begin() as s:
        store.add_source(s, "src", oai_server.url, "oai_dc")

    def taken_over(progress: Progress) -> None:
        if progress.pages == 2:  # this run stalled past its lease and another harvester took the source
            with sessions.begin() as s:
                s.execute(Source.__table__.update().values(lock_owner="worker@b",
                                                           lock_expires=dt.datetime.now(dt.UTC) + MINUTE))

    report = harvest_source(sessions, "src", HarvestOptions(client=quick), on_page=taken_over)
    assert report.status == "interrupted" and (report.message or "").startswith("lease_lost:")
    with sessions() as s:
        run = s.get_one(HarvestRun, report.run_id)
        source = s.scalars(select(Source)).one()
        assert (run.status, run.pages, source.checkpoint_pages, source.lock_owner) == ("running", 2, 2, "worker@b")
    with sessions.begin() as s:
        store.release_lease(s, source.id, "worker@b")
    resumed = harvest_source(sessions, "src", HarvestOptions(client=quick))
    assert resumed.run_id == report.run_id and resumed.status == "succeeded" and resumed.pages == 4


def test_every_finished_run_releases_its_lease(sessions: sessionmaker[Session], oai_server: OAITestServer,
                                               quick: ClientSettings) -> None:
    oai_server.route({"verb": "Identify"}, identify())
    with sessions.begin() as s:
        store.add_source(s, "src", oai_server.url, "oai_dc")
    cut = harvest_source(sessions, "src", HarvestOptions(client=quick))  # no ListRecords route: HTTP 404
    assert cut.status == "interrupted" and (cut.message or "").startswith("http_404:")
    with sessions() as s:
        assert s.scalars(select(Source)).one().lock_owner is None
