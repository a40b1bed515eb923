"""Downloads over HTTP: headers, names, ranges, conditional requests, who may download, and counting."""

from __future__ import annotations

import datetime as dt
import email.message
import email.utils
import io
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from lxml import html
from werkzeug.http import parse_options_header

from repository.models import StoredFile
from repository.services import downloads, files, records
from tests import factories
from tests.conftest import StatementCounter
from tests.unit.files.conftest import PDF, World, log_in

BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
NAME = 'Ålgräs "utkast" ä ö.pdf'
TODAY = dt.datetime.now(dt.timezone.utc).date()


@pytest.fixture
def stored(world: World) -> dict[str, StoredFile]:
    def put(pub_id: int, name: str, **terms: Any) -> StoredFile:
        return files.upload(world["editor"], pub_id, io.BytesIO(PDF), name, **terms)

    return {
        "open": put(world.published.id, NAME),
        "embargoed": put(world.published.id, "embargo.pdf", access="embargoed",
                         embargo_until=TODAY + dt.timedelta(days=400)),
        "embargo_over": put(world.published.id, "released.pdf", access="embargoed", embargo_until=TODAY),
        "restricted": put(world.published.id, "restricted.pdf", access="restricted"),
        "draft": put(world.draft.id, "draft.pdf"),
    }


def url(row: StoredFile) -> str:
    return f"/files/{row.id}/{row.original_filename}"


def get(client: FlaskClient, row: StoredFile, **headers: str) -> Any:
    return client.get(url(row), headers={"User-Agent": BROWSER, **headers})


def test_a_whole_download(client: FlaskClient, stored: dict[str, StoredFile]) -> None:
    row = stored["open"]
    response = get(client, row)
    assert response.status_code == 200
    assert response.data == PDF
    assert response.mimetype == "application/pdf"
    assert response.content_length == len(PDF)
    assert response.headers["ETag"] == f'"{row.sha256}"'
    assert response.last_modified == row.created_at.replace(microsecond=0)
    assert response.headers["Accept-Ranges"] == "bytes"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert f"<http://hylla.test/publications/{row.publication_id}>; rel=\"collection\"" in response.headers["Link"]


def test_the_original_utf8_name_survives_content_disposition(client: FlaskClient, stored: dict[str, StoredFile]) -> None:
    header = get(client, stored["open"]).headers["Content-Disposition"]
    # The standard library's RFC 2231/6266 reader, independent of the code that wrote the header.
    message = email.message.Message()
    message["Content-Disposition"] = header
    assert message.get_content_disposition() == "inline"
    params = message.get_params(header="content-disposition")[1:]
    extended = [email.utils.collapse_rfc2231_value(v) for k, v in params if k == "filename" and isinstance(v, tuple)]
    assert extended == [NAME]  # RFC 6266: filename* (UTF-8) is the name a browser saves under
    value, params = parse_options_header(header)
    assert value == "inline" and params["filename"] == NAME  # werkzeug prefers filename*
    ascii_fallback = header.split("filename=", 1)[1].split("; filename*=")[0]
    assert ascii_fallback.isascii() and "Algras" in ascii_fallback and '\\"utkast\\"' in ascii_fallback


def test_ranges(client: FlaskClient, stored: dict[str, StoredFile]) -> None:
    row = stored["open"]
    first = get(client, row, Range="bytes=0-9")
    assert first.status_code == 206 and first.data == PDF[:10]
    assert first.headers["Content-Range"] == f"bytes 0-9/{len(PDF)}" and first.content_length == 10
    suffix = get(client, row, Range="bytes=-5")
    assert suffix.status_code == 206 and suffix.data == PDF[-5:]
    middle = get(client, row, Range="bytes=20-")
    assert middle.status_code == 206 and middle.data == PDF[20:]
    for unsatisfiable in ("bytes=0-1,5-6", f"bytes={len(PDF) + 10}-", "bytes=9-2"):
        refused = get(client, row, Range=unsatisfiable)
        assert refused.status_code == 416, unsatisfiable
        assert refused.headers["Content-Range"] == f"bytes */{len(PDF)}"
    stale = get(client, row, Range="bytes=0-9", **{"If-Range": '"0000"'})
    assert stale.status_code == 200 and stale.data == PDF  # the file changed: the whole of it


def test_head_has_the_headers_and_no_body(client: FlaskClient, stored: dict[str, StoredFile]) -> None:
    response = client.head(url(stored["open"]), headers={"User-Agent": BROWSER})
    assert response.status_code == 200 and response.data == b""
    assert response.headers["Content-Length"] == str(len(PDF))
    assert response.headers["ETag"] == f'"{stored["open"].sha256}"'
    assert downloads.download_counts([stored["open"].id]) == {stored["open"].id: 0}


def test_conditional_requests(client: FlaskClient, stored: dict[str, StoredFile]) -> None:
    row = stored["open"]
    response = get(client, row, **{"If-None-Match": f'"{row.sha256}"'})
    assert response.status_code == 304 and response.data == b""
    later = (row.created_at + dt.timedelta(hours=1)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    assert get(client, row, **{"If-Modified-Since": later}).status_code == 304
    assert get(client, row, **{"If-None-Match": '"something-else"'}).status_code == 200


def test_an_old_name_redirects_to_the_current_one(client: FlaskClient, stored: dict[str, StoredFile]) -> None:
    row = stored["open"]
    response = client.get(f"/files/{row.id}/old-name.pdf")
    assert response.status_code == 308
    assert response.headers["Location"].endswith(f"/files/{row.id}/%C3%85lgr%C3%A4s%20%22utkast%22%20%C3%A4%20%C3%B6.pdf")
    assert client.get(f"/files/{row.id + 1000}/x.pdf").status_code == 404


def test_active_content_is_never_shown_inline(client: FlaskClient, world: World) -> None:
    page = files.upload(world["editor"], world.published.id, io.BytesIO(b"<!DOCTYPE html><script>alert(1)</script>"),
                        "paper.pdf", declared_mime="application/pdf")
    response = get(client, page)
    assert response.mimetype == "text/html"
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert response.headers["X-Content-Type-Options"] == "nosniff"


# Rows: who asks. Columns: open, embargoed until a future day, embargo over today, restricted, a draft's file.
MATRIX = {
    "anonymous": (200, 403, 200, 404, 404),
    "owner": (200, 200, 200, 200, 200),
    "other": (200, 403, 200, 404, 404),
    "editor": (200, 200, 200, 200, 200),
    "kth_editor": (200, 403, 200, 404, 404),
    "admin": (200, 200, 200, 200, 200),
}
KINDS = ("open", "embargoed", "embargo_over", "restricted", "draft")


@pytest.mark.parametrize("who", MATRIX)
def test_download_permission_matrix(client: FlaskClient, world: World, stored: dict[str, StoredFile], who: str) -> None:
    if who != "anonymous":
        log_in(client, world[who])
    for kind, expected in zip(KINDS, MATRIX[who]):
        response = get(client, stored[kind])
        assert response.status_code == expected, (who, kind)
        if expected == 200:
            assert response.data == PDF
        if expected == 403:
            assert (TODAY + dt.timedelta(days=400)).isoformat() in response.get_data(as_text=True)
        if expected == 404:
            assert stored[kind].original_filename not in response.get_data(as_text=True)
        if kind in ("embargoed", "restricted", "draft") and expected == 200:
            assert "private" in response.headers["Cache-Control"]


def test_double_clicks_count_once_and_robots_never(client: FlaskClient, stored: dict[str, StoredFile]) -> None:
    row = stored["open"]
    for _ in range(3):
        assert get(client, row).status_code == 200
    get(client, row, Range="bytes=100-200")  # a viewer's later piece is not a new download
    client.get(url(row), headers={"User-Agent": "Mozilla/5.0 (compatible; Googlebot/2.1)"})
    client.get(url(row), headers={"User-Agent": "python-requests/2.32"})
    client.get(url(row), headers={"User-Agent": ""})
    assert downloads.download_counts([row.id]) == {row.id: 1}
    client.get(url(row), headers={"User-Agent": BROWSER}, environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert downloads.download_counts([row.id]) == {row.id: 2}  # another client


def test_the_double_click_window_is_30_seconds(stored: dict[str, StoredFile]) -> None:
    row = stored["open"]
    start = dt.datetime(2025, 3, 1, 12, 0, tzinfo=dt.timezone.utc)

    def click(seconds: float, agent: str = BROWSER, address: str = "198.51.100.1") -> bool:
        return downloads.record_download(row, address=address, user_agent=agent,
                                         now=start + dt.timedelta(seconds=seconds), secret="k")

    assert click(0) is True
    assert click(1) is False and click(29.9) is False
    assert click(30.5) is True  # 30 s after the counted click: a new download
    assert click(45) is False
    assert click(45, address="198.51.100.2") is True
    assert click(46, agent="Mozilla/5.0 (compatible; bingbot/2.0)") is False
    assert downloads.download_counts([row.id, 424242]) == {row.id: 3, 424242: 0}


@pytest.mark.parametrize(("agent", "robot"), [
    ("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", True),
    ("Wget/1.21.4", True), ("curl/8.5.0", True), ("Mozilla/5.0 (X11; Linux x86_64) HeadlessChrome/120.0", True),
    ("facebookexternalhit/1.1", True), ("", True), (None, True),
    (BROWSER, False),
    ("Mozilla/5.0 (Linux; Android 12; Cubot KingKong) AppleWebKit/537.36 Chrome/120 Mobile Safari/537.36", False),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 14_2) AppleWebKit/605.1.15 Version/17.2 Safari/605.1.15", False),
])
def test_robot_user_agents(agent: str | None, robot: bool) -> None:
    assert downloads.is_robot(agent) is robot


def test_the_landing_page_shows_counts_and_embargo_dates(
        app: Flask, client: FlaskClient, world: World, stored: dict[str, StoredFile]) -> None:
    get(client, stored["open"])
    doc = html.fromstring(client.get(f"/publications/{world.published.id}").get_data(as_text=True))
    items = {li.text_content().split()[0]: " ".join(li.text_content().split()) for li in doc.cssselect("ul.files li")}
    assert "Downloads: 1" in items["Ålgräs"]
    assert f"Embargoed until {(TODAY + dt.timedelta(days=400)).isoformat()}" in items["embargo.pdf"]
    assert doc.cssselect(f"ul.files a[href='http://hylla.test/files/{stored['open'].id}/"
                         "%C3%85lgr%C3%A4s%20%22utkast%22%20%C3%A4%20%C3%B6.pdf']")


def test_a_file_named_like_an_action_still_downloads(client: FlaskClient, world: World) -> None:
    for name in ("delete", "replace", "terms"):
        row = files.upload(world["editor"], world.published.id, io.BytesIO(PDF), name)
        response = client.get(f"/files/{row.id}/{name}", headers={"User-Agent": BROWSER})
        assert response.status_code == 200 and response.data == PDF, name


def test_files_of_a_record_scheduled_for_later_stay_closed_until_then(client: FlaskClient, world: World) -> None:
    thesis = records.create_publication(world["owner"], factories.doctoral_thesis())
    row = files.upload(world["owner"], thesis.id, io.BytesIO(PDF), "avhandling.pdf")
    records.publish_now(world["editor"], thesis.id, urn_prefix="urn:nbn:se",
                        public_from=dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=3))
    assert get(client, row).status_code == 404  # not even the record is public yet
    log_in(client, world["editor"])
    assert get(client, row).status_code == 200


def test_a_download_costs_a_handful_of_queries(
        client: FlaskClient, stored: dict[str, StoredFile], count_statements: StatementCounter) -> None:
    """The file, its record's row (not its dozen collections), the double-click check and the count."""
    before = count_statements.count
    assert get(client, stored["open"]).status_code == 200
    assert count_statements.count - before <= 4, count_statements.statements[before:]
