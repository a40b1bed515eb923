"""The editors' pages: the queue and its filters, the preflight verdict, decisions, history, the announcement sheet."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from pypdf import PdfReader

from repository.models import utcnow
from repository.services import deposit, records
from repository.services.readmodel import Site
from tests import factories
from tests.unit.repository.web_support import field_error, login, logout, parse, text_of

SITE = Site("http://hylla.test", "hylla.test")


@pytest.fixture
def world(app: Flask, client: FlaskClient) -> dict[str, Any]:
    uu = factories.institution()
    kth = factories.institution("kth", "KTH", "kth.se")
    submitter = factories.user("submitter", uu, "sub@example.org")
    editor = factories.user("editor", uu, "ed@example.org")
    factories.user("editor", kth, "kth-ed@example.org")
    pub = deposit.create_draft(submitter, factories.article())
    deposit.submit(submitter, pub.id, SITE, "urn:nbn:se")
    login(client, "ed@example.org")
    return {"submitter": submitter, "editor": editor, "pub": pub}


def test_queue_and_filters(client: FlaskClient, world: dict[str, Any]) -> None:
    doc = parse(client.get("/review/"))
    assert doc.cssselect(f"a[href='/review/{world['pub'].id}']")
    assert "Nothing is waiting" in text_of(parse(client.get("/review/?type=dok")))
    assert "Nothing is waiting" in text_of(parse(client.get("/review/?age=30")))
    response = client.get("/review/?age=soon")
    assert response.status_code == 400 and "whole number" in field_error(parse(response), "age")


def test_submission_page_shows_the_swepub_preflight(client: FlaskClient, world: dict[str, Any]) -> None:
    body = text_of(parse(client.get(f"/review/{world['pub'].id}")))
    assert "SwePub preflight: would be accepted" in body
    pub = deposit.create_draft(world["editor"], {"publication_type": "art", "titles": [{"title": "Thin"}]})
    body = text_of(parse(client.get(f"/review/{pub.id}")))
    assert "SwePub preflight: would be rejected" in body and "nameViolation" not in body and "reject (02)" in body


def test_return_needs_a_comment_then_the_submitter_sees_it(client: FlaskClient, world: dict[str, Any]) -> None:
    pub_id = world["pub"].id
    response = client.post(f"/review/{pub_id}/return", data={"comment": ""})
    assert response.status_code == 400 and "say what" in field_error(parse(response), "comment", "f-comment")
    response = client.post(f"/review/{pub_id}/return", data={"comment": "Lägg till nummer, tack."})
    assert response.status_code == 302
    logout(client)
    login(client, "sub@example.org")
    doc = parse(client.get(f"/deposit/{pub_id}/metadata"))
    assert "Lägg till nummer, tack." in doc.cssselect(".returned")[0].text_content()
    assert "Returned to you" in text_of(parse(client.get("/deposit/")))


def test_publish_then_history_on_the_landing_page(client: FlaskClient, world: dict[str, Any]) -> None:
    pub_id = world["pub"].id
    assert client.post(f"/review/{pub_id}/publish", data={"comment": "Välkommen"}).status_code == 302
    history = text_of(parse(client.get(f"/publications/{pub_id}")).cssselect(".history")[0])
    assert "Submitted" in history and "Published" in history and "Välkommen" in history
    logout(client)
    doc = parse(client.get(f"/publications/{pub_id}"))
    assert doc.cssselect(".history") == []  # the public sees the record, not its workflow


def test_an_editor_of_another_institution_cannot_decide(app: Flask, world: dict[str, Any]) -> None:
    other = app.test_client()
    login(other, "kth-ed@example.org")
    assert other.post(f"/review/{world['pub'].id}/publish", data={}).status_code == 404
    assert other.get(f"/review/{world['pub'].id}").status_code == 404
    assert "Nothing is waiting" in text_of(parse(other.get("/review/")))


def test_a_thesis_is_scheduled_and_its_announcement_printed(client: FlaskClient, world: dict[str, Any]) -> None:
    nailing = (utcnow() + dt.timedelta(days=20)).date()
    thesis = deposit.create_draft(world["submitter"], factories.doctoral_thesis(
        thesis={"level": "doctoral", "defence_at": f"{nailing + dt.timedelta(days=21)}T09:15:00+00:00",
                "defence_place": "Ångströmlaboratoriet, Häggsalen", "nailing_date": nailing.isoformat()},
        abstracts=[{"text": "Proteiner veckas i membranet.", "lang": "swe"}]))
    doc = parse(client.get(f"/review/{thesis.id}"))
    assert doc.xpath("//input[@name='public_from']/@value") == [nailing.isoformat()]
    response = client.get(f"/review/{thesis.id}/announcement.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages).split())
    for expected in ("Märta Karlsson", "Proteinveckning i cellmembran", "Jane Doe, MIT", "Lars Ek",
                     "Ångströmlaboratoriet, Häggsalen", nailing.isoformat(), f"urn:nbn:se:uu:hylla-{thesis.id}"):
        assert expected in text, expected
    assert client.get(f"/review/{world['pub'].id}/announcement.pdf").status_code == 404

    response = client.post(f"/review/{thesis.id}/publish", data={"public_from": nailing.isoformat()})
    assert response.status_code == 302
    logout(client)
    assert client.get(f"/publications/{thesis.id}").status_code == 404
    assert thesis.id not in [p.id for p in records.recent_publications()]


def test_withdraw_leaves_a_tombstone(client: FlaskClient, world: dict[str, Any]) -> None:
    pub_id = world["pub"].id
    client.post(f"/review/{pub_id}/publish", data={})
    assert client.post(f"/review/{pub_id}/withdraw", data={"comment": ""}).status_code == 400
    assert client.post(f"/review/{pub_id}/withdraw", data={"comment": "Dubblett"}).status_code == 302
    logout(client)
    response = client.get(f"/publications/{pub_id}")
    assert response.status_code == 410 and "Dubblett" in response.get_data(as_text=True)
