"""A large list streams: the body comes in many pieces while memory stays at a chunk of records, not the list.

The app here runs as in production (no application context held open by the test), so the
request's own session is closed before the body is sent, exactly as Flask does after a view
returns: the stream must live on its own session.
"""

from __future__ import annotations

import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from dataclasses import dataclass

from flask.testing import FlaskClient
from sqlalchemy import func, select

from repository import create_app, migrate
from repository.db import database, make_engine, session
from repository.models import OrgUnit, Publication
from repository.services import exports as service
from repository.demo import load_demo
from repository.web.exports import BUFFER_BYTES
from tests.unit.web_exports.parsing import titles

from tests.conftest import backends

RECORDS = 1000
CHUNK = 5


@pytest.fixture
def demo_app(fresh_database_url: str, tmp_path: Path) -> Iterator[Flask]:
    migrate.upgrade(fresh_database_url)
    engine = make_engine(fresh_database_url)
    try:
        with engine.connect() as conn:
            load_demo(conn, RECORDS)
    finally:
        engine.dispose()
    app = create_app({"TESTING": True, "DATABASE_URL": fresh_database_url, "INSTANCE_PATH": str(tmp_path),
                      "SECRET_KEY": "test", "FILES_ROOT": str(tmp_path / "files"), "BASE_URL": "http://hylla.test",
                      "OAI_ID_NAMESPACE": "hylla.test", "WTF_CSRF_ENABLED": False})
    yield app
    with app.app_context():
        database().engine.dispose()


@dataclass(frozen=True)
class Streamed:
    pieces: int
    size: int
    peak: int  # the most memory Python held at once while the body was read


def stream(client: FlaskClient, url: str) -> Streamed:
    """Read a download piece by piece, as a WSGI server sends it, keeping none of it."""
    tracemalloc.start()
    try:
        response = client.get(url)
        assert response.status_code == 200 and response.is_streamed
        pieces = size = 0
        for piece in response.response:
            pieces += 1
            size += len(piece)
        response.close()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return Streamed(pieces, size, peak)


@pytest.mark.slow
@pytest.mark.parametrize("fresh_database_url", backends(), indirect=True)
def test_a_long_list_streams_in_pieces_with_flat_memory(demo_app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    """Six times the records, six times the bytes, the same memory: it is the chunk that costs, not the list.

    A small chunk size makes a chunk's worth of ORM objects small beside the output; the
    default (``CHUNK_SIZE``) trades memory for fewer queries the same way at any list length.
    """
    monkeypatch.setattr(service, "CHUNK_SIZE", CHUNK)
    client = demo_app.test_client()
    with demo_app.app_context():
        department = session.scalars(
            select(OrgUnit.id).where(OrgUnit.path == "uu:teknat:kemi")).one()
        sizes = {url: service.count(lst) for url, lst in (
            (f"/units/{department}/export/mods", service.unit_list(department)),
            ("/institutions/uu/export/mods", service.institution_list("uu")))}
    # The whole list, each public record once (the demo holds drafts and withdrawn records too); this
    # also compiles the institution query and loads the writers, which later requests reuse.
    found = titles("csl-json", client.get("/institutions/kth/export/csl-json").data, many=True)
    with demo_app.app_context():
        expected = service.count(service.institution_list("kth"))
        hidden = session.scalar(select(func.count()).select_from(Publication).where(Publication.state != "published"))
    assert len(found) == expected > RECORDS // 4 and hidden
    short_url = next(iter(sizes))
    assert len(titles("mods", client.get(short_url).data, many=True)) == sizes[short_url]
    short, long = (stream(client, url) for url in sizes)
    counts = list(sizes.values())
    assert counts[1] > 4 * counts[0] > 4 * CHUNK
    assert long.size > 4 * short.size and long.pieces > long.size // (2 * BUFFER_BYTES) > 5
    # Records differ (one author or twenty-five), so chunks do too: a list six times as long may meet a
    # heavier chunk, never a six times heavier one (holding the list would cost some 20 times more).
    assert long.peak < 2 * short.peak, (short, long)
    assert long.peak < long.size / 2, (short, long)

