"""The national bibliography's pages: search with facets, work pages with provenance, operator decisions, quality reports, exports, sources.

Real DiVA feeds are harvested from a live local OAI-PMH server into the app's database (inside the
test's rolled-back transaction), then read through the Flask test client; pages are parsed with
lxml.html and CSV with the csv module.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from lxml import html
from sqlalchemy import select

from harvest import store
from harvest.client import ClientSettings
from harvest.models import HarvestedRecord, Work
from harvest.run import HarvestOptions, RunReport, harvest_source
from repository.db import database, session
from tests import factories
from tests.harvest_server import OAITestServer, identify

QUICK = HarvestOptions(client=ClientSettings(timeout=2.0, retries=1, backoff=0.01, min_interval=0.0))
SHARED_DOI = "10.1007/s11192-019-03121-z"


def _harvest(name: str, full: bool = False) -> RunReport:
    options = HarvestOptions(client=QUICK.client, full=full)
    return harvest_source(database().sessionmaker, name, options)


@pytest.fixture
def national(app: Flask, oai_server: OAITestServer) -> OAITestServer:
    """Two DiVA sources: three institutions reporting one paper (one work), and three theses of KTH."""
    oai_server.route({"verb": "Identify"}, identify())
    oai_server.route({"verb": "ListRecords", "metadataPrefix": "swepub_mods", "set": "coauthored"},
                     "swepub-redux/local_personid_from_candidate.xml")
    oai_server.route({"verb": "ListRecords", "metadataPrefix": "swepub_mods", "set": "theses"},
                     "swepub-redux/obsolete-test-listrecords.xml")
    for name in ("coauthored", "theses"):
        store.add_source(session, name, oai_server.url, "swepub_mods", set_spec=name, schedule="@daily")
    session.commit()
    for name in ("coauthored", "theses"):
        assert _harvest(name).status == "succeeded"
    return oai_server


def page(client: FlaskClient, url: str, status: int = 200) -> html.HtmlElement:
    response = client.get(url)
    assert response.status_code == status, response.get_data(as_text=True)[:2000]
    return html.fromstring(response.get_data(as_text=True))


def _login(client: FlaskClient, role: str) -> Any:
    user = factories.user(role)
    client.post("/login", data={"email": user.email, "password": factories.PASSWORD})
    return user


def _shared_work() -> Work:
    return session.scalars(select(Work).where(Work.record_count == 3)).one()


def test_search_with_facets_filters_and_pages(client: FlaskClient, national: OAITestServer) -> None:
    doc = page(client, "/national/")
    assert doc.cssselect(".total")[0].text == "4"  # 3 theses + 1 paper three institutions reported
    institutions = {a.text_content().strip() for a in doc.cssselect('[data-facet="institution"] a')}
    assert {"kth", "umu", "uu"} <= institutions
    assert doc.cssselect('[data-facet="type"]') and doc.cssselect('[data-facet="year"]')
    assert doc.cssselect('label[for="q"]') and doc.cssselect("form[role=search]")

    uu = page(client, "/national/?institution=uu")
    assert uu.cssselect(".total")[0].text == "1"
    work = _shared_work()
    assert uu.cssselect(".results a")[0].get("href") == f"/national/works/{work.id}"
    assert page(client, "/national/?institution=uu&institution=umu").cssselect(".total")[0].text == "1"

    title_word = work.sort_title.split()[0]
    assert page(client, f"/national/?q={title_word}").cssselect(".total")[0].text != "0"
    assert page(client, "/national/?q=zzzznotaword").cssselect(".total")[0].text == "0"

    first = page(client, "/national/?size=1&sort=title")
    assert len(first.cssselect(".results li")) == 1
    next_link = first.cssselect("a[rel=next]")[0].get("href")
    second = page(client, next_link)
    assert second.cssselect(".results a")[0].text != first.cssselect(".results a")[0].text

    bad = page(client, "/national/?year=20x4", status=400)
    assert "year='20x4'" in bad.cssselect("[role=alert]")[0].text
    page(client, "/national/?cursor=garbage", status=400)


def test_work_page_explains_the_merge_and_where_fields_come_from(client: FlaskClient,
                                                                 national: OAITestServer) -> None:
    work = _shared_work()
    doc = page(client, f"/national/works/{work.id}")
    reasons = " ".join(li.text_content() for li in doc.cssselect('[aria-labelledby="why-heading"] li'))
    assert f"DOI {SHARED_DOI} equal" in reasons and "master" in reasons
    assert len(doc.cssselect(".source-record")) == 3
    assert {"kth", "umu", "uu"} <= set(doc.cssselect(".kicker")[0].text_content().replace(",", " ").split())
    provenance = doc.cssselect(".provenance table")[0].text_content()
    assert "Title" in provenance and "Identifiers" in provenance and "used" in provenance
    assert not doc.cssselect(".operator")  # anonymous visitors read, they do not decide

    record = session.scalars(select(HarvestedRecord).order_by(HarvestedRecord.id)).first()
    raw = client.get(f"/national/records/{record.id}.xml")
    assert raw.status_code == 200 and raw.mimetype == "text/plain"
    assert raw.get_data(as_text=True) == record.raw_xml
    shown = page(client, f"/national/records/{record.id}")
    assert shown.cssselect("pre.xml")[0].text_content() == record.raw_xml
    page(client, "/national/works/999999", status=404)


def test_operator_splits_and_merges_and_the_decisions_survive_a_harvest(client: FlaskClient, app: Flask,
                                                                        national: OAITestServer) -> None:
    work = _shared_work()
    members = sorted(m.record_id for m in work.memberships)
    anonymous = client.post(f"/national/works/{work.id}/split", data={"record_id": members[0]})
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    _login(client, "editor")
    assert client.post(f"/national/works/{work.id}/split", data={"record_id": members[0]}).status_code == 403
    client.post("/logout")

    admin = _login(client, "administrator")
    doc = page(client, f"/national/works/{work.id}")
    assert doc.cssselect('.operator form[method=post] input[name="csrf_token"]')
    assert doc.cssselect('label[for="record_id"]') and doc.cssselect('label[for="other_work"]')

    out = members[-1]
    done = client.post(f"/national/works/{work.id}/split", data={"record_id": out, "comment": "different paper"})
    assert done.status_code == 303
    session.expire_all()
    assert sorted(m.record_id for m in session.get(Work, work.id).memberships) == members[:-1]
    alone = store.work_of_record(session, out)
    assert alone is not None and alone != work.id
    decisions = page(client, f"/national/works/{work.id}").cssselect('[aria-labelledby="why-heading"] ul li')
    assert any("kept apart" in li.text_content() and admin.email in li.text_content() for li in decisions)

    # A full harvest of the same feed again: the operator's split holds.
    assert _harvest("coauthored", full=True).status == "succeeded"
    session.expire_all()
    assert store.work_of_record(session, out) != store.work_of_record(session, members[0])

    bad = client.post(f"/national/works/{work.id}/merge", data={"other_work": "abc"})
    assert bad.status_code == 400
    form = html.fromstring(bad.get_data(as_text=True))
    assert form.cssselect('#other_work[aria-invalid="true"][aria-describedby="other_work-error"]')
    assert "number of the work" in form.cssselect("#other_work-error")[0].text
    missing = html.fromstring(client.post(f"/national/works/{work.id}/merge",
                                          data={"other_work": "999999"}).get_data(as_text=True))
    assert "no work 999999" in missing.cssselect("#other_work-error")[0].text

    merged = client.post(f"/national/works/{work.id}/merge", data={"other_work": str(alone)})
    assert merged.status_code == 303
    session.expire_all()
    assert store.work_of_record(session, out) == store.work_of_record(session, members[0])
    reasons = page(client, client.get(merged.headers["Location"]).headers["Location"]).text_content()
    assert f"merged by operator {admin.email}" in reasons


def test_forms_refuse_a_post_without_its_csrf_token(client: FlaskClient, app: Flask, national: OAITestServer) -> None:
    _login(client, "administrator")
    work = _shared_work()
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        refused = client.post(f"/national/works/{work.id}/split", data={"record_id": work.master_record_id})
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert refused.status_code == 400
    assert len(session.get(Work, work.id).memberships) == 3


def test_quality_reports_with_labels_worst_records_trend_and_csv(client: FlaskClient,
                                                                 national: OAITestServer) -> None:
    index = page(client, "/national/quality/")
    listed = {a.text for a in index.cssselect("table.report th a")}
    assert {"kth", "uu", "umu"} <= listed
    assert not [r for r in csv.DictReader(io.StringIO(client.get("/national/quality/uu/report.csv").get_data(
        as_text=True))) if r["severity"] != "info"]  # Uppsala's record has nothing to fix

    doc = page(client, "/national/quality/kth")
    rows = doc.cssselect('[aria-labelledby="codes-heading"] tbody tr')
    # KTH's record carries an ORCID whose check digit is wrong; SwePub has no flag label for it, so
    # the report shows the problem's own message.
    assert [(r.cssselect("code")[0].text, r.cssselect("td")[2].text, r.cssselect("td")[3].text) for r in rows] == [
        ("orcid_invalid", "error", "1")]
    assert "is not a valid ORCID iD" in rows[0].cssselect("td")[0].text
    assert doc.cssselect('[aria-labelledby="trend-heading"] tbody tr')  # one row per finished run
    worst = doc.cssselect('[aria-labelledby="worst-heading"] ol.results > li')
    assert len(worst) == 1 and "check digit" in worst[0].text_content()

    report = client.get("/national/quality/kth/report.csv")
    assert report.mimetype == "text/csv" and "attachment" in report.headers["Content-Disposition"]
    table = list(csv.DictReader(io.StringIO(report.get_data(as_text=True))))
    assert [(r["institution"], r["code"], r["severity"], r["swepub_name"], r["records"]) for r in table] == [
        ("kth", "orcid_invalid", "error", "ORCID", "1")]
    problems = list(csv.DictReader(io.StringIO(client.get("/national/quality/kth/problems.csv").get_data(as_text=True))))
    assert [(p["code"], p["path"]) for p in problems if p["severity"] != "info"] == [
        ("orcid_invalid", problems[0]["path"])] and problems[0]["path"].startswith("contributors[")
    page(client, "/national/quality/nowhere", status=404)


def test_bibliometric_export_by_institution_and_year(client: FlaskClient, national: OAITestServer) -> None:
    work = _shared_work()
    year = str(work.year)
    lines = client.get(f"/national/export.jsonl?institution=umu&year={year}").get_data(as_text=True).splitlines()
    assert [json.loads(line)["work_id"] for line in lines] == [work.id]
    exported = json.loads(lines[0])
    assert exported["institutions"] == ["kth", "umu", "uu"] and len(exported["sources"]) == 3
    table = list(csv.DictReader(io.StringIO(client.get("/national/export.csv").get_data(as_text=True))))
    assert len(table) == 4 and {r["work_id"] for r in table} >= {str(work.id)}
    assert client.get("/national/export.csv?year=abcd").status_code == 400


def test_sources_page_for_administrators(client: FlaskClient, national: OAITestServer) -> None:
    assert client.get("/national/sources/").status_code == 302
    _login(client, "editor")
    assert client.get("/national/sources/").status_code == 403
    client.post("/logout")
    _login(client, "administrator")
    doc = page(client, "/national/sources/")
    rows = doc.cssselect("table.report tbody tr")
    assert len(rows) == 2 and "succeeded" in rows[0].text_content()

    bad = client.post("/national/sources/", data={"name": "two words", "base_url": "ftp://x", "metadata_prefix": "oai_dc",
                                                  "schedule": "61 * * * *", "institution_code": "KTH!"})
    assert bad.status_code == 400
    form = html.fromstring(bad.get_data(as_text=True))
    for field in ("name", "base_url", "schedule", "institution_code"):
        assert form.cssselect(f'#{field}[aria-invalid="true"]'), field
        assert form.cssselect(f"#{field}-error")[0].text, field
    assert "outside 0-59" in form.cssselect("#schedule-error")[0].text
    assert form.cssselect("#name")[0].get("value") == "two words"  # what was typed stays

    good = client.post("/national/sources/", data={"name": "dspace", "base_url": national.url,
                                                   "metadata_prefix": "oai_dc", "institution_code": "eur",
                                                   "schedule": "30 2 * * *"})
    assert good.status_code == 303
    assert store.get_source(session, "dspace").institution_code == "eur"
    run_id = store.latest_runs(session)[store.get_source(session, "theses").id].id
    assert "succeeded" in page(client, f"/national/runs/{run_id}").text_content()
    assert "30 2 * * *" in page(client, "/national/sources/dspace").text_content()
