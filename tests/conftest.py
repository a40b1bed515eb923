"""Shared fixtures: a migrated database per backend, an app bound to a rolled-back transaction.

Every test that uses ``app`` runs on SQLite and, when TEST_DATABASE_URL names a PostgreSQL
database, on PostgreSQL too. Migrations run once per backend; each test runs inside a
transaction that is rolled back afterwards (SQLAlchemy's "join a session into an external
transaction" recipe), so services may commit freely.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import Connection, create_engine, event, text
from sqlalchemy.engine import make_url

from repository import create_app, migrate
from repository.db import EXTENSION, make_engine

PG_URL = os.environ.get("TEST_DATABASE_URL", "")
IN_CI = os.environ.get("CI", "").lower() == "true"


def pytest_configure(config: pytest.Config) -> None:
    if IN_CI and not PG_URL:
        raise pytest.UsageError("CI=true but TEST_DATABASE_URL is not set: the PostgreSQL tests must run in CI")


def backends() -> list[str]:
    return ["sqlite", "postgresql"] if PG_URL else ["sqlite"]


def reset_postgresql(url: str) -> None:
    """Empty the test database (its public schema) so migrations start from nothing."""
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    finally:
        engine.dispose()


@pytest.fixture(scope="session", params=backends())
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A database migrated to head, once per backend for the whole run."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
    else:
        url = PG_URL
        reset_postgresql(url)  # unreachable PostgreSQL fails here: an error, never a skip
    migrate.upgrade(url)
    return url


@pytest.fixture(scope="session")
def base_app(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Flask:
    instance = tmp_path_factory.mktemp("instance")
    return create_app({
        "TESTING": True,
        "DATABASE_URL": database_url,
        "INSTANCE_PATH": str(instance),
        "SECRET_KEY": "test-secret-key",
        "FILES_ROOT": str(instance / "files"),
        "BASE_URL": "http://hylla.test",
        "OAI_ID_NAMESPACE": "hylla.test",
        "REPOSITORY_NAME": "Hylla Test",
        "WTF_CSRF_ENABLED": False,
        "SERVER_NAME": None,
    })


@pytest.fixture
def connection(base_app: Flask) -> Iterator[Connection]:
    """A connection in an open transaction that is rolled back after the test."""
    database = base_app.extensions[EXTENSION]
    conn = database.engine.connect()
    outer = conn.begin()
    database.sessionmaker.configure(bind=conn, join_transaction_mode="create_savepoint")
    try:
        yield conn
    finally:
        database.sessionmaker.configure(bind=database.engine, join_transaction_mode="conservative_savepoint")
        if outer.is_active:
            outer.rollback()
        conn.close()


@pytest.fixture
def app(base_app: Flask, connection: Connection, tmp_path: Path) -> Iterator[Flask]:
    base_app.config["FILES_ROOT"] = str(tmp_path / "files")
    with base_app.app_context():
        yield base_app


@pytest.fixture
def client(app: Flask):  # type: ignore[no-untyped-def]
    return app.test_client()


@pytest.fixture
def db_session(app: Flask):  # type: ignore[no-untyped-def]
    from repository.db import session

    return session


class StatementCounter:
    """Counts the SQL statements sent on a connection, to keep N+1 queries out of pages."""

    def __init__(self) -> None:
        self.statements: list[str] = []

    def __call__(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")):
            self.statements.append(statement)

    @property
    def count(self) -> int:
        return len(self.statements)


@pytest.fixture
def count_statements(connection: Connection) -> Iterator[StatementCounter]:
    counter = StatementCounter()
    event.listen(connection, "before_cursor_execute", counter)
    try:
        yield counter
    finally:
        event.remove(connection, "before_cursor_execute", counter)


def backend_name(url: str) -> str:
    return make_url(url).get_backend_name()


def create_postgresql_database(suffix: str) -> str:
    """The URL of a new, empty PostgreSQL database named after TEST_DATABASE_URL's plus ``suffix``
    (one left behind by an interrupted run is dropped first)."""
    base = make_url(PG_URL)
    name = f"{base.database}_{suffix}"
    _administer(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"')
    return base.set(database=name).render_as_string(hide_password=False)


def drop_postgresql_database(url: str) -> None:
    """Drop a database ``create_postgresql_database`` made (nothing for SQLite URLs)."""
    if make_url(url).get_backend_name() == "postgresql":
        _administer(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')


def _administer(*statements: str) -> None:
    admin = make_engine(str(make_url(PG_URL).set(database="postgres")))
    try:
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            for statement in statements:
                conn.execute(text(statement))
    finally:
        admin.dispose()


@pytest.fixture
def fresh_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of its own (for migration and live-server tests), per backend."""
    backend = getattr(request, "param", "sqlite")
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
        return
    url = create_postgresql_database("fresh")
    try:
        yield url
    finally:
        drop_postgresql_database(url)
