"""OpenSearch operations: the durable queue through an outage, alias swaps under load, the CLI.

Runs against osmem-server on a free local port (or OPENSEARCH_TEST_URL): the real opensearch-py
client over HTTP, no mock. The stand-in makes writes visible without a refresh; the code
refreshes where OpenSearch needs it anyway.
"""

from __future__ import annotations

import socket
import threading
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from repository import migrate
from repository.db import EXTENSION as DB_EXTENSION
from repository.db import session
from repository.demo import load_demo
from repository.models import SearchQueueItem
from repository.search import EXTENSION
from repository.search.opensearch import OpenSearchIndex, client_for
from repository.search.service import plan
from repository.services import records
from tests import factories
from tests.conftest import backends
from tests.unit.search.conftest import make_search_app, unique_alias


def dead_url() -> str:
    """An address where nothing listens: a port the OS just handed out and took back."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def os_app(tmp_path: Path, opensearch_url: str, request: pytest.FixtureRequest) -> Flask:
    """An app on a database of its own (SQLite, or the fresh PostgreSQL one when parametrised)."""
    url = request.getfixturevalue("fresh_database_url") if "fresh_database_url" in request.fixturenames \
        else f"sqlite:///{tmp_path / 'os.sqlite3'}"
    migrate.upgrade(url)
    app = make_search_app(url, tmp_path, opensearch_url, unique_alias())
    with app.app_context():
        index(app).ensure()
    return app


def index(app: Flask) -> OpenSearchIndex:
    return app.extensions[EXTENSION].external


def hits(app: Flask, q: str, **filters: Any) -> list[int]:
    return index(app).backend().search(plan(q, filters)).ids


def people() -> dict[str, Any]:
    uu = factories.institution()
    return {"submitter": factories.user("submitter", uu), "editor": factories.user("editor", uu)}


def publish(who: dict[str, Any], data: dict[str, Any]) -> int:
    pub = records.create_publication(who["submitter"], data)
    records.publish_now(who["editor"], pub.id, urn_prefix="urn:nbn:se")
    return pub.id


def queued() -> int:
    session.rollback()  # end this session's read snapshot: the queue is drained on other connections
    return session.scalar(select(func.count()).select_from(SearchQueueItem)) or 0


@pytest.mark.parametrize("fresh_database_url", backends(), indirect=True)
def test_a_commit_reaches_opensearch_after_it_is_durable(fresh_database_url: str, os_app: Flask) -> None:
    with os_app.app_context():
        who = people()
        pub = records.create_publication(who["submitter"], factories.article())
        assert hits(os_app, "ålgräsängar") == []
        records.publish_now(who["editor"], pub.id, urn_prefix="urn:nbn:se")
        assert hits(os_app, "ålgräsängar") == [pub.id]
        assert hits(os_app, "algrasangar") == [pub.id]  # folded for matching...
        stored = index(os_app).client.get(index=index(os_app).alias, id=str(pub.id))["_source"]
        assert stored["title"].startswith("Ålgräsängar i Östersjön")  # ...kept for display
        assert [c["roles"] for c in stored["contributors"]] == [["aut"], ["aut"]]
        assert queued() == 0
        records.withdraw(who["editor"], pub.id, "Duplicate.")
        assert hits(os_app, "ålgräsängar") == []


def test_an_outage_loses_nothing_and_the_queue_catches_up(os_app: Flask) -> None:
    live = index(os_app).client
    with os_app.app_context():
        who = people()
        index(os_app).client = client_for(dead_url(), timeout=2)
        first = publish(who, factories.article())
        second = publish(who, factories.doctoral_thesis())
        assert queued() >= 2  # the records are saved; their index operations wait
        waiting = session.scalars(select(SearchQueueItem)).all()
        assert {item.publication_id for item in waiting} == {first, second}
        assert all(item.attempts >= 1 and item.last_error for item in waiting)
        index(os_app).client = live
        assert hits(os_app, "ålgräsängar") == []
        index(os_app).drain(os_app.extensions[DB_EXTENSION].sessionmaker, due_only=False)
        assert queued() == 0
        assert hits(os_app, "ålgräsängar") == [first]
        assert hits(os_app, "proteinveckning") == [second]


def test_the_next_commit_pushes_what_an_outage_left_behind(os_app: Flask) -> None:
    live = index(os_app).client
    with os_app.app_context():
        who = people()
        index(os_app).client = client_for(dead_url(), timeout=2)
        first = publish(who, factories.article())
        index(os_app).client = live
        session.execute(SearchQueueItem.__table__.update().values(next_attempt_at=SearchQueueItem.enqueued_at))
        session.commit()
        second = publish(who, factories.doctoral_thesis())
        assert sorted(hits(os_app, "")) == sorted([first, second])
        assert queued() == 0


def test_reindex_swaps_the_alias_while_every_search_answers(os_app: Flask) -> None:
    with os_app.app_context():
        with os_app.extensions[DB_EXTENSION].engine.connect() as conn:
            load_demo(conn, 150)
            idx = index(os_app)
            idx.reindex(conn)
            total = idx.backend().search(plan("", {}, size=1)).total
            before = idx.current_indices()
            failures: list[BaseException] = []
            answers: list[int] = []
            stop = threading.Event()

            def searching() -> None:
                backend = idx.backend()
                while not stop.is_set():
                    try:
                        answers.append(backend.search(plan("", {}, size=5)).total)
                    except BaseException as exc:  # every failure is the test's finding
                        failures.append(exc)

            threads = [threading.Thread(target=searching) for _ in range(3)]
            for t in threads:
                t.start()
            try:
                for _ in range(3):
                    idx.reindex(conn)
            finally:
                stop.set()
                for t in threads:
                    t.join()
        after = idx.current_indices()
    assert not failures
    assert answers and set(answers) == {total}
    assert len(after) == 1 and after != before
    assert not [i for i in before if idx.client.indices.exists(index=i)]


def test_index_template_maps_folding_text_keywords_and_nested_contributors(os_app: Flask) -> None:
    idx = index(os_app)
    mapping = next(iter(idx.client.indices.get_mapping(index=idx.alias).values()))["mappings"]["properties"]
    assert mapping["contributors"]["type"] == "nested"
    assert mapping["title"]["fields"]["keyword"]["type"] == "keyword"
    assert mapping["unit"]["type"] == "keyword" and mapping["published_at"]["type"] == "date"
    tokens = idx.client.indices.analyze(index=idx.alias, body={"analyzer": "folding", "text": "Ålgräs i Östersjön"})
    assert [t["token"] for t in tokens["tokens"]] == ["algras", "i", "ostersjon"]


def test_cli_reindex_with_progress_and_sync(os_app: Flask) -> None:
    runner = os_app.test_cli_runner()
    with os_app.app_context():
        with os_app.extensions[DB_EXTENSION].engine.connect() as conn:
            load_demo(conn, 40)
    result = runner.invoke(args=["search", "reindex", "--batch-size", "15"])
    assert result.exit_code == 0, result.output
    assert "Embedded index" in result.output and "OpenSearch index" in result.output
    assert "public records of 40" in result.output
    with os_app.app_context():
        assert index(os_app).backend().search(plan("", {}, size=1)).total > 30
    result = runner.invoke(args=["search", "sync"])
    assert result.exit_code == 0 and "0 changes still queued" in result.output


def test_cli_reindex_of_the_embedded_index(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'e.sqlite3'}"
    migrate.upgrade(url)
    app = make_search_app(url, tmp_path)
    with app.app_context(), app.extensions[DB_EXTENSION].engine.connect() as conn:
        load_demo(conn, 30)
    result = app.test_cli_runner().invoke(args=["search", "reindex"])
    assert result.exit_code == 0, result.output
    assert "public records of 30" in result.output and "OpenSearch" not in result.output
    assert "no queue" in app.test_cli_runner().invoke(args=["search", "sync"]).output
