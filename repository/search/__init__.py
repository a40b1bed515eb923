"""Search: one service over the embedded index (SQLite FTS5 or PostgreSQL) or an OpenSearch cluster.

``init_app`` hooks the application's sessionmaker so every commit keeps the index in step, and
chooses the backend from ``SEARCH_URL``: empty for the embedded index of the database itself, an
``http(s)://`` address for OpenSearch. ``run`` answers a validated ``Plan`` with that backend.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from flask import Flask, current_app
from sqlalchemy.orm import Session

from repository.db import EXTENSION as DB_EXTENSION
from repository.search.embedded import EmbeddedBackend
from repository.search.postgres_fts import PostgresFtsBackend
from repository.search.service import Backend, Plan, SearchResult
from repository.search.sqlite_fts import SqliteFtsBackend

log = logging.getLogger(__name__)
EXTENSION = "hylla.search"


@dataclass
class SearchSetup:
    """The application's choice of backend; ``external`` is None for the embedded index."""

    external: object | None  # repository.search.opensearch.OpenSearchIndex


def embedded_backend(session: Session) -> EmbeddedBackend:
    dialect = session.get_bind().dialect.name
    return SqliteFtsBackend(session) if dialect == "sqlite" else PostgresFtsBackend(session)


def init_app(app: Flask) -> SearchSetup:
    from repository.search.indexer import watch

    database = app.extensions[DB_EXTENSION]
    external = None
    if app.config.get("SEARCH_URL"):
        from repository.search.opensearch import OpenSearchIndex

        external = OpenSearchIndex.from_config(app.config)
        index = external

        def push(ids: set[int]) -> None:
            index.drain(database.sessionmaker, ids)

        watch(database.sessionmaker, queue=True, after_commit=push)
    else:
        watch(database.sessionmaker, queue=False)
    setup = app.extensions[EXTENSION] = SearchSetup(external)
    return setup


def backend(session: Session) -> Backend:
    setup: SearchSetup = current_app.extensions[EXTENSION]
    if setup.external is not None:
        return setup.external.backend()  # type: ignore[attr-defined]
    return embedded_backend(session)


def run(session: Session, plan: Plan) -> SearchResult:
    return backend(session).search(plan)
