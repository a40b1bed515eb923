"""The deposit pages without JavaScript: the steps adapt to the type, errors sit next to their fields, drafts resume."""

from __future__ import annotations

import io
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from repository.services import deposit, records
from tests import factories
from tests.unit.repository.web_support import field_error, login, parse, text_of, version_of


@pytest.fixture
def world(app: Flask, client: FlaskClient) -> dict[str, Any]:
    uu = factories.institution()
    kemi = factories.unit(uu, "kemi", "Department of Chemistry")
    person = factories.person("Öberg", "Åsa", "0000-0002-1825-0097", uu)
    submitter = factories.user("submitter", uu, "sub@example.org")
    other = factories.user("submitter", uu, "other@example.org")
    login(client, "sub@example.org")
    return {"uu": uu, "kemi": kemi, "person": person, "submitter": submitter, "other": other}


def new_draft(client: FlaskClient, kind: str = "art", title: str = "Ålgräs i Östersjön", **extra: str) -> int:
    response = client.post("/deposit/new", data={"publication_type": kind, "title": title, "issued": "2024", **extra})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    return int(response.headers["Location"].split("/")[2])


def test_deposit_pages_need_a_login(app: Flask) -> None:
    response = app.test_client().get("/deposit/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_start_errors_are_shown_next_to_their_fields(client: FlaskClient, world: dict[str, Any]) -> None:
    response = client.post("/deposit/new", data={"publication_type": "art", "title": " ", "issued": "20x4"})
    assert response.status_code == 400
    doc = parse(response)
    assert field_error(doc, "title") == "must not be empty"
    assert "YYYY" in field_error(doc, "issued")
    assert doc.cssselect(".error-summary a[href='#f-title']")


def test_the_metadata_step_adapts_to_the_type(client: FlaskClient, world: dict[str, Any]) -> None:
    article = new_draft(client)
    names = set(parse(client.get(f"/deposit/{article}/metadata")).xpath("//input/@name | //select/@name"))
    assert {"host.title", "host.issn", "host.volume", "host.issue", "host.page_start", "identifier:doi"} <= names
    assert "thesis.nailing_date" not in names

    chapter = new_draft(client, "kap", "Ett kapitel")
    names = set(parse(client.get(f"/deposit/{chapter}/metadata")).xpath("//input/@name"))
    assert {"host.title", "host.isbn"} <= names and "host.issn" not in names

    thesis = new_draft(client, "dok", "En avhandling")
    doc = parse(client.get(f"/deposit/{thesis}/metadata"))
    names = set(doc.xpath("//input/@name | //textarea/@name"))
    assert {"thesis.defence_at", "thesis.defence_place", "thesis.nailing_date", "related", "identifier:isbn"} <= names

    student = new_draft(client, "stud", "En uppsats")
    doc = parse(client.get(f"/deposit/{student}/metadata"))
    names = set(doc.xpath("//input/@name | //select/@name"))
    assert {"thesis.level", "thesis.credits", "thesis.programme"} <= names and "content_type" not in names
    roles = parse(client.get(f"/deposit/{student}/contributors")).xpath("//select[@id='ext-role']/option/@value")
    assert roles == ["aut", "ths", "exm"]


def test_changing_the_type_shows_the_new_fields_without_saving(client: FlaskClient, world: dict[str, Any]) -> None:
    pub_id = new_draft(client)
    doc = parse(client.get(f"/deposit/{pub_id}/metadata"))
    form = {"publication_type": "dok", "retype": "1", "titles[0].title": "Ålgräs i Östersjön", "version": version_of(doc)}
    doc = parse(client.post(f"/deposit/{pub_id}/metadata", data=form))
    assert doc.xpath("//input[@name='thesis.nailing_date']")
    assert records.get_publication(world["submitter"], pub_id).publication_type == "art"


def metadata_form(client: FlaskClient, pub_id: int, **values: str) -> dict[str, str]:
    doc = parse(client.get(f"/deposit/{pub_id}/metadata"))
    form = {el.get("name"): el.get("value") or "" for el in doc.xpath("//form//input[@name]") if el.get("type") != "file"}
    form.update({el.get("name"): (el.xpath("option[@selected]/@value") or [""])[0] for el in doc.xpath("//form//select")})
    form.update({el.get("name"): el.text or "" for el in doc.xpath("//form//textarea")})
    form.pop("retype", None)
    form.update(values)
    return form


def test_saving_the_metadata_step_and_a_bad_issn(client: FlaskClient, world: dict[str, Any]) -> None:
    pub_id = new_draft(client)
    form = metadata_form(client, pub_id, **{"host.title": "Marine Ecology Progress Series", "host.issn": "0171-8631",
                                            "languages": "swe", "content_type": "ref", "go": "next"})
    response = client.post(f"/deposit/{pub_id}/metadata", data=form)
    assert response.status_code == 400
    doc = parse(response)
    assert "check digit" in field_error(doc, "host.issn") or "ISSN" in field_error(doc, "host.issn")
    assert doc.xpath("//input[@name='host.title']/@value") == ["Marine Ecology Progress Series"]  # nothing lost

    form["host.issn"] = "0171-8630"
    form["keywords"] = "ålgräs, Östersjön"
    form["identifier:doi"] = "https://doi.org/10.3354/MEPS99999"
    response = client.post(f"/deposit/{pub_id}/metadata", data=form)
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/deposit/{pub_id}/contributors")
    pub = records.get_publication(world["submitter"], pub_id)
    assert (pub.host_issn, [k.term for k in pub.keywords], pub.identifiers[0].value) == (
        "0171-8630", ["ålgräs", "Östersjön"], "10.3354/meps99999")


def test_a_stale_form_is_not_saved_over_a_newer_one(client: FlaskClient, world: dict[str, Any]) -> None:
    pub_id = new_draft(client)
    old = metadata_form(client, pub_id, languages="eng")
    client.post(f"/deposit/{pub_id}/metadata", data=metadata_form(client, pub_id, languages="swe"))
    response = client.post(f"/deposit/{pub_id}/metadata", data=old)
    assert response.status_code == 409


def test_thesis_fields_are_read_in_local_time_and_papers_linked(client: FlaskClient, world: dict[str, Any]) -> None:
    paper = deposit.create_draft(world["submitter"], factories.article())
    pub_id = new_draft(client, "dok", "En avhandling")
    form = metadata_form(client, pub_id, **{"thesis.defence_at": "2031-06-12T10:00", "thesis.nailing_date": "2031-05-20",
                                            "related": f"#{paper.id}\nManuscript in preparation"})
    response = client.post(f"/deposit/{pub_id}/metadata", data=form)
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    pub = records.get_publication(world["submitter"], pub_id)
    assert pub.thesis.defence_at.isoformat() == "2031-06-12T08:00:00+00:00"  # 10:00 in Stockholm in summer
    assert [(r.related_id, r.title) for r in pub.relations] == [(paper.id, paper.main_title), (None, "Manuscript in preparation")]
    doc = parse(client.get(f"/deposit/{pub_id}/metadata"))
    assert doc.xpath("//input[@name='thesis.defence_at']/@value") == ["2031-06-12T10:00"]


def test_contributors_found_and_added_without_javascript(client: FlaskClient, world: dict[str, Any]) -> None:
    pub_id = new_draft(client)
    doc = parse(client.get(f"/deposit/{pub_id}/contributors?q=öberg"))
    [form] = [f for f in doc.cssselect("#person-results form")]
    data = {el.get("name"): el.get("value") for el in form.xpath(".//input")}
    data.update(action="add-person", role="aut", org_unit_id=str(world["kemi"].id))
    assert client.post(f"/deposit/{pub_id}/contributors", data=data).status_code == 302
    version = version_of(parse(client.get(f"/deposit/{pub_id}/contributors")))
    response = client.post(f"/deposit/{pub_id}/contributors", data={
        "action": "add-external", "version": version, "family": "Smith", "given": "John",
        "affiliation": "University of Oxford", "country": "gb", "role": "aut"})
    assert response.status_code == 302
    pub = records.get_publication(world["submitter"], pub_id)
    assert [(c.person_id, c.family_name, [a.name for a in c.affiliations]) for c in pub.contributors] == [
        (world["person"].id, "Öberg", ["Department of Chemistry"]), (None, "Smith", ["University of Oxford"])]
    doc = parse(client.get(f"/deposit/{pub_id}/contributors"))
    response = client.post(f"/deposit/{pub_id}/contributors", data={"action": "up", "index": "1", "version": version_of(doc)})
    assert response.status_code == 302
    assert [c.family_name for c in records.get_publication(world["submitter"], pub_id).contributors] == ["Smith", "Öberg"]


def test_a_bad_orcid_of_an_external_person_is_shown_at_its_field(client: FlaskClient, world: dict[str, Any]) -> None:
    pub_id = new_draft(client)
    version = version_of(parse(client.get(f"/deposit/{pub_id}/contributors")))
    response = client.post(f"/deposit/{pub_id}/contributors", data={
        "action": "add-external", "version": version, "family": "Smith", "orcid": "0000-0002-1825-0098", "role": "aut"})
    assert response.status_code == 400
    assert "ORCID" in field_error(parse(response), "orcid") or "check" in field_error(parse(response), "orcid")


def test_live_search_fragment(client: FlaskClient, world: dict[str, Any]) -> None:
    pub_id = new_draft(client)
    response = client.get(f"/deposit/search/persons?publication={pub_id}&q=1825-0097")
    assert response.status_code == 200 and "Åsa Öberg" in response.get_data(as_text=True)
    assert "Nobody in the register matches" in client.get("/deposit/search/persons?q=zzz").get_data(as_text=True)


def test_licence_and_submission(client: FlaskClient, world: dict[str, Any]) -> None:
    pub = deposit.create_draft(world["submitter"], factories.article(licence=None))
    doc = parse(client.get(f"/deposit/{pub.id}/licence"))
    response = client.post(f"/deposit/{pub.id}/licence", data={"licence": "https://example.org/mine", "version": version_of(doc)})
    assert response.status_code == 400
    response = client.post(f"/deposit/{pub.id}/licence", data={
        "licence": "https://creativecommons.org/licenses/by/4.0/", "version": version_of(doc), "go": "next"})
    assert response.headers["Location"].endswith(f"/deposit/{pub.id}/confirm")
    response = client.post(f"/deposit/{pub.id}/confirm", data={"comment": "Hej!"})
    assert response.status_code == 302
    doc = parse(client.get("/deposit/"))
    assert "Submitted for review" in text_of(doc)
    response = client.get(f"/deposit/{pub.id}/metadata")
    assert response.status_code == 409  # submitted: no longer the submitter's to change


def test_submission_is_refused_with_links_to_the_steps(client: FlaskClient, world: dict[str, Any]) -> None:
    pub_id = new_draft(client)
    response = client.post(f"/deposit/{pub_id}/confirm", data={})
    assert response.status_code == 400
    links = parse(response).xpath("//div[@class='error-summary']//a/@href")
    assert f"/deposit/{pub_id}/contributors" in links and f"/deposit/{pub_id}/metadata" in links
    assert records.get_publication(world["submitter"], pub_id).state == "draft"


def test_someone_elses_draft_is_not_found(client: FlaskClient, world: dict[str, Any]) -> None:
    theirs = deposit.create_draft(world["other"], factories.article(titles=[{"title": "Theirs"}]))
    for url in (f"/deposit/{theirs.id}/metadata", f"/deposit/{theirs.id}/contributors", f"/deposit/{theirs.id}/confirm",
                f"/publications/{theirs.id}"):
        assert client.get(url).status_code == 404, url
    assert client.post(f"/deposit/{theirs.id}/confirm", data={}).status_code == 404


def test_a_submitter_cannot_use_the_review_pages(client: FlaskClient, world: dict[str, Any]) -> None:
    pub = deposit.create_draft(world["submitter"], factories.article())
    assert client.get("/review/").status_code == 403
    assert client.post(f"/review/{pub.id}/publish", data={}).status_code == 403
    assert records.get_publication(world["submitter"], pub.id).state == "draft"


def test_duplicate_warning_before_a_second_copy(client: FlaskClient, world: dict[str, Any]) -> None:
    first = deposit.create_draft(world["submitter"], factories.article())
    response = client.post("/deposit/new", data={"publication_type": "art", "title": "Another title",
                                                 "doi": "10.3354/meps12345", "issued": "2021"})
    assert response.status_code == 409
    doc = parse(response)
    assert doc.cssselect(f".duplicates a[href='/publications/{first.id}']")
    assert len(deposit.my_publications(world["submitter"])) == 1
    response = client.post("/deposit/new", data={"publication_type": "art", "title": "Another title",
                                                 "doi": "10.3354/meps12345", "issued": "2021", "allow_duplicate": "1"})
    assert response.status_code == 302 and len(deposit.my_publications(world["submitter"])) == 2


def test_the_files_step_uploads_through_the_files_endpoint(client: FlaskClient, world: dict[str, Any]) -> None:
    pub_id = new_draft(client)
    doc = parse(client.get(f"/deposit/{pub_id}/files"))
    [form] = doc.xpath("//form[@enctype='multipart/form-data']")
    assert form.get("action") == f"/publications/{pub_id}/files"
    continue_to = form.xpath(".//button[@name='next']/@value")[0]
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    response = client.post(form.get("action"), data={"file": (io.BytesIO(pdf), "Ålgräs.pdf"), "role": "fulltext",
                                                      "access": "open", "next": continue_to},
                           content_type="multipart/form-data")
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/deposit/{pub_id}/licence")
    doc = parse(client.get(f"/deposit/{pub_id}/files"))
    assert "Ålgräs.pdf" in text_of(doc) and "application/pdf" in text_of(doc)
    [remove] = doc.xpath("//form[contains(@action, '/delete')]")
    response = client.post(remove.get("action"), data={"next": remove.xpath(".//input[@name='next']/@value")[0]})
    assert response.status_code == 303 and not records.get_publication(world["submitter"], pub_id).files


def test_units_are_found_by_name_for_the_affiliation(client: FlaskClient, world: dict[str, Any]) -> None:
    factories.unit(world["uu"], "fysik", "Department of Physics")
    pub_id = new_draft(client)
    doc = parse(client.get(f"/deposit/{pub_id}/contributors?q=Öberg&unit_q=chem"))
    offered = doc.xpath("//select[@name='org_unit_id']/option[@value!='']/text()")
    assert offered == ["Department of Chemistry"]
    doc = parse(client.get(f"/deposit/{pub_id}/contributors?q=Öberg"))
    assert set(doc.xpath("//select[@name='org_unit_id']/option[@value!='']/text()")) == {
        "Department of Chemistry", "Department of Physics"}
