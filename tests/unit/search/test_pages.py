"""The search page, browse pages, Atom feed, whole-result export and /api/search, on every backend."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlencode, urlsplit

import bibtexparser
import pytest
from flask.testing import FlaskClient
from lxml import etree, html

from tests.unit.search.conftest import Corpus

ATOM = "{http://www.w3.org/2005/Atom}"

HOSTILE = [
    '"unbalanced', "(unclosed", "closed)", "*", "**", "?", "a~2^3", "[1 TO 5]", "{x}", "a && || b", "NOT", "-",
    "OR", '"', "()", "\\", "/regex/", "title:", "author:()", "'; DROP TABLE publications; --",
    "1 OR 1=1; SELECT * FROM users", "NEAR(a b)", 'col : "x" *', "^", "\x00\x01\x7f", "x" * 10_000,
    "ålgräs" * 2000, "%", "%27", "' OR ''='", "search_fts MATCH 'a'", "a:b:c:d", "title:(((", "year:", "year:abcd",
    "year:2019..2018", "orcid:xyz", "doi:notadoi", "subject:99", "+" * 50, "😀 emoji", "\u202e rtl",
]


def client(corpus: Corpus) -> FlaskClient:
    return corpus.app.test_client()


def page(corpus: Corpus, url: str, status: int = 200) -> html.HtmlElement:
    response = client(corpus).get(url)
    assert response.status_code == status, response.get_data(as_text=True)[:800]
    assert response.mimetype == "text/html"
    return html.fromstring(response.get_data(as_text=True))


def api(corpus: Corpus, **params: object) -> dict:
    response = client(corpus).get("/api/search?" + urlencode(params, doseq=True))
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    return response.get_json()


@pytest.mark.parametrize("query", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_queries_answer_a_result_or_a_clear_message(corpus: Corpus, query: str) -> None:
    c = client(corpus)
    for path in ("/search", "/api/search", "/search.atom"):
        response = c.get(path, query_string={"q": query})
        assert response.status_code in (200, 400), (path, response.status_code)
        body = response.get_data(as_text=True)
        if response.status_code == 400:
            detail = json.loads(body)["detail"] if path != "/search" else \
                html.fromstring(body).cssselect("[role=alert]")[0].text_content()
            assert len(detail) > 15 and "Traceback" not in detail


@pytest.mark.parametrize("params", [
    {"type": "nonsense"}, {"year": "20x1"}, {"unit": "uu teknat!"}, {"subject": "12"}, {"language": "english"},
    {"oa": "maybe"}, {"level": "phd"}, {"person": "me"}, {"sort": "random"}, {"size": "0"}, {"size": "100000"},
    {"page": "-1"}, {"page": "x"}, {"cursor": "garbage!"}, {"cursor": "eyJ4Ijo1fQ"}, {"page": "9999"},
])
def test_bad_parameters_are_explained(corpus: Corpus, params: dict) -> None:
    response = client(corpus).get("/api/search", query_string=params)
    assert response.status_code == 400
    problem = response.get_json()
    assert response.mimetype == "application/problem+json"
    assert problem["status"] == 400 and problem["detail"]


def test_search_page_shows_counts_highlights_facets_and_removable_filters(corpus: Corpus) -> None:
    doc = page(corpus, "/search?q=ostersjon&type=art")
    total = int(doc.cssselect(".hits .total")[0].text_content())
    expected = corpus.oracle(lambda r: r.has("östersjön") and r.pub.publication_type == "art")
    assert total == len(expected) > 0
    marks = [m.text_content() for m in doc.cssselect(".results mark")]
    assert marks and all(m.lower() in ("östersjön", "ostersjon") for m in marks)
    assert doc.cssselect("section.facet[data-facet=year] li")
    chosen = doc.cssselect(".chosen a")
    assert len(chosen) == 1 and "Publication type" in chosen[0].text_content()
    removed = parse_qs(urlsplit(chosen[0].get("href")).query)
    assert removed == {"q": ["ostersjon"]}
    added = doc.cssselect("section.facet[data-facet=year] li a")[0].get("href")
    assert set(parse_qs(urlsplit(added).query)) == {"q", "type", "year"}


def test_unit_facet_opens_one_level_below_the_choice(corpus: Corpus) -> None:
    doc = page(corpus, "/search?unit=uu")
    entries = doc.cssselect("section.facet[data-facet=unit] li")
    assert "selected" in entries[0].get("class") and "Uppsala University" in entries[0].text_content()
    children = [parse_qs(urlsplit(li.cssselect("a")[0].get("href")).query)["unit"] for li in entries[1:]]
    assert all(c[0] == "uu" and c[1].count(":") == 1 and c[1].startswith("uu:") for c in children)
    occurring = {u for r in corpus.oracle(lambda r: "uu" in r.facets["unit"]) for u in r.facets["unit"]
                 if u.startswith("uu:") and u.count(":") == 1}
    assert {c[1] for c in children} == occurring
    assert any("Faculty of Science and Technology" in li.text_content() for li in entries)


def test_an_identifier_typed_into_the_box_opens_its_record(corpus: Corpus) -> None:
    for typed in ("10.3354/meps12345", "978-91-513-1234-7"):
        response = client(corpus).get("/search", query_string={"q": typed})
        assert response.status_code == 302
        key = "eelgrass" if typed.startswith("10.") else "thesis"
        assert response.headers["Location"].endswith(f"/publications/{corpus.ids[key]}")


def test_next_page_links_walk_every_result(corpus: Corpus) -> None:
    url = "/search?q=health&sort=title&size=20"
    seen: list[str] = []
    while url:
        doc = page(corpus, url)
        seen += [a.get("href") for a in doc.cssselect(".results h3 a")]
        nxt = doc.cssselect("a[rel=next]")
        url = nxt[0].get("href") if nxt else ""
    assert len(seen) == len(set(seen)) == len(corpus.oracle(lambda r: r.has("health")))


def test_api_shape(corpus: Corpus) -> None:
    body = api(corpus, q="ålgräs", size=5, sort="newest")
    assert set(body) == {"query", "total", "items", "facets", "links"}
    assert body["query"] == {"q": "ålgräs", "filters": {}, "sort": "newest", "size": 5}
    assert body["total"] == len(corpus.oracle(lambda r: r.has("ålgräs")))
    item = body["items"][0]
    assert set(item) == {"id", "url", "title", "type", "year", "authors", "doi", "languages", "open_access", "highlight"}
    assert "<mark>" in json.dumps(item["highlight"], ensure_ascii=False)
    assert set(body["facets"]) <= {"type", "content", "year", "unit", "subject", "language", "oa", "level"}
    assert all({"value", "label", "count", "selected"} == set(v) for vs in body["facets"].values() for v in vs)
    assert body["links"]["next"].startswith("http://hylla.test/api/search?") and "cursor=" in body["links"]["next"]
    assert body["links"]["self"].startswith("http://hylla.test/api/search?") and "size=5" in body["links"]["self"]
    follow = client(corpus).get(body["links"]["next"].removeprefix("http://hylla.test")).get_json()
    assert not {i["id"] for i in follow["items"]} & {i["id"] for i in body["items"]}
    assert api(corpus, q="ålgräs", facets="false")["facets"] == {}


def test_atom_feed_of_a_search_is_valid_atom(corpus: Corpus) -> None:
    response = client(corpus).get("/search.atom", query_string={"q": "health", "unit": "uu:teknat"})
    assert response.status_code == 200 and response.mimetype == "application/atom+xml"
    root = etree.fromstring(response.data)
    assert root.tag == f"{ATOM}feed"
    for required in ("id", "title", "updated"):
        assert root.find(f"{ATOM}{required}") is not None
    entries = root.findall(f"{ATOM}entry")
    expected = corpus.oracle(lambda r: r.has("health") and "uu:teknat" in r.facets["unit"])
    assert len(entries) == min(50, len(expected)) > 0
    for entry in entries:
        assert entry.find(f"{ATOM}id").text.startswith("http://hylla.test/publications/")
        assert entry.find(f"{ATOM}title").text and entry.find(f"{ATOM}updated").text.endswith("Z")
        assert entry.find(f"{ATOM}author/{ATOM}name").text
    stamps = [e.find(f"{ATOM}link").get("href") for e in entries]
    assert len(stamps) == len(set(stamps))
    self_link = root.find(f"{ATOM}link[@rel='self']").get("href")
    assert self_link.startswith("http://hylla.test/search.atom?") and "q=health" in self_link
    assert root.find(f"{ATOM}id").text == self_link


def test_atom_feed_of_a_person(corpus: Corpus) -> None:
    root = etree.fromstring(client(corpus).get(f"/search.atom?person={corpus.ids['author']}").data)
    ids = [e.find(f"{ATOM}id").text for e in root.findall(f"{ATOM}entry")]
    assert ids == [f"http://hylla.test/publications/{corpus.ids['eelgrass']}"]


def test_export_of_the_whole_result_set(corpus: Corpus) -> None:
    response = client(corpus).get("/search/export/bibtex", query_string={"q": "welfare", "type": "art"})
    assert response.status_code == 200
    library = bibtexparser.parse_string(response.get_data(as_text=True))
    expected = corpus.oracle(lambda r: r.has("welfare") and r.pub.publication_type == "art")
    assert len(library.entries) == len(expected) > 0
    assert client(corpus).get("/search/export/nonsense?q=x").status_code == 404


@pytest.mark.parametrize("kind", ["units", "subjects", "years", "types"])
def test_browse_pages_list_counts_that_lead_to_searches(corpus: Corpus, kind: str) -> None:
    doc = page(corpus, f"/browse/{kind}")
    links = doc.cssselect(".tree li a")
    assert links
    first = links[0]
    count = int(first.getparent().cssselect(".count")[0].text_content())
    facet, value = next(iter(parse_qs(urlsplit(first.get("href")).query).items()))
    assert count == len(corpus.oracle(lambda r: value[0] in r.facets[facet]))


def test_browse_index_and_persons(corpus: Corpus) -> None:
    assert len(page(corpus, "/browse/").cssselect("main li a")) == 5
    doc = page(corpus, "/browse/persons?letter=Ö")
    assert any("Öberg, Åsa" in a.text_content() for a in doc.cssselect("main li a"))
    page(corpus, "/browse/nothing", status=404)


def test_api_answers_match_their_openapi_description(corpus: Corpus) -> None:
    from jsonschema import Draft202012Validator

    from repository.web.search import openapi_paths

    operation = openapi_paths()["/api/search"]["get"]
    ok = Draft202012Validator(operation["responses"]["200"]["content"]["application/json"]["schema"])
    bad = Draft202012Validator(operation["responses"]["400"]["content"]["application/problem+json"]["schema"])
    documented = {p["name"] for p in operation["parameters"]}
    for params in ({"q": "health", "type": ["art", "kon"], "size": 3}, {"sort": "title", "unit": "uu"},
                   {"q": "eelgrass", "sort": "relevance", "page": 2, "size": 2}, {"facets": "false", "oa": "true"}):
        assert set(params) <= documented
        ok.validate(api(corpus, **params))
    bad.validate(client(corpus).get("/api/search?year=soon").get_json())


def test_landing_page_leads_to_searches_from_the_record(corpus: Corpus) -> None:
    doc = page(corpus, f"/publications/{corpus.ids['eelgrass']}")
    links = [a.get("href") for a in doc.cssselect(".find-more a")]
    assert f"/search?person={corpus.ids['author']}" in links
    assert f"/search.atom?person={corpus.ids['author']}" in links
    assert "/search?subject=10501" in links
