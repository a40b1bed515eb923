"""Content negotiation on ``/publications/<id>`` the way DOI content negotiation answers, and the landing page's links."""

from __future__ import annotations

import json

import pytest
from flask.testing import FlaskClient
from lxml import html

from exports import citations
from exports.registry import FORMATS
from repository.services import records
from tests.conftest import StatementCounter
from tests.unit.web_exports.conftest import World
from tests.unit.web_exports.parsing import titles

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"
APA_TEXT = ("Öberg, Å., & Smith, J. (2021). Ålgräsängar i Östersjön: en översikt. Marine Ecology Progress Series, "
            "12(3), 101–118. https://doi.org/10.3354/meps12345\n")


@pytest.mark.parametrize("accept, answered", [
    ("application/x-bibtex", "bibtex"),
    ("application/x-research-info-systems", "ris"),
    ("application/vnd.citationstyles.csl+json", "csl-json"),
    ("application/mods+xml", "mods"),
    ("application/vnd.datacite.datacite+xml", "datacite"),
    ("Application/X-BibTeX", "bibtex"),
    ("text/html;q=0.5, application/x-bibtex", "bibtex"),
    ("application/x-bibtex, */*;q=0.1", "bibtex"),
    ("image/png, application/x-research-info-systems;q=0.4", "ris"),
    ("text/html, application/x-bibtex", "page"),
    ("application/x-bibtex;q=0.5, text/html", "page"),
    ("application/x-bibtex;q=0, */*", "page"),
    (BROWSER, "page"),
    ("*/*", "page"),
    ("text/*", "page"),
    ("application/xml", "page"),
    ("application/pdf", "page"),
    ("", "page"),
])
def test_accept_matrix(client: FlaskClient, world: World, accept: str, answered: str) -> None:
    response = client.get(f"/publications/{world.article.id}", headers={"Accept": accept} if accept else {})
    assert response.status_code == 200
    assert "Accept" in response.vary
    if answered == "page":
        assert response.mimetype == "text/html"
        assert html.fromstring(response.get_data(as_text=True)).cssselect("h1")
        return
    fmt = FORMATS[answered]
    assert response.headers["Content-Type"] == f"{fmt.mime_type}; charset=utf-8"
    assert "Content-Disposition" not in response.headers  # shown in place, as doi.org does
    body = response.data
    if answered == "csl-json":
        assert response.json["title"].startswith("Ålgräsängar")  # one item, as doi.org answers
        body = json.dumps([response.json]).encode()
    assert titles(answered, body)[0].startswith("Ålgräsängar i Östersjön")


@pytest.mark.parametrize("accept, expected", [
    ("text/x-bibliography", APA_TEXT),
    ("text/x-bibliography; style=apa; locale=en-US", APA_TEXT),
    ('text/x-bibliography; style="ieee"; locale=sv-SE',
     "[1] Å. Öberg och J. Smith, ”Ålgräsängar i Östersjön: en översikt”, Marine Ecology Progress Series, "
     "vol. 12, nr 3, s. 101–118, maj 2021, doi: 10.3354/meps12345.\n"),
    ("text/x-bibliography; style=mla",
     "Öberg, Åsa, and John Smith. “Ålgräsängar i Östersjön: en översikt.” Marine Ecology Progress Series, "
     "vol. 12, no. 3, May 2021, pp. 101–18, https://doi.org/10.3354/meps12345.\n"),
])
def test_formatted_reference(client: FlaskClient, world: World, accept: str, expected: str) -> None:
    response = client.get(f"/publications/{world.article.id}", headers={"Accept": accept})
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/x-bibliography; charset=utf-8"
    assert response.get_data(as_text=True) == expected
    assert "Accept" in response.vary


@pytest.mark.parametrize("accept, listed", [
    ("text/x-bibliography; style=harvard1", list(citations.STYLES)),
    ("text/x-bibliography; locale=xx-YY", list(citations.LOCALES)),
])
def test_unknown_style_or_locale_is_400_listing_the_known(client: FlaskClient, world: World, accept: str,
                                                          listed: list[str]) -> None:
    response = client.get(f"/publications/{world.article.id}", headers={"Accept": accept})
    assert response.status_code == 400 and response.mimetype == "text/plain"
    assert all(name in response.get_data(as_text=True) for name in listed)


def test_drafts_and_withdrawn_records_negotiate_nothing(client: FlaskClient, world: World) -> None:
    bibtex = {"Accept": "application/x-bibtex"}
    assert client.get(f"/publications/{world.draft.id}", headers=bibtex).status_code == 404
    records.withdraw(world.editor, world.article.id, "Duplicate")
    response = client.get(f"/publications/{world.article.id}", headers=bibtex)
    assert response.status_code == 410 and response.mimetype == "text/html"


def test_negotiation_costs_no_more_queries_than_the_page(
        client: FlaskClient, world: World, count_statements: StatementCounter) -> None:
    costs = []
    for accept in ("text/html", "application/x-bibtex", "text/x-bibliography; style=ieee"):
        before = count_statements.count
        assert client.get(f"/publications/{world.thesis.id}", headers={"Accept": accept}).status_code == 200
        costs.append(count_statements.count - before)
    assert costs[1] <= costs[0] and costs[2] <= costs[0], costs


def test_landing_page_offers_cite_and_every_export(client: FlaskClient, world: World) -> None:
    doc = html.fromstring(client.get(f"/publications/{world.article.id}").get_data(as_text=True))
    form = doc.cssselect("section.cite-export form")[0]
    assert form.get("method") == "get" and form.get("action") == f"/publications/{world.article.id}/cite"
    assert [o.get("value") for o in form.cssselect("select[name=style] option")] == list(citations.STYLES)
    for field in form.cssselect("select"):
        assert doc.cssselect(f"label[for={field.get('id')}]")
    cited = client.get(form.get("action"), query_string=dict(form.form_values()))
    assert cited.status_code == 200 and "Ålgräsängar" in cited.get_data(as_text=True)
    links = [a.get("href") for a in doc.cssselect("section.cite-export a[download]")]
    assert links == [f"/publications/{world.article.id}/export/{name}" for name in FORMATS]
    for link, name in zip(links, FORMATS):
        assert titles(name, client.get(link).data)[0].startswith("Ålgräsängar")


def test_hostile_title_on_the_landing_page_is_text(client: FlaskClient, world: World) -> None:
    doc = html.fromstring(client.get(f"/publications/{world.hostile.id}").get_data(as_text=True))
    assert not doc.cssselect("main script")
    assert doc.cssselect("h1")[0].text_content() == f"{world.hostile.main_title}"
