"""The Celery path for real: a worker consuming from the local Redis harvests live OAI-PMH test servers into SQLite.

Redis runs on 127.0.0.1:6379 here and on CI; these tests use a database number of their own
(TEST_REDIS_URL, default db 7) and flush it before and after. An unreachable Redis fails them:
the Celery path is only tested if a real broker carries the tasks.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from celery.contrib.testing.worker import start_worker
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from harvest import store, tasks
from harvest.models import HarvestBase, HarvestRun, Source
from repository.db import make_engine
from tests.harvest_server import OAITestServer, Reply, fixture, identify, wait_until

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/7")
# Celery 5.7 calls redis-py's deprecated setex when it stores a result; not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore:Call to deprecated setex:DeprecationWarning")


@pytest.fixture
def broker() -> Iterator[str]:
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.fail(f"Redis at {REDIS_URL} is unreachable ({exc}): the Celery tests need the real broker "
                    "(CI runs one on 127.0.0.1:6379)")
    client.flushdb()
    yield REDIS_URL
    client.flushdb()
    client.close()


@pytest.fixture
def database(tmp_path: Path) -> Iterator[tuple[str, sessionmaker[Session]]]:
    url = f"sqlite:///{tmp_path / 'national.sqlite3'}"
    engine = make_engine(url)
    HarvestBase.metadata.create_all(engine)
    yield url, sessionmaker(bind=engine, expire_on_commit=False)
    engine.dispose()


@pytest.fixture
def worker(broker: str, database: tuple[str, sessionmaker[Session]]) -> Iterator[sessionmaker[Session]]:
    url, sessions = database
    app = tasks.configure(broker_url=broker, database_url=url)
    with start_worker(app, pool="threads", concurrency=2, perform_ping_check=False, loglevel="WARNING",
                      shutdown_timeout=30):
        yield sessions


def _sources(sessions: sessionmaker[Session], server: OAITestServer, **schedules: str | None) -> None:
    with sessions.begin() as s:
        for name, schedule in schedules.items():
            store.add_source(s, name, server.url, "swepub_mods", set_spec=name, schedule=schedule)


def _diva(server: OAITestServer, *, delay: float = 0.0) -> None:
    """Three DiVA records for any listing (full or incremental, any set), each page ``delay`` seconds slow."""
    server.route({"verb": "Identify"}, identify())
    page = Reply(fixture("swepub-redux/obsolete-test-listrecords.xml"), delay=delay)
    server.fallback = lambda params: page if params.get("verb") == "ListRecords" else Reply(b"", status=404)


def _succeeded(sessions: sessionmaker[Session]) -> list[str]:
    with sessions() as s:
        return sorted(s.scalars(select(Source.name).join(HarvestRun).where(HarvestRun.status == "succeeded")))


def test_each_source_is_a_task_of_the_worker_pool(worker: sessionmaker[Session], oai_server: OAITestServer) -> None:
    _diva(oai_server)
    _sources(worker, oai_server, kth=None, uu=None)
    results = [tasks.harvest_source_task.delay(name) for name in ("kth", "uu")]
    reports = [r.get(timeout=60) for r in results]
    assert [(r["source"], r["status"], r["counts"]["added"]) for r in reports] == [
        ("kth", "succeeded", 3), ("uu", "succeeded", 3)]
    assert tasks.harvest_all.delay().get(timeout=30) == ["kth", "uu"]  # queued, each its own task again
    assert wait_until(lambda: _succeeded(worker) == ["kth", "kth", "uu", "uu"], timeout=60)
    with worker() as s:
        assert s.scalar(select(func.count()).select_from(Source).where(Source.lock_owner.is_not(None))) == 0


def test_a_source_is_harvested_by_one_worker_at_a_time(worker: sessionmaker[Session],
                                                      oai_server: OAITestServer) -> None:
    _diva(oai_server, delay=1.5)  # slow pages: the second task arrives while the first still harvests
    _sources(worker, oai_server, kth=None)
    first, second = tasks.harvest_source_task.delay("kth"), tasks.harvest_source_task.delay("kth")
    statuses = sorted(r.get(timeout=60)["status"] for r in (first, second))
    assert statuses == ["busy", "succeeded"]
    with worker() as s:
        assert s.scalar(select(func.count()).select_from(HarvestRun)) == 1


def test_a_lease_held_elsewhere_makes_the_task_busy(worker: sessionmaker[Session], oai_server: OAITestServer) -> None:
    _diva(oai_server)
    _sources(worker, oai_server, kth=None)
    with worker.begin() as s:
        assert store.take_lease(s, "kth", "cron@other-host", dt.timedelta(minutes=5))
    busy = tasks.harvest_source_task.delay("kth").get(timeout=30)
    assert busy["status"] == "busy" and "cron@other-host" in busy["message"]
    with worker.begin() as s:
        s.execute(Source.__table__.update().values(lock_expires=dt.datetime(2000, 1, 1, tzinfo=dt.UTC)))  # the other host died
    assert tasks.harvest_source_task.delay("kth").get(timeout=60)["status"] == "succeeded"


def test_beat_dispatch_queues_the_sources_due_this_minute(worker: sessionmaker[Session],
                                                         oai_server: OAITestServer) -> None:
    _diva(oai_server)
    _sources(worker, oai_server, kth="30 2 * * *", uu="*/15 * * * 1-5")
    assert tasks.dispatch_due.delay("2024-05-06T02:30:00+00:00").get(timeout=30) == ["kth", "uu"]  # a Monday
    assert tasks.dispatch_due.delay("2024-05-05T02:30:00+00:00").get(timeout=30) == ["kth"]  # a Sunday
    assert tasks.dispatch_due.delay("2024-05-06T02:31:00+00:00").get(timeout=30) == []

    assert wait_until(lambda: _succeeded(worker) == ["kth", "kth", "uu"], timeout=60)
