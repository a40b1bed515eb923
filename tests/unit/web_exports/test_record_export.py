"""``/publications/<id>/export/<format>``: every format parses, with the right headers and permissions."""

from __future__ import annotations

import email.message

import pytest
from flask.testing import FlaskClient
from lxml import html
from werkzeug.http import parse_options_header

from exports.registry import FORMATS
from repository.services import records
from repository.web.exports import content_disposition
from tests.unit.web_exports.conftest import World, log_in
from tests.unit.web_exports.parsing import titles


def disposition(value: str) -> tuple[str, str | None]:
    """Read a Content-Disposition header as a browser does: ``filename*`` (RFC 6266) over ``filename``."""
    kind, params = parse_options_header(value)
    return kind, params.get("filename")


def plain_filename(value: str) -> str | None:
    """The ``filename`` an old client reads, with the standard library's MIME parser."""
    message = email.message.Message()
    message["Content-Disposition"] = value
    return message.get_filename()


@pytest.mark.parametrize("name", list(FORMATS))
def test_each_format_downloads_and_parses(client: FlaskClient, world: World, name: str) -> None:
    fmt = FORMATS[name]
    response = client.get(f"/publications/{world.article.id}/export/{name}")
    assert response.status_code == 200
    assert response.mimetype == fmt.mime_type
    assert response.mimetype_params == {"charset": "utf-8"}
    assert disposition(response.headers["Content-Disposition"]) == (
        "attachment", f"publication-{world.article.id}.{fmt.extension}")
    found = titles(name, response.data)
    assert len(found) == 1 and found[0].startswith("Ålgräsängar i Östersjön"), found


@pytest.mark.parametrize("name", ["bibtex", "csl-json", "mods", "datacite"])
def test_a_minimal_record_exports_too(client: FlaskClient, world: World, name: str) -> None:
    response = client.get(f"/publications/{world.minimal.id}/export/{name}")
    assert response.status_code == 200
    assert titles(name, response.data) == ["Minimal"]


def test_unknown_format_is_404_listing_the_known_ones(client: FlaskClient, world: World) -> None:
    response = client.get(f"/publications/{world.article.id}/export/endnote-xml")
    assert response.status_code == 404
    doc = html.fromstring(response.get_data(as_text=True))
    listed = [code.text for code in doc.cssselect("ul.formats code")]
    assert listed == list(FORMATS)
    assert "endnote-xml" in doc.text_content()


def test_drafts_are_not_found_except_by_their_people(client: FlaskClient, world: World) -> None:
    url = f"/publications/{world.draft.id}/export/ris"
    assert client.get(url).status_code == 404
    assert client.get("/publications/999999/export/ris").status_code == 404
    log_in(client, world.submitter)
    assert titles("ris", client.get(url).data) == ["Secret draft"]


def test_withdrawn_record_is_gone(client: FlaskClient, world: World) -> None:
    records.withdraw(world.editor, world.article.id, "Duplicate of another record")
    response = client.get(f"/publications/{world.article.id}/export/bibtex")
    assert response.status_code == 410
    assert "Duplicate of another record" in response.get_data(as_text=True)


def test_content_disposition_keeps_non_ascii_names_for_clients_that_read_them() -> None:
    assert disposition(content_disposition("attachment", "person-12.bib")) == ("attachment", "person-12.bib")
    assert plain_filename(content_disposition("inline", "person-12-apa.txt")) == "person-12-apa.txt"
    value = content_disposition("attachment", "sökresultat \"ålgräs\".ris")
    assert value.isascii()
    assert disposition(value) == ("attachment", "sökresultat \"ålgräs\".ris")
    assert plain_filename(value) == "s_kresultat_lgr_s_.ris"  # the fallback old clients read
