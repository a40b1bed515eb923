"""Prefilling drafts: CSL-JSON from a DOI (a fake client, and the real one against a server on 127.0.0.1), BibTeX and RIS files."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from repository.errors import Invalid
from repository.services import imports, records
from tests import factories
from tests.unit.repository.web_support import login, parse, text_of

CSL: dict[str, Any] = {
    "type": "article-journal",
    "title": "Eelgrass meadows in the Baltic Sea",
    "author": [{"family": "Öberg", "given": "Åsa", "ORCID": "https://orcid.org/0000-0002-1825-0097"},
               {"family": "Smith", "given": "John"}],
    "issued": {"date-parts": [[2021, 5, 17]]},
    "container-title": "Marine Ecology Progress Series",
    "ISSN": ["0171-8630", "1616-1599"],
    "issn-type": [{"type": "print", "value": "0171-8630"}, {"type": "electronic", "value": "1616-1599"}],
    "volume": "12", "issue": "3", "page": "101-118",
    "DOI": "10.3354/MEPS12345",
    "language": "en",
    "abstract": "<jats:p>We study <jats:italic>eelgrass</jats:italic>.</jats:p>",
    "license": [{"URL": "http://creativecommons.org/licenses/by/4.0/"}],
    "publisher": "Inter-Research",
}


class FakeDoiClient:
    """What the resolver would answer, from a dictionary: tests never touch the network."""

    def __init__(self, records: dict[str, dict[str, Any]]) -> None:
        self.records = records
        self.asked: list[str] = []

    def fetch_csl(self, doi: str) -> dict[str, Any]:
        self.asked.append(doi)
        if doi not in self.records:
            raise Invalid({"doi": [f"the DOI {doi} is not registered"]})
        return self.records[doi]


@pytest.fixture
def fake_doi(app: Flask) -> Iterator[FakeDoiClient]:
    client = FakeDoiClient({"10.3354/meps12345": CSL})
    app.extensions[imports.CLIENT_EXTENSION] = client
    try:
        yield client
    finally:
        del app.extensions[imports.CLIENT_EXTENSION]


@pytest.fixture
def submitter(app: Flask) -> Any:
    return factories.user("submitter", factories.institution(), "sub@example.org")


def test_csl_json_maps_to_publication_input() -> None:
    data, problems = imports.from_csl(CSL)
    assert problems == []
    assert data["publication_type"] == "art" and data["issued"] == "2021-05-17"
    assert data["host"] == {"kind": "journal", "title": "Marine Ecology Progress Series", "issn": "0171-8630",
                            "eissn": "1616-1599", "volume": "12", "issue": "3", "page_start": "101", "page_end": "118"}
    assert [(c["family"], c.get("orcid")) for c in data["contributors"]] == [("Öberg", "0000-0002-1825-0097"), ("Smith", None)]
    assert data["identifiers"] == [{"scheme": "doi", "value": "10.3354/meps12345"}]
    assert data["languages"] == ["eng"] and data["abstracts"] == [{"text": "We study eelgrass ."}]
    assert data["licence"] == "https://creativecommons.org/licenses/by/4.0/"


def test_bad_values_are_left_out_and_reported() -> None:
    data, problems = imports.from_csl({**CSL, "ISSN": ["0171-8631"], "issn-type": [], "language": "xx-klingon",
                                       "issued": {"date-parts": [[3021]]}})
    assert "issn" not in data["host"] and "languages" not in data and "issued" not in data
    assert any("ISSN '0171-8631'" in p for p in problems) and any("language" in p for p in problems)
    assert any(p.startswith("issued:") for p in problems)


def test_doi_lookup_fills_a_draft(client: FlaskClient, submitter: Any, fake_doi: FakeDoiClient) -> None:
    login(client, "sub@example.org")
    response = client.post("/deposit/import/doi", data={"doi": "https://doi.org/10.3354/MEPS12345"})
    assert response.status_code == 302
    pub_id = int(response.headers["Location"].split("/")[2])
    pub = records.get_publication(submitter, pub_id)
    assert pub.main_title == "Eelgrass meadows in the Baltic Sea" and pub.host_eissn == "1616-1599"
    assert fake_doi.asked == ["10.3354/meps12345"]
    again = client.post("/deposit/import/doi", data={"doi": "10.3354/meps12345"})
    assert again.status_code == 409 and f"/publications/{pub_id}" in again.get_data(as_text=True)
    unknown = client.post("/deposit/import/doi", data={"doi": "10.9999/none"})
    assert unknown.status_code == 400 and "not registered" in text_of(parse(unknown))
    bad = client.post("/deposit/import/doi", data={"doi": "not a doi"})
    assert bad.status_code == 400


def test_without_a_configured_client_the_lookup_says_so(client: FlaskClient, submitter: Any) -> None:
    login(client, "sub@example.org")
    response = client.post("/deposit/import/doi", data={"doi": "10.3354/meps12345"})
    assert response.status_code == 400 and "not enabled" in text_of(parse(response))


class _Resolver(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        if self.headers.get("Accept") != imports.CSL_JSON:
            self.send_error(406)
            return
        if self.path != "/10.3354/meps12345":
            self.send_error(404)
            return
        body = json.dumps(CSL).encode()
        self.send_response(200)
        self.send_header("Content-Type", imports.CSL_JSON)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: Any) -> None:
        pass


@pytest.fixture
def resolver() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Resolver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_the_real_client_uses_content_negotiation(resolver: str) -> None:
    client = imports.ContentNegotiationClient(resolver, timeout=5)
    assert client.fetch_csl("10.3354/meps12345")["title"] == CSL["title"]
    with pytest.raises(Invalid, match="not registered"):
        client.fetch_csl("10.1/missing")
    with pytest.raises(Invalid, match="cannot be reached"):
        imports.ContentNegotiationClient("http://127.0.0.1:9", timeout=2).fetch_csl("10.1/x")


def test_the_real_client_is_used_when_enabled(app: Flask, resolver: str) -> None:
    app.config.update(DOI_LOOKUP_ENABLED=True, DOI_RESOLVER_URL=resolver)
    try:
        entry = imports.lookup_doi("doi:10.3354/MEPS12345")
    finally:
        app.config.update(DOI_LOOKUP_ENABLED=False)
    assert entry.data["titles"][0]["title"] == CSL["title"] and entry.source == "DOI 10.3354/meps12345"


BIBTEX = r"""
@article{oberg2021,
  author = {{\"O}berg, {\AA}sa and Smith, John},
  title = {{\AA}lgr{\"a}s i {\"O}stersj{\"o}n},
  journal = {Marine Ecology Progress Series},
  year = {2021}, month = may, volume = {12}, number = {3}, pages = {101--118},
  issn = {0171-8630}, doi = {10.3354/meps12345}, keywords = {eelgrass; Baltic}
}
@phdthesis{ek2020,
  author = {Ek, Lars}, title = {Proteiner}, school = {Uppsala universitet}, year = 2020
}
@book{broken2019,
  author = {Doe, Jane}, title = {A book}, year = {2019}, isbn = {978-91-000-0000-0}
}
@misc{untitled, author = {Nobody}, year = {2018}}
@article{bad syntax
"""

RIS = """TY  - JOUR
TI  - Eelgrass meadows in the Baltic Sea
AU  - Öberg, Åsa
AU  - Smith, John
PY  - 2021
T2  - Marine Ecology Progress Series
VL  - 12
IS  - 3
SP  - 101
EP  - 118
SN  - 0171-8630
DO  - 10.3354/meps12345
LA  - eng
KW  - eelgrass
ER  - 
TY  - CHAP
TI  - Ett kapitel
AU  - Ek, Lars
PY  - 2019
T2  - En bok
SN  - 978-91-7264-000-9
SP  - 1
EP  - 20
ER  - 
"""


def test_a_bibtex_file_makes_one_draft_per_entry_and_reports_each(submitter: Any) -> None:
    results = imports.import_file(submitter, BIBTEX.encode(), "refs.bib")
    by_label = {r.label: r for r in results}
    article = records.get_publication(submitter, by_label["oberg2021"].publication_id)
    assert article.main_title == "Ålgräs i Östersjön" and article.issued_month == 5
    assert [c.family_name for c in article.contributors] == ["Öberg", "Smith"]
    assert (article.host_page_start, article.host_page_end, article.host_issn) == ("101", "118", "0171-8630")
    assert [k.term for k in article.keywords] == ["eelgrass", "Baltic"]
    thesis = records.get_publication(submitter, by_label["ek2020"].publication_id)
    assert thesis.publication_type == "dok" and thesis.thesis.level == "doctoral" and thesis.publisher == "Uppsala universitet"
    book = by_label["broken2019"]
    assert book.publication_id is not None and any("ISBN" in p for p in book.problems)
    assert by_label["untitled"].publication_id is None and by_label["untitled"].problems
    failed = [r for r in results if r.label.startswith("lines")]
    assert failed and failed[0].publication_id is None and "syntax" in failed[0].problems[0]


def test_a_ris_file_and_duplicates_within_an_import(submitter: Any) -> None:
    results = imports.import_file(submitter, RIS.encode("utf-8"), "export.ris")
    assert [r.publication_id is not None for r in results] == [True, True]
    chapter = records.get_publication(submitter, results[1].publication_id)
    assert chapter.publication_type == "kap" and chapter.host_title == "En bok" and chapter.host_isbn
    again = imports.import_file(submitter, RIS.encode("utf-8"), "export.ris")
    assert [r.publication_id for r in again] == [None, None]
    assert "same DOI" in again[0].candidates[0].reason


def test_unreadable_files_are_refused_clearly(submitter: Any) -> None:
    with pytest.raises(Invalid, match="neither BibTeX"):
        imports.import_file(submitter, b"just some text", "notes.txt")
    with pytest.raises(Invalid, match="no entries"):
        imports.import_file(submitter, b"% only a comment\n", "empty.bib")
    with pytest.raises(Invalid, match="larger than"):
        imports.import_file(submitter, b"@" * (imports.MAX_IMPORT_BYTES + 1), "big.bib")


def test_import_page_lists_results(client: FlaskClient, submitter: Any) -> None:
    login(client, "sub@example.org")
    from io import BytesIO

    response = client.post("/deposit/import/file", data={"file": (BytesIO(RIS.encode()), "export.ris")},
                           content_type="multipart/form-data")
    assert response.status_code == 200
    assert "2 of 2 entries became drafts" in text_of(parse(response))
    response = client.post("/deposit/import/file", data={}, content_type="multipart/form-data")
    assert response.status_code == 400
