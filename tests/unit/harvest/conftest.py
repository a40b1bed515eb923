"""Fixtures for the harvester: a live OAI-PMH test server, quick client settings and databases.

The store tests run on SQLite always and also on PostgreSQL when TEST_DATABASE_URL names one; on
CI (CI=true) a missing or unreachable PostgreSQL fails the run instead of silently shrinking it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
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
    """A fresh harvest schema on SQLite (a file in tmp_path) or on the PostgreSQL of TEST_DATABASE_URL."""
    if request.param == "sqlite":
        eng = make_engine(f"sqlite:///{tmp_path / 'harvest.sqlite3'}")
    else:
        url = _postgres_url()
        assert url is not None, "the postgresql parameter exists only when TEST_DATABASE_URL is set or on CI"
        eng = make_engine(url)
        try:
            with eng.connect() as conn:
                conn.execute(text("SELECT 1"))
        except OperationalError as exc:
            pytest.fail(f"TEST_DATABASE_URL is set but PostgreSQL is unreachable: {exc}")
        HarvestBase.metadata.drop_all(eng)
    HarvestBase.metadata.create_all(eng)
    try:
        yield eng
    finally:
        HarvestBase.metadata.drop_all(eng)
        eng.dispose()


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
