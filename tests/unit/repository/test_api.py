"""The JSON API: token authentication, drafts, If-Match, file upload, submission, problem documents, OpenAPI."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from repository.services import deposit, records, tokens
from repository.web.api import openapi_document
from tests import factories
from tests.unit.repository.web_support import login, parse


@pytest.fixture
def world(app: Flask) -> dict[str, Any]:
    uu = factories.institution()
    submitter = factories.user("submitter", uu, "sub@example.org")
    other = factories.user("submitter", uu, "other@example.org")
    _, token = tokens.issue("sub@example.org", "my script")
    _, other_token = tokens.issue("other@example.org")
    return {"submitter": submitter, "other": other, "auth": {"Authorization": f"Bearer {token}"},
            "other_auth": {"Authorization": f"Bearer {other_token}"}}


def problem_of(response) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    assert response.mimetype == "application/problem+json", response.get_data(as_text=True)[:300]
    body = response.get_json(force=True)
    assert body["status"] == response.status_code and body["title"] and body["detail"]
    return body  # type: ignore[no-any-return]


def test_without_a_valid_token_nothing_is_answered(client: FlaskClient, world: dict[str, Any]) -> None:
    for headers in ({}, {"Authorization": "Bearer hylla_madeup"}, {"Authorization": "Basic abc"}):
        response = client.get("/api/publications", headers=headers)
        assert response.status_code == 401 and response.headers["WWW-Authenticate"].startswith("Bearer")
        problem_of(response)


def test_the_whole_deposit_by_script(client: FlaskClient, world: dict[str, Any]) -> None:
    auth = world["auth"]
    response = client.post("/api/publications", json=factories.article(), headers=auth)
    assert response.status_code == 201, response.get_data(as_text=True)
    record = response.get_json()
    pub_id = record["id"]
    assert response.headers["Location"] == f"/api/publications/{pub_id}" and response.headers["ETag"] == '"1"'
    assert record["state"] == "draft" and record["metadata"]["host"]["issn"] == "0171-8630"
    assert record["url"] == f"http://hylla.test/publications/{pub_id}"

    response = client.patch(f"/api/publications/{pub_id}", json={"languages": ["eng"]}, headers=auth)
    assert response.status_code == 428 and problem_of(response)
    response = client.patch(f"/api/publications/{pub_id}", json={"languages": ["eng"]},
                            headers={**auth, "If-Match": '"1"'})
    assert response.status_code == 200 and response.get_json()["metadata"]["languages"] == ["eng"]
    assert response.get_json()["metadata"]["titles"][0]["title"] == "Ålgräsängar i Östersjön"
    stale = client.patch(f"/api/publications/{pub_id}", json={"languages": ["swe"]}, headers={**auth, "If-Match": '"1"'})
    assert stale.status_code == 409 and "changed by someone else" in problem_of(stale)["detail"]

    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    response = client.post(f"/api/publications/{pub_id}/files?filename=Ålgräs.pdf&access=open", data=pdf,
                           headers={**auth, "Content-Type": "application/pdf"})
    assert response.status_code == 201, response.get_data(as_text=True)
    uploaded = response.get_json()
    assert uploaded["sha256"] == hashlib.sha256(pdf).hexdigest() and uploaded["mime_type"] == "application/pdf"
    assert client.get(f"/api/publications/{pub_id}", headers=auth).get_json()["files"][0]["url"] == uploaded["url"]

    response = client.post(f"/api/publications/{pub_id}/submit", json={"comment": "By script"}, headers=auth)
    assert response.status_code == 200 and response.get_json()["state"] == "submitted"
    listed = client.get("/api/publications", headers=auth).get_json()
    assert listed["total"] == 1 and listed["items"][0]["id"] == pub_id


def test_invalid_input_is_a_problem_with_field_paths(client: FlaskClient, world: dict[str, Any]) -> None:
    bad = factories.article(contributors=[{"family": "Ek", "orcid": "0000-0002-1825-0098"}], issued="12345")
    response = client.post("/api/publications", json=bad, headers=world["auth"])
    assert response.status_code == 422
    errors = {e["path"]: e for e in problem_of(response)["errors"]}
    assert set(errors) == {"contributors[0].orcid", "issued"}
    assert errors["contributors[0].orcid"]["pointer"] == "/contributors/0/orcid"
    response = client.post("/api/publications", data="not json", headers=world["auth"])
    assert response.status_code == 422 and problem_of(response)["errors"][0]["path"] == "_schema"


def test_submission_refused_while_swepub_would_reject(client: FlaskClient, world: dict[str, Any]) -> None:
    response = client.post("/api/publications", json={"publication_type": "art", "titles": [{"title": "Thin"}]},
                           headers=world["auth"])
    pub_id = response.get_json()["id"]
    response = client.post(f"/api/publications/{pub_id}/submit", headers=world["auth"])
    assert response.status_code == 422
    assert {"contributors", "languages"} <= {e["path"] for e in problem_of(response)["errors"]}


def test_duplicates_need_to_be_confirmed(client: FlaskClient, world: dict[str, Any]) -> None:
    first = client.post("/api/publications", json=factories.article(), headers=world["auth"]).get_json()
    response = client.post("/api/publications", json=factories.article(), headers=world["auth"])
    assert response.status_code == 409
    assert problem_of(response)["duplicates"][0]["publication_id"] == first["id"]
    response = client.post("/api/publications?allow_duplicate=true", json=factories.article(), headers=world["auth"])
    assert response.status_code == 201


def test_someone_elses_draft_is_not_found_and_publishing_is_not_offered(client: FlaskClient, world: dict[str, Any]) -> None:
    pub = deposit.create_draft(world["submitter"], factories.article())
    for method, url in (("get", f"/api/publications/{pub.id}"), ("post", f"/api/publications/{pub.id}/submit")):
        response = getattr(client, method)(url, headers=world["other_auth"])
        assert response.status_code == 404 and problem_of(response)
    response = client.patch(f"/api/publications/{pub.id}", json={}, headers={**world["other_auth"], "If-Match": '"1"'})
    assert response.status_code == 404
    response = client.post(f"/api/publications/{pub.id}/files?filename=x.pdf", data=b"%PDF-1.4",
                           headers=world["other_auth"])
    assert response.status_code == 404
    assert client.post(f"/api/publications/{pub.id}/publish", headers=world["auth"]).status_code in (404, 405)
    assert records.get_publication(world["submitter"], pub.id).state == "draft"


def test_a_revoked_token_stops_working(client: FlaskClient, world: dict[str, Any]) -> None:
    row, plain = tokens.issue("sub@example.org")
    assert client.get("/api/publications", headers={"Authorization": f"Bearer {plain}"}).status_code == 200
    tokens.revoke(row.id)
    assert client.get("/api/publications", headers={"Authorization": f"Bearer {plain}"}).status_code == 401


def test_a_browser_session_must_send_its_csrf_token(app: Flask, client: FlaskClient, world: dict[str, Any]) -> None:
    login(client, "sub@example.org")
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        response = client.post("/api/publications", json=factories.article())
        assert response.status_code == 400 and records.recent_publications() == []
        token = parse(client.get("/deposit/new")).xpath("//input[@name='csrf_token']/@value")[0]
        response = client.post("/api/publications", json=factories.article(), headers={"X-CSRFToken": token})
        assert response.status_code == 201
        # A token request needs no CSRF token: no cookie comes with it that a third-party page could use.
        fresh = app.test_client()
        response = fresh.post("/api/publications?allow_duplicate=1", json=factories.article(), headers=world["auth"])
        assert response.status_code == 201
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def test_openapi_description(client: FlaskClient, world: dict[str, Any]) -> None:
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    doc = response.get_json()
    assert doc["openapi"] == "3.1.0"
    assert set(doc["paths"]) == {"/api/publications", "/api/publications/{publication_id}",
                                 "/api/publications/{publication_id}/files", "/api/publications/{publication_id}/submit"}
    publication = doc["components"]["schemas"]["PublicationInput"]
    assert {"publication_type", "titles"} <= set(publication["required"])
    assert "art" in publication["properties"]["publication_type"]["enum"]
    text = json.dumps(doc)
    for ref in {part.split('"')[0] for part in text.split('"$ref": "#/components/schemas/')[1:]}:
        assert ref in doc["components"]["schemas"], ref
    assert openapi_document("Hylla Test", "http://hylla.test") == doc


def test_cli_issues_a_token_that_works(app: Flask, client: FlaskClient, world: dict[str, Any]) -> None:
    result = app.test_cli_runner().invoke(args=["users", "token", "SUB@example.org", "--name", "nightly"])
    assert result.exit_code == 0, result.output
    plain = result.output.strip().splitlines()[-1]
    assert plain.startswith(tokens.PREFIX)
    assert client.get("/api/publications", headers={"Authorization": f"Bearer {plain}"}).status_code == 200
    result = app.test_cli_runner().invoke(args=["users", "token", "nobody@example.org"])
    assert result.exit_code != 0 and "no user" in result.output
