"""Uploads over HTTP: streamed multipart into the store, limits, cut-off bodies, CSRF, names and types."""

from __future__ import annotations

import hashlib
import http.client
import io
import os
import re
import socket
import threading
import time
import tracemalloc
from collections.abc import Iterator
from http.cookies import SimpleCookie

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.serving import make_server

from repository.db import session
from repository.models import StoredFile
from repository.storage import FileStore
from tests import factories
from tests.unit.files.conftest import PDF, PNG, World, log_in, multipart, row_count, stored_paths


def post_file(client: FlaskClient, pub_id: int, data: bytes, filename: str, content_type: str = "application/pdf",
              json: bool = False, **fields: str):  # type: ignore[no-untyped-def]
    body = {"file": (io.BytesIO(data), filename, content_type), **fields}
    headers = {"Accept": "application/json"} if json else {}
    return client.post(f"/publications/{pub_id}/files", data=body, headers=headers, content_type="multipart/form-data")


def test_a_form_upload_lands_in_the_store_with_a_safe_name_and_the_real_type(
        client: FlaskClient, world: World, store: FileStore) -> None:
    log_in(client, world["owner"])
    response = post_file(client, world.draft.id, PDF, "../../etc/Ålgräs\x07.pdf", content_type="text/html",
                         role="fulltext", access="embargoed", embargo_until="2030-06-01", version="accepted",
                         licence="https://creativecommons.org/licenses/by/4.0/", next="/publications/1?step=files")
    assert response.status_code == 303 and response.headers["Location"] == "/publications/1?step=files"
    row = session.query(StoredFile).one()
    assert (row.original_filename, row.mime_type, row.access, row.embargo_until.isoformat(), row.version) == (
        "Ålgräs.pdf", "application/pdf", "embargoed", "2030-06-01", "accepted")
    assert store.path_for(row.sha256).read_bytes() == PDF
    assert stored_paths(store.root) == [store.path_for(row.sha256)]


def test_scripts_get_json_and_an_open_redirect_is_refused(client: FlaskClient, world: World) -> None:
    log_in(client, world["owner"])
    response = post_file(client, world.draft.id, PNG, "figur.png", json=True, role="supplementary")
    assert response.status_code == 201
    body = response.get_json()
    assert body["filename"] == "figur.png" and body["mime_type"] == "image/png" and body["size"] == len(PNG)
    assert response.headers["Location"] == body["url"] == f"http://hylla.test/files/{body['id']}/figur.png"
    redirected = post_file(client, world.draft.id, PDF, "a.pdf", next="//evil.example/phish")
    assert redirected.headers["Location"] == f"/publications/{world.draft.id}"


def test_bad_terms_are_a_clear_error_and_store_nothing(client: FlaskClient, world: World, store: FileStore) -> None:
    log_in(client, world["owner"])
    response = post_file(client, world.draft.id, PDF, "a.pdf", access="embargoed", embargo_until="1 June")
    assert response.status_code == 400 and "YYYY-MM-DD" in response.get_data(as_text=True)
    assert post_file(client, world.draft.id, PDF, "a.pdf", role="poster").status_code == 400
    missing = client.post(f"/publications/{world.draft.id}/files", data={"role": "fulltext"},
                          content_type="multipart/form-data")
    assert missing.status_code == 400 and "choose a file" in missing.get_data(as_text=True)
    assert row_count(StoredFile) == 0 and stored_paths(store.root) == []


def test_over_the_limit_is_413_with_nothing_stored(
        app: Flask, client: FlaskClient, world: World, store: FileStore, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(app.config, "MAX_UPLOAD_BYTES", 4096)
    log_in(client, world["owner"])
    response = post_file(client, world.draft.id, b"%PDF-1.4\n" + b"0" * 10_000, "big.pdf")
    assert response.status_code == 413
    assert "larger than the limit of 4.0 kB; nothing was stored" in response.get_data(as_text=True)
    huge = post_file(client, world.draft.id, b"0" * (2 * 1024 * 1024), "huge.pdf", json=True)
    assert huge.status_code == 413 and huge.mimetype == "application/problem+json"
    assert row_count(StoredFile) == 0 and stored_paths(store.root) == []


def test_a_body_cut_off_halfway_leaves_nothing(client: FlaskClient, world: World, store: FileStore) -> None:
    log_in(client, world["owner"])
    body, content_type = multipart({"role": "fulltext"}, "half.pdf", PDF * 50)
    response = client.post(f"/publications/{world.draft.id}/files", input_stream=io.BytesIO(body[:len(body) // 2]),
                           content_length=len(body), content_type=content_type)
    assert response.status_code == 400 and "did not arrive whole" in response.get_data(as_text=True)
    unterminated = body[:-len(b"--hyllaBoundary7MA4YWxkTrZu0gW--\r\n")]
    response = client.post(f"/publications/{world.draft.id}/files", data=unterminated, content_type=content_type)
    assert response.status_code == 400
    assert row_count(StoredFile) == 0 and stored_paths(store.root) == []


def test_only_editors_of_the_record_may_upload(client: FlaskClient, world: World, store: FileStore) -> None:
    assert post_file(client, world.draft.id, PDF, "a.pdf").status_code == 403  # anonymous
    log_in(client, world["other"])
    assert post_file(client, world.draft.id, PDF, "a.pdf").status_code == 404  # someone else's draft
    assert post_file(client, world.published.id, PDF, "a.pdf").status_code == 403
    assert row_count(StoredFile) == 0 and stored_paths(store.root) == []


def test_the_csrf_token_is_required(app: Flask, client: FlaskClient, world: World, store: FileStore,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    home = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', home)
    assert token is not None
    client.post("/login", data={"email": world["owner"].email, "password": factories.PASSWORD,
                                "csrf_token": token.group(1)})
    page = client.get("/").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token is not None
    forged = post_file(client, world.draft.id, PDF, "a.pdf", csrf_token="forged")
    assert forged.status_code == 403 and "security token" in forged.get_data(as_text=True)
    assert row_count(StoredFile) == 0 and stored_paths(store.root) == []
    header = client.post(f"/publications/{world.draft.id}/files", data={"file": (io.BytesIO(PDF), "a.pdf")},
                         headers={"X-CSRFToken": "forged"}, content_type="multipart/form-data")
    assert header.status_code == 403
    assert post_file(client, world.draft.id, PDF, "a.pdf", csrf_token=token.group(1)).status_code == 303
    assert row_count(StoredFile) == 1


def test_replace_terms_and_delete_endpoints(client: FlaskClient, world: World, store: FileStore) -> None:
    log_in(client, world["owner"])
    created = post_file(client, world.draft.id, PDF, "a.pdf", json=True).get_json()
    replaced = client.post(f"/files/{created['id']}/replace", data={"file": (io.BytesIO(PNG), "b.png")},
                           headers={"Accept": "application/json"}, content_type="multipart/form-data")
    assert replaced.status_code == 200 and replaced.get_json()["mime_type"] == "image/png"
    terms = client.post(f"/files/{created['id']}/terms", data={"access": "restricted"},
                        headers={"Accept": "application/json"})
    assert terms.status_code == 200 and terms.get_json()["access"] == "restricted"
    deleted = client.post(f"/files/{created['id']}/delete")
    assert deleted.status_code == 303 and deleted.headers["Location"] == f"/publications/{world.draft.id}"
    assert row_count(StoredFile) == 0 and stored_paths(store.root) == []


class Chunks(io.RawIOBase):
    """A request body produced on the fly, so the test itself holds no copy of it.

    werkzeug's test client measures a body by seeking to its end and back before reading it;
    this stream only pretends to seek, which is all that measuring needs.
    """

    def __init__(self, head: bytes, size: int, tail: bytes) -> None:
        self.parts: Iterator[bytes] = iter([head, *self._filler(size), tail])
        self.pending = b""
        self.length, self.position = len(head) + size + len(tail), 0

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        self.position = self.length + offset if whence == io.SEEK_END else offset
        return self.position

    @staticmethod
    def _filler(size: int) -> Iterator[bytes]:
        block = b"%PDF-1.4\n" + b"x" * (1024 * 1024 - 9)
        for start in range(0, size, len(block)):
            yield block[:min(len(block), size - start)]

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray) -> int:  # type: ignore[override]
        while not self.pending:
            try:
                self.pending = next(self.parts)
            except StopIteration:
                return 0
        n = min(len(buffer), len(self.pending))
        buffer[:n], self.pending = self.pending[:n], self.pending[n:]
        return n


def test_a_large_upload_streams_in_flat_memory(client: FlaskClient, world: World, store: FileStore) -> None:
    log_in(client, world["owner"])
    size = 48 * 1024 * 1024
    boundary = "flatMemoryBoundary"
    head = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.pdf"\r\n'
            "Content-Type: application/pdf\r\n\r\n").encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    tracemalloc.start()
    try:
        response = client.post(f"/publications/{world.draft.id}/files", input_stream=Chunks(head, size, tail),
                               content_length=len(head) + size + len(tail),
                               content_type=f"multipart/form-data; boundary={boundary}")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert response.status_code == 303, response.get_data(as_text=True)[:300]
    assert session.query(StoredFile).one().size == size
    assert peak < 8 * 1024 * 1024, f"peak Python allocation {peak / 1e6:.1f} MB for a {size / 1e6:.0f} MB upload"


@pytest.fixture
def live(app: Flask) -> Iterator[tuple[str, int]]:
    """The app on a real socket on 127.0.0.1, serving one request at a time in a thread."""
    server = make_server("127.0.0.1", 0, app, threaded=False)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield "127.0.0.1", server.server_port
    finally:
        server.shutdown()
        thread.join(timeout=10)


def test_a_client_that_disconnects_mid_upload_leaves_nothing(
        live: tuple[str, int], world: World, store: FileStore) -> None:
    host, port = live
    conn = http.client.HTTPConnection(host, port, timeout=10)
    conn.request("POST", "/login", body=f"email={world['owner'].email}&password={factories.PASSWORD}".replace("@", "%40"),
                 headers={"Content-Type": "application/x-www-form-urlencoded"})
    login = conn.getresponse()
    login.read()
    assert login.status == 302
    cookie = SimpleCookie(login.getheader("Set-Cookie"))
    session_cookie = "; ".join(f"{k}={v.value}" for k, v in cookie.items())
    body, content_type = multipart({"role": "fulltext"}, "cut.pdf", PDF * 20_000)
    request = (f"POST /publications/{world.draft.id}/files HTTP/1.1\r\nHost: {host}:{port}\r\n"
               f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\nCookie: {session_cookie}\r\n\r\n").encode()
    with socket.create_connection((host, port), timeout=10) as raw:
        raw.sendall(request + body[:len(body) // 2])
        time.sleep(0.2)  # let the server write the first half into the store
        raw.shutdown(socket.SHUT_WR)
        answer = raw.recv(65536)
    assert answer.split(b"\r\n")[0].split()[1] == b"400", answer[:200]  # the server saw the cut and said so
    deadline = time.monotonic() + 5
    while stored_paths(store.root) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert stored_paths(store.root) == []
    assert row_count(StoredFile) == 0


def test_a_real_server_takes_a_multi_megabyte_upload(live: tuple[str, int], world: World, store: FileStore) -> None:
    """Over a socket the parser gets full 64 KiB reads on top of what it holds back: it must not choke."""
    host, port = live
    conn = http.client.HTTPConnection(host, port, timeout=30)
    conn.request("POST", "/login", body=f"email={world['editor'].email}&password={factories.PASSWORD}".replace("@", "%40"),
                 headers={"Content-Type": "application/x-www-form-urlencoded"})
    login = conn.getresponse()
    login.read()
    cookie = "; ".join(f"{k}={v.value}" for k, v in SimpleCookie(login.getheader("Set-Cookie")).items())
    data = PDF + os.urandom(3 * 1024 * 1024)
    body, content_type = multipart({"role": "fulltext"}, "stor.pdf", data)
    conn.request("POST", f"/publications/{world.published.id}/files", body=body,
                 headers={"Content-Type": content_type, "Cookie": cookie, "Accept": "application/json"})
    response = conn.getresponse()
    payload = response.read()
    assert response.status == 201, payload[:300]
    row = session.query(StoredFile).one()
    assert row.sha256 == hashlib.sha256(data).hexdigest() and store.path_for(row.sha256).read_bytes() == data
    conn.request("GET", f"/files/{row.id}/stor.pdf", headers={"User-Agent": "Mozilla/5.0 (X11; Linux x86_64)"})
    download = conn.getresponse()
    assert download.status == 200 and hashlib.sha256(download.read()).hexdigest() == row.sha256
