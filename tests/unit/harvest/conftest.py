"""Fixtures for the harvester: a live OAI-PMH test server, quick client settings and databases.

The store tests run on SQLite always and also on PostgreSQL when TEST_DATABASE_URL names one; on
CI (CI=true) a missing or unreachable PostgreSQL fails the run instead of silently shrinking it.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, make_url, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from harvest.client import ClientSettings, HostRateLimiter
from harvest.models import HarvestBase
from repository.db import make_engine
from tests.harvest_server import OAITestServer, running

QUICK = ClientSettings(timeout=2.0, retries=2, backoff=0.01, backoff_cap=0.05, retry_after_cap=0.2,
                       min_interval=0.0, page_retries=1)


@pytest.fixture
def oai_server() -> Iterator[OAITestServer]:
    with running() as server:
        yield server


@pytest.fixture
def quick() -> ClientSettings:
    return QUICK


@pytest.fixture
def limiter() -> HostRateLimiter:
    return HostRateLimiter()


def _postgres_url() -> str | None:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url
    if os.environ.get("CI") == "true":
        pytest.fail("CI=true but TEST_DATABASE_URL is not set: the harvest store must be tested on PostgreSQL")
    return None


def _backends() -> list[str]:
    """PostgreSQL joins when asked for, or always on CI, where its absence must fail rather than vanish."""
    wanted = os.environ.get("TEST_DATABASE_URL") or os.environ.get("CI") == "true"
    return ["sqlite", "postgresql"] if wanted else ["sqlite"]


@pytest.fixture(params=_backends())
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A fresh harvest schema on SQLite (a file in tmp_path) or on the PostgreSQL of TEST_DATABASE_URL.

    On PostgreSQL the tables go into a schema of their own (via the connection's search_path), so
    creating and dropping them never touches the tables other tests migrate into the same database.
    """
    if request.param == "sqlite":
        eng = make_engine(f"sqlite:///{tmp_path / 'harvest.sqlite3'}")
        HarvestBase.metadata.create_all(eng)
        yield eng
        eng.dispose()
        return
    url = _postgres_url()
    assert url is not None, "the postgresql parameter exists only when TEST_DATABASE_URL is set or on CI"
    schema = f"harvest_test_{uuid.uuid4().hex[:12]}"
    admin = make_engine(url)
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except OperationalError as exc:
        pytest.fail(f"TEST_DATABASE_URL is set but PostgreSQL is unreachable: {exc}")
    eng = make_engine(make_url(url).update_query_dict({"options": f"-csearch_path={schema}"})
                      .render_as_string(hide_password=False))
    try:
        HarvestBase.metadata.create_all(eng)
        yield eng
    finally:
        eng.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    """SQLite only, for the tests of network behaviour where the backend is beside the point."""
    eng = make_engine(f"sqlite:///{tmp_path / 'harvest.sqlite3'}")
    HarvestBase.metadata.create_all(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)
