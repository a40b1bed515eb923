"""The landing page for machines: Scholar meta tags, Signposting headers, sitemap.xml and robots.txt."""

from __future__ import annotations

import datetime as dt
import io
import urllib.robotparser
from collections import defaultdict

import pytest
from flask.testing import FlaskClient
from lxml import etree, html
from werkzeug.http import parse_list_header, parse_options_header

from repository.services import files, records, sitemap
from tests import factories
from tests.unit.files.conftest import PDF, PNG, World

SITEMAP_NS = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}


def meta_tags(client: FlaskClient, pub_id: int) -> dict[str, list[str]]:
    doc = html.fromstring(client.get(f"/publications/{pub_id}").get_data(as_text=True))
    tags: dict[str, list[str]] = defaultdict(list)
    for el in doc.xpath("/html/head/meta[starts-with(@name, 'citation_')]"):
        tags[el.get("name")].append(el.get("content"))
    return dict(tags)


def links(header_values: list[str]) -> list[tuple[str, dict[str, str]]]:
    """RFC 8288 Link values as (target, parameters), read with werkzeug's generic header parsers."""
    parsed = []
    for value in header_values:
        for item in parse_list_header(value):
            target, params = parse_options_header(item)
            parsed.append((target.strip("<>"), params))
    return parsed


def test_scholar_meta_tags_of_an_article(client: FlaskClient, world: World) -> None:
    pdf = files.upload(world["editor"], world.published.id, io.BytesIO(PDF), "Ålgräs.pdf")
    files.upload(world["editor"], world.published.id, io.BytesIO(PDF), "later.pdf", access="embargoed",
                 embargo_until=dt.date(2099, 1, 1))
    files.upload(world["editor"], world.published.id, io.BytesIO(PNG), "figure.png", role="supplementary")
    tags = meta_tags(client, world.published.id)
    assert tags == {
        "citation_title": ["Ålgräsängar i Östersjön: en översikt"],
        "citation_author": ["Öberg, Åsa", "Smith, John"],
        "citation_publication_date": ["2021/05/17"],
        "citation_journal_title": ["Marine Ecology Progress Series"],
        "citation_volume": ["12"],
        "citation_issue": ["3"],
        "citation_firstpage": ["101"],
        "citation_lastpage": ["118"],
        "citation_issn": ["0171-8630"],
        "citation_doi": ["10.3354/meps12345"],
        "citation_pdf_url": [f"http://hylla.test/files/{pdf.id}/%C3%85lgr%C3%A4s.pdf"],
        "citation_language": ["sv"],
        "citation_keywords": ["ålgräs", "eelgrass"],
        "citation_abstract_html_url": [f"http://hylla.test/publications/{world.published.id}"],
    }


def test_scholar_meta_tags_of_a_thesis(client: FlaskClient, world: World) -> None:
    thesis = records.create_publication(world["owner"], factories.doctoral_thesis())
    records.publish_now(world["editor"], thesis.id, urn_prefix="urn:nbn:se")
    tags = meta_tags(client, thesis.id)
    assert tags["citation_title"] == ["Proteinveckning i cellmembran"]
    assert tags["citation_author"] == ["Karlsson, Märta"]  # supervisors and opponents are not authors
    assert tags["citation_publication_date"] == ["2023"]
    assert tags["citation_isbn"] == ["978-91-513-1234-7"]
    assert tags["citation_publisher"] == ["Acta Universitatis Upsaliensis"]
    assert tags["citation_dissertation_institution"] == ["Uppsala University"]
    assert "citation_pdf_url" not in tags and "citation_journal_title" not in tags


def test_drafts_carry_no_meta_tags(client: FlaskClient, world: World) -> None:
    client.post("/login", data={"email": world["owner"].email, "password": factories.PASSWORD})
    assert meta_tags(client, world.draft.id) == {}


def test_signposting_links(client: FlaskClient, world: World) -> None:
    pdf = files.upload(world["editor"], world.published.id, io.BytesIO(PDF), "paper.pdf")
    files.upload(world["editor"], world.published.id, io.BytesIO(PNG), "secret.png", access="restricted")
    for method in (client.get, client.head):
        response = method(f"/publications/{world.published.id}")
        assert response.status_code == 200
        found = links(response.headers.getlist("Link"))
        by_rel: dict[str, list[tuple[str, dict[str, str]]]] = defaultdict(list)
        for target, params in found:
            by_rel[params["rel"]].append((target, params))
        landing = f"http://hylla.test/publications/{world.published.id}"
        assert [t for t, _ in by_rel["cite-as"]] == ["https://doi.org/10.3354/meps12345"]
        assert [t for t, _ in by_rel["author"]] == ["https://orcid.org/0000-0002-1825-0097"]
        assert by_rel["item"] == [(f"http://hylla.test/files/{pdf.id}/paper.pdf",
                                   {"rel": "item", "type": "application/pdf"})]
        described = {t: p["type"] for t, p in by_rel["describedby"]}
        assert described == {
            f"{landing}/export/bibtex": "application/x-bibtex",
            f"{landing}/export/ris": "application/x-research-info-systems",
            f"{landing}/export/csl-json": "application/vnd.citationstyles.csl+json",
            f"{landing}/export/mods": "application/mods+xml",
            f"{landing}/export/datacite": "application/vnd.datacite.datacite+xml",
        }
        assert [t for t, _ in by_rel["license"]] == ["https://creativecommons.org/licenses/by/4.0/"]
        assert {t for t, _ in by_rel["type"]} == {"https://schema.org/ScholarlyArticle", "https://schema.org/AboutPage"}


def test_without_a_doi_the_urn_is_cited(client: FlaskClient, world: World) -> None:
    thesis = records.create_publication(world["owner"], factories.doctoral_thesis())
    records.publish_now(world["editor"], thesis.id, urn_prefix="urn:nbn:se")
    found = links(client.get(f"/publications/{thesis.id}").headers.getlist("Link"))
    cite = [t for t, p in found if p["rel"] == "cite-as"]
    assert cite == [f"https://urn.kb.se/resolve?urn=urn:nbn:se:uu:hylla-{thesis.id}"]
    assert ("https://schema.org/Thesis", {"rel": "type"}) in found


def test_no_signposting_on_drafts_or_errors(client: FlaskClient, world: World) -> None:
    client.post("/login", data={"email": world["owner"].email, "password": factories.PASSWORD})
    assert client.get(f"/publications/{world.draft.id}").headers.getlist("Link") == []
    assert client.get("/publications/999999").headers.getlist("Link") == []


def test_sitemap_lists_public_records_only(client: FlaskClient, world: World) -> None:
    gone = records.create_publication(world["owner"], factories.article(titles=[{"title": "Tillbakadragen"}]))
    records.publish_now(world["editor"], gone.id, urn_prefix="urn:nbn:se")
    records.withdraw(world["editor"], gone.id, "Duplicate")
    response = client.get("/sitemap.xml")
    assert response.status_code == 200 and response.mimetype == "application/xml"
    root = etree.fromstring(response.data, etree.XMLParser(resolve_entities=False, no_network=True))
    assert root.tag == "{http://www.sitemaps.org/schemas/sitemap/0.9}urlset"
    locs = root.xpath("s:url/s:loc/text()", namespaces=SITEMAP_NS)
    assert locs == [f"http://hylla.test/publications/{world.published.id}"]
    lastmod = root.xpath("s:url/s:lastmod/text()", namespaces=SITEMAP_NS)[0]
    stamp = world.published.datestamp.astimezone(dt.timezone.utc)
    assert lastmod == stamp.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_a_sitemap_index_past_the_limit(client: FlaskClient, world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    ids = [world.published.id]
    for n in range(4):
        pub = records.create_publication(world["owner"], factories.article(titles=[{"title": f"Nummer {n}"}]))
        records.publish_now(world["editor"], pub.id, urn_prefix="urn:nbn:se")
        ids.append(pub.id)
    monkeypatch.setattr(sitemap, "MAX_URLS_PER_SITEMAP", 2)
    monkeypatch.setattr(sitemap, "BATCH", 1)  # several keyset batches per page
    monkeypatch.setattr(sitemap.public_datestamps, "__defaults__", (1, 2))
    index = etree.fromstring(client.get("/sitemap.xml").data)
    assert index.tag == "{http://www.sitemaps.org/schemas/sitemap/0.9}sitemapindex"
    pages = index.xpath("s:sitemap/s:loc/text()", namespaces=SITEMAP_NS)
    assert pages == [f"http://hylla.test/sitemap-{n}.xml" for n in (1, 2, 3)]
    listed = []
    for page in pages:
        doc = etree.fromstring(client.get(page.removeprefix("http://hylla.test")).data)
        listed += doc.xpath("s:url/s:loc/text()", namespaces=SITEMAP_NS)
    assert listed == [f"http://hylla.test/publications/{i}" for i in sorted(ids)]
    assert client.get("/sitemap-4.xml").status_code == 404


def test_robots_txt_points_at_the_sitemap(client: FlaskClient) -> None:
    response = client.get("/robots.txt")
    assert response.mimetype == "text/plain"
    lines = response.get_data(as_text=True).splitlines()
    assert "Sitemap: http://hylla.test/sitemap.xml" in lines and "User-agent: *" in lines
    # The standard library's robots.txt reader: landing pages and files open, private pages closed.
    rules = urllib.robotparser.RobotFileParser()
    rules.parse(lines)
    for allowed in ("/publications/12", "/files/3/Ålgräs.pdf", "/persons/4", "/sitemap.xml"):
        assert rules.can_fetch("Googlebot", "http://hylla.test" + allowed), allowed
    for refused in ("/deposit/new", "/review", "/account/password", "/api/publications", "/search?q=x"):
        assert not rules.can_fetch("Googlebot", "http://hylla.test" + refused), refused
