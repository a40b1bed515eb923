"""The public pages: home, landing page with full metadata, tombstones, people, units, login."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from lxml import html

from repository.services import records
from tests import factories
from tests.conftest import StatementCounter


@pytest.fixture
def world(app: Flask) -> dict[str, Any]:
    uu = factories.institution()
    fac = factories.unit(uu, "teknat", "Faculty of Science")
    dept = factories.unit(uu, "kemi", "Department of Chemistry", fac)
    author = factories.person("Öberg", "Åsa", "0000-0002-1825-0097", uu)
    submitter = factories.user("submitter", uu)
    editor = factories.user("editor", uu)
    rich = factories.article(contributors=[
        {"person_id": author.id, "affiliations": [{"org_unit_id": dept.id}]},
        {"family": "Smith", "given": "John", "affiliations": [{"name": "University of Oxford"}]},
    ])
    pub = records.create_publication(submitter, rich)
    records.publish_now(editor, pub.id, urn_prefix="urn:nbn:se")
    small = records.create_publication(submitter, {"publication_type": "ovr", "titles": [{"title": "Minimal"}]})
    records.publish_now(editor, small.id, urn_prefix="urn:nbn:se")
    thesis = records.create_publication(submitter, factories.doctoral_thesis())
    records.publish_now(editor, thesis.id, urn_prefix="urn:nbn:se")
    draft = records.create_publication(submitter, factories.article(titles=[{"title": "Secret draft"}]))
    return {"uu": uu, "fac": fac, "dept": dept, "author": author, "pub": pub, "small": small, "thesis": thesis,
            "draft": draft, "editor": editor, "submitter": submitter}


def page(client: FlaskClient, url: str, status: int = 200) -> html.HtmlElement:
    response = client.get(url)
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    assert response.mimetype == "text/html"
    return html.fromstring(response.get_data(as_text=True))


def text_of(doc: html.HtmlElement) -> str:
    return " ".join(doc.text_content().split())


def test_home_lists_recent_public_records_only(client: FlaskClient, world: dict[str, Any]) -> None:
    doc = page(client, "/")
    titles = [a.text_content() for a in doc.cssselect(".summary h3 a")]
    assert "Ålgräsängar i Östersjön: en översikt" in titles
    assert "Secret draft" not in text_of(doc)
    assert doc.cssselect("a[href='/institutions/uu']")


def test_landing_page_shows_the_full_metadata(client: FlaskClient, world: dict[str, Any]) -> None:
    doc = page(client, f"/publications/{world['pub'].id}")
    body = text_of(doc)
    for expected in ("Ålgräsängar i Östersjön", "en översikt", "Eelgrass meadows in the Baltic Sea", "Åsa Öberg",
                     "Department of Chemistry", "University of Oxford", "Marine Ecology Progress Series",
                     "vol. 12", "no. 3", "pp. 101-118", "0171-8630", "10.3354/meps12345", "Vi studerar ålgräs.",
                     "Climate", "ålgräs", f"urn:nbn:se:uu:hylla-{world['pub'].id}", "2021-05-17",
                     "creativecommons.org/licenses/by/4.0", "Refereed", "Journal article"):
        assert expected in body, expected
    assert doc.cssselect("a[href='https://doi.org/10.3354/meps12345']")
    assert doc.cssselect(f"a[href='/persons/{world['author'].id}']")
    assert doc.cssselect("a[href='https://orcid.org/0000-0002-1825-0097']")
    assert doc.get("lang") == "en" and doc.cssselect("article[lang='swe']")


def test_thesis_landing_page(client: FlaskClient, world: dict[str, Any]) -> None:
    body = text_of(page(client, f"/publications/{world['thesis'].id}"))
    for expected in ("Doctoral thesis", "Supervisor", "Opponent", "Defence", "2023-05-12 09:15", "A1:111a, BMC",
                     "Electronic publication (nailing)", "2023-04-20", "Acta Universitatis Upsaliensis", "978-91-513-1234-7"):
        assert expected in body, expected


def test_drafts_are_not_found_by_others_but_seen_by_their_editor(
        client: FlaskClient, world: dict[str, Any]) -> None:
    page(client, f"/publications/{world['draft'].id}", 404)
    page(client, "/publications/999999", 404)
    client.post("/login", data={"email": world["editor"].email, "password": factories.PASSWORD})
    assert "Secret draft" in text_of(page(client, f"/publications/{world['draft'].id}"))


def test_withdrawn_record_answers_410_with_citation_and_reason(client: FlaskClient, world: dict[str, Any]) -> None:
    records.withdraw(world["editor"], world["pub"].id, "Duplicate of record 12")
    doc = page(client, f"/publications/{world['pub'].id}", 410)
    body = text_of(doc)
    assert "withdrawn" in body and "Duplicate of record 12" in body
    assert "Öberg, Åsa" in body and "(2021)" in body and "https://doi.org/10.3354/meps12345" in body


def test_person_unit_and_institution_pages(client: FlaskClient, world: dict[str, Any]) -> None:
    body = text_of(page(client, f"/persons/{world['author'].id}"))
    assert "Åsa Öberg" in body and "0000-0002-1825-0097" in body and "Ålgräsängar" in body
    fac = text_of(page(client, f"/units/{world['fac'].id}"))
    assert "Department of Chemistry" in fac and "Ålgräsängar" in fac  # records of sub-units count too
    dept = page(client, f"/units/{world['dept'].id}")
    assert dept.cssselect(f"nav.breadcrumbs a[href='/units/{world['fac'].id}']")
    assert "Ålgräsängar" in text_of(page(client, "/institutions/uu"))
    person_page = page(client, f"/persons/{world['author'].id}")
    assert person_page.cssselect(f"a[href='/persons/{world['author'].id}/export/bibtex']")
    assert person_page.cssselect(f"form[action='/persons/{world['author'].id}/cite'] select[name=style]")
    assert dept.cssselect(f"a[href='/units/{world['dept'].id}/export/ris']")
    page(client, "/persons/424242", 404)
    page(client, "/units/424242", 404)
    page(client, "/institutions/nowhere", 404)


def test_landing_page_statement_count_is_constant(
        client: FlaskClient, world: dict[str, Any], count_statements: StatementCounter) -> None:
    """No N+1: a rich record and a minimal one cost the same number of queries."""
    counts = []
    for pub in (world["small"], world["pub"], world["thesis"]):
        before = count_statements.count
        client.get(f"/publications/{pub.id}")
        counts.append(count_statements.count - before)
    assert counts[0] == counts[1] == counts[2], counts
    assert counts[0] <= 20, count_statements.statements


def test_login_does_not_tell_which_part_was_wrong(client: FlaskClient, world: dict[str, Any]) -> None:
    unknown = client.post("/login", data={"email": "nobody@example.org", "password": "whatever123"})
    wrong = client.post("/login", data={"email": world["editor"].email, "password": "wrong password"})
    assert unknown.status_code == wrong.status_code == 401
    assert b"not right" in unknown.data and b"not right" in wrong.data
    ok = client.post("/login?next=//evil.example/", data={"email": world["editor"].email,
                                                          "password": factories.PASSWORD})
    assert ok.status_code == 302 and ok.headers["Location"] == "/"
    body = text_of(page(client, f"/publications/{world['draft'].id}"))
    assert "Secret draft" in body


def test_pages_have_labelled_forms_and_landmarks(client: FlaskClient, world: dict[str, Any]) -> None:
    doc = page(client, "/login")
    for field in doc.cssselect("form input[type=email], form input[type=password]"):
        assert doc.cssselect(f"label[for={field.get('id')}]"), field.get("id")
    assert doc.cssselect("main#main") and doc.cssselect("header nav") and doc.cssselect("meta[name=viewport]")
