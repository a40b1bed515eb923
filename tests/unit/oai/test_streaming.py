"""The response is streamed a few records at a time, with flat memory, and compressed when the client asks for it."""

from __future__ import annotations

import gzip
import tracemalloc
import zlib

import pytest
from flask import Flask
from flask.testing import FlaskClient

from repository.oai import writer
from tests.unit.oai.conftest import World, identifiers, parse


def test_a_page_is_streamed_a_few_records_at_a_time(client: FlaskClient, world: World,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(writer, "RECORDS_PER_CHUNK", 2)
    response = client.get("/oai?verb=ListRecords&metadataPrefix=mods", buffered=False)
    assert response.is_streamed
    chunks = [chunk for chunk in response.response if chunk]
    # the envelope's opening, then a chunk per two records, then the seventh with the closing tags
    assert len(chunks) == 5
    assert b"<responseDate>" in chunks[0] and b"<record>" not in chunks[0]
    assert [chunk.count(b"<record>") for chunk in chunks[1:]] == [2, 2, 2, 1]
    assert chunks[-1].endswith(b"</OAI-PMH>")
    assert identifiers(parse(b"".join(chunks))) == [world.oai(n) for n in (
        "article", "thesis", "student", "withdrawn", "no_content", "greek", "kth")]


def _peak_while_streaming(demo_app: Flask, page_size: int) -> tuple[int, int, int]:
    """(peak bytes allocated while the body is written, largest chunk, records) for one page."""
    demo_app.config["OAI_PAGE_SIZE_RECORDS"] = page_size
    try:
        with demo_app.test_client() as client:
            response = client.get("/oai?verb=ListRecords&metadataPrefix=mods", buffered=False)
            body = iter(response.response)
            first = next(body)  # every query has run before the first byte
            largest, records = len(first), 0
            tracemalloc.start()
            try:
                for chunk in body:  # what a server does: send each chunk and let it go
                    largest, records = max(largest, len(chunk)), records + chunk.count(b"<record>")
                _, peak = tracemalloc.get_traced_memory()
            finally:
                tracemalloc.stop()
            response.close()
    finally:
        demo_app.config["OAI_PAGE_SIZE_RECORDS"] = 40
    return peak, largest, records


def test_memory_does_not_grow_with_the_page_size(demo_app: Flask) -> None:
    _peak_while_streaming(demo_app, 10)  # first use loads vocabularies and schemas: not per-page memory
    small_peak, small_chunk, small_records = _peak_while_streaming(demo_app, 10)
    large_peak, large_chunk, large_records = _peak_while_streaming(demo_app, 200)
    assert (small_records, large_records) == (10, 200)
    # writing 20 times as many records needs no more memory at a time (slack for allocator noise)
    assert large_peak < 2 * small_peak + 256 * 1024, (small_peak, large_peak)
    assert large_chunk < 3 * small_chunk + 16 * 1024  # no chunk holds more than a record or so


@pytest.mark.parametrize(("accept", "encoding"), [
    ("gzip", "gzip"), ("deflate", "deflate"), ("gzip, deflate", "gzip"), ("deflate, gzip;q=0.5", "deflate"),
    ("identity", None), ("gzip;q=0, deflate;q=0", None), ("gzip;q=0.5, identity", None), ("*", "gzip"),
    ("br", None), (None, None),
])
def test_compression_follows_accept_encoding(client: FlaskClient, world: World, accept: str | None,
                                             encoding: str | None) -> None:
    headers = {"Accept-Encoding": accept} if accept is not None else {}
    response = client.get("/oai?verb=ListRecords&metadataPrefix=oai_dc", headers=headers)
    assert response.status_code == 200
    assert response.headers.get("Content-Encoding") == encoding
    assert "Accept-Encoding" in response.headers["Vary"]
    data = response.get_data()
    body = gzip.decompress(data) if encoding == "gzip" else zlib.decompress(data) if encoding == "deflate" else data
    assert len(identifiers(parse(body))) == 7
