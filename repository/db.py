"""Engine and session setup: one engine per application, one session per request or CLI command."""

from __future__ import annotations

from typing import Any

import orjson
from flask import Flask, current_app, g
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.local import LocalProxy

from exports.jsontext import json_text

EXTENSION = "hylla.db"
SQLITE_CACHE_KIB = 64 * 1024  # per connection
# Pages the WAL may hold before a commit copies them into the database (SQLite's default: 1,000,
# 4 MiB). A harvested page of 500 records commits about that much, so nearly every commit also
# checkpointed, with two fsyncs under synchronous=NORMAL; 40 MiB checkpoints every dozen pages.
SQLITE_WAL_AUTOCHECKPOINT_PAGES = 10_000


class Database:
    """The engine and the session factory of one application instance."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.engine = make_engine(url, echo=echo)
        self.sessionmaker = sessionmaker(bind=self.engine, expire_on_commit=False)


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """An engine with the settings Hylla relies on on each backend.

    SQLite gets foreign keys, WAL (readers do not block the writer) and SQLAlchemy's documented
    pysqlite recipe so that BEGIN and SAVEPOINT behave as on PostgreSQL. JSON columns go through
    orjson (``exports.jsontext``): a harvest writes, and a dedup refresh reads back, several JSON documents per record,
    and the standard library's encoder and decoder were a fifth of a refresh's time.
    """
    kwargs: dict[str, Any] = {"echo": echo, "json_serializer": json_text, "json_deserializer": orjson.loads}
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
    else:
        kwargs["pool_pre_ping"] = True
    engine = create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        _configure_sqlite(engine)
    return engine


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # let SQLAlchemy emit BEGIN itself
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA wal_autocheckpoint={SQLITE_WAL_AUTOCHECKPOINT_PAGES}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        # Pages are taken as they are read, so an idle connection costs nothing; SQLite's default
        # (2 MiB) makes every insert into a large index read its pages from the OS again.
        cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN")


def init_app(app: Flask) -> Database:
    database = Database(app.config["DATABASE_URL"], echo=app.config.get("SQL_ECHO", False))
    app.extensions[EXTENSION] = database
    app.teardown_appcontext(_close_session)
    return database


def database() -> Database:
    return current_app.extensions[EXTENSION]


def get_session() -> Session:
    """The session of the current request or command, created on first use."""
    if "db_session" not in g:
        g.db_session = database().sessionmaker()
    return g.db_session


def _close_session(_exc: BaseException | None) -> None:
    sess = g.pop("db_session", None)
    if sess is not None:
        sess.close()


session: Session = LocalProxy(get_session)  # type: ignore[assignment]
