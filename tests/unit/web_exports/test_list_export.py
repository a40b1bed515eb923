"""List downloads: a person's, a unit's (with sub-units), an institution's and a selection, in every format."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import inspect
from sqlalchemy.orm import Mapper
from flask.testing import FlaskClient
from werkzeug.http import parse_options_header

from exports.registry import FORMATS
from repository.models import Publication
from repository.web.context import site
from repository.web.exports import export_response
from repository.services import exports as service
from repository.services import records
from tests import factories
from tests.conftest import StatementCounter
from tests.unit.web_exports.conftest import HOSTILE_TITLE, World, log_in, publish
from tests.unit.web_exports.parsing import titles

ARTICLE = "Ålgräsängar i Östersjön"
THESIS = "Proteinveckning i cellmembran"


def download(client: FlaskClient, url: str, status: int = 200) -> bytes:
    response = client.get(url)
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    if status == 200:
        assert response.is_streamed
    return response.data


def starts(found: list[str], expected: list[str]) -> bool:
    return len(found) == len(expected) and all(f.startswith(e) for f, e in zip(found, expected))


@pytest.mark.parametrize("name", list(FORMATS))
def test_person_list_in_each_format_newest_first_without_drafts(
        client: FlaskClient, world: World, name: str) -> None:
    response = client.get(f"/persons/{world.author.id}/export/{name}")
    assert response.status_code == 200 and response.is_streamed
    assert response.headers["Content-Type"] == f"{FORMATS[name].mime_type}; charset=utf-8"
    kind, params = parse_options_header(response.headers["Content-Disposition"])
    assert (kind, params["filename"]) == ("attachment", f"person-{world.author.id}.{FORMATS[name].extension}")
    found = titles(name, response.data, many=True)
    assert starts(found, [THESIS, ARTICLE]), found  # the draft is the author's too, but not public


def test_unit_list_holds_the_records_of_its_sub_units(client: FlaskClient, world: World) -> None:
    for unit in (world.fac, world.dept):
        assert starts(titles("csl-json", download(client, f"/units/{unit.id}/export/csl-json"), many=True), [ARTICLE])
    other = factories.unit(world.uu, "fysik", "Department of Physics", world.fac)
    assert titles("csl-json", download(client, f"/units/{other.id}/export/csl-json"), many=True) == []


def test_institution_list_holds_every_public_record(client: FlaskClient, world: World) -> None:
    found = titles("ris", download(client, "/institutions/uu/export/ris"), many=True)
    assert sorted(found) == sorted([f"{THESIS}", f"{ARTICLE}: en översikt", "Minimal", HOSTILE_TITLE])
    assert titles("ris", download(client, "/institutions/uu/export/ris"), many=True) == found  # a stable order


def test_a_logged_in_editor_still_gets_the_public_list(client: FlaskClient, world: World) -> None:
    """Lists are the public lists: a draft belongs in a selection, not in a person's bibliography."""
    log_in(client, world.editor)
    found = titles("bibtex", download(client, f"/persons/{world.author.id}/export/bibtex"), many=True)
    assert len(found) == 2 and "Secret draft" not in found


def test_selection_in_the_order_given(client: FlaskClient, world: World) -> None:
    ids = f"{world.minimal.id},{world.article.id}, {world.thesis.id},{world.minimal.id}"
    found = titles("mods", download(client, f"/export/mods?ids={ids}"), many=True)
    assert starts(found, ["Minimal", ARTICLE, THESIS])


def test_selection_with_a_draft_is_404_unless_the_user_may_read_it(client: FlaskClient, world: World) -> None:
    url = f"/export/ris?ids={world.article.id},{world.draft.id}"
    body = download(client, url, 404).decode()
    assert f"no publication {world.draft.id}" in body
    log_in(client, world.submitter)
    assert starts(titles("ris", download(client, url), many=True), [ARTICLE, "Secret draft"])


def test_withdrawn_records_leave_the_lists(client: FlaskClient, world: World) -> None:
    records.withdraw(world.editor, world.thesis.id, "Withdrawn at the author's request")
    assert starts(titles("csv", download(client, f"/persons/{world.author.id}/export/csv"), many=True), [ARTICLE])
    download(client, f"/export/csv?ids={world.thesis.id}", 404)


@pytest.mark.parametrize("ids, message", [
    ("", "give the records to export as ids"),
    ("1,two,3", "not record ids: 'two'"),
    ("1;2", "not record ids: '1;2'"),
    ("-4", "not record ids: '-4'"),
    (",".join(str(i) for i in range(1, service.MAX_SELECTION + 2)), f"at most {service.MAX_SELECTION} records"),
])
def test_bad_selections_are_400_saying_what_is_wrong(client: FlaskClient, world: World, ids: str, message: str) -> None:
    response = client.get(f"/export/bibtex?ids={ids}")
    assert response.status_code == 400
    assert message in response.get_data(as_text=True).replace("&#39;", "'")


def test_unknown_format_and_unknown_owner_are_404(client: FlaskClient, world: World) -> None:
    assert client.get(f"/persons/{world.author.id}/export/pdf").status_code == 404
    assert client.get(f"/export/pdf?ids={world.article.id}").status_code == 404
    assert client.get("/persons/424242/export/bibtex").status_code == 404
    assert client.get("/units/424242/export/bibtex").status_code == 404
    assert client.get("/institutions/nowhere/export/bibtex").status_code == 404


def test_the_stream_session_closes_when_read_to_the_end_or_abandoned(app: Flask, world: World) -> None:
    with app.test_request_context():
        read = service.stream(service.institution_list("uu"), site())
        response = export_response(read, "bibtex", "uu")
        assert len(titles("bibtex", b"".join(response.response), many=True)) == 4
        assert read.closed
        abandoned = service.stream(service.institution_list("uu"), site())
        export_response(abandoned, "ris", "uu").close()  # the client went away before the first byte
        assert abandoned.closed


def selectin_relationships(mapper: Mapper[Any], seen: set[Mapper[Any]] | None = None) -> int:
    """How many ``selectin`` loaders can fire when a chunk of ``mapper`` rows is loaded: the per-chunk bound."""
    seen = seen if seen is not None else {mapper}
    total = 0
    for rel in mapper.relationships:
        if rel.lazy == "selectin":
            total += 1
        if rel.lazy in ("selectin", "joined") and rel.mapper not in seen:
            seen.add(rel.mapper)
            total += selectin_relationships(rel.mapper, seen)
    return total


def test_queries_per_chunk_are_constant(client: FlaskClient, world: World, count_statements: StatementCounter,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """No N+1: a chunk costs the same queries (one per part) whether it holds two records or six."""
    rich = factories.article(contributors=[
        {"person_id": world.author.id, "affiliations": [{"org_unit_id": world.dept.id}]},
        {"family": "Smith", "given": "John", "affiliations": [{"name": "University of Oxford"}]}])
    ids = ",".join(str(publish(world.editor, records.create_publication(world.submitter, rich)).id)
                   for _ in range(6))

    def statements(n: int, chunk_size: int) -> int:
        monkeypatch.setattr(service, "CHUNK_SIZE", chunk_size)
        before = count_statements.count
        selected = ",".join(ids.split(",")[:n])
        assert len(titles("csl-json", download(client, f"/export/csl-json?ids={selected}"), many=True)) == n
        return count_statements.count - before

    bound = selectin_relationships(inspect(Publication))
    assert statements(2, 6) == statements(6, 6)
    assert 0 < statements(6, 2) - statements(6, 6) <= 2 * bound  # two more chunks, each within the bound
    assert statements(6, 2) - statements(2, 2) <= 2 * bound
