"""Fixtures for the OAI-PMH provider: a small hand-built repository, a demo repository and a live server.

``world`` is built inside the rolled-back test transaction with the record services, then
given fixed datestamps so that ``from``/``until`` tests can name expectations. ``demo`` is a
repository of its own (300 demo records, some withdrawn) with real commits, made once per
backend and served by a real HTTP server on 127.0.0.1 for the third-party harvester.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from lxml import etree
from sqlalchemy import text, update
from werkzeug.serving import make_server

from exports.schemas import validation_errors
from repository import create_app, migrate
from repository.db import database, session
from repository.demo import load_demo
from repository.models import Publication, StoredFile
from repository.oai import list_sizes
from repository.services import records
from tests import factories
from tests.conftest import backends, create_postgresql_database, drop_postgresql_database, reset_postgresql

UTC = dt.timezone.utc
OAI = "{http://www.openarchives.org/OAI/2.0/}"
NAMESPACE = "hylla.test"


def at(text_value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text_value).replace(tzinfo=UTC)


def oai_id(pub_id: int) -> str:
    return f"oai:{NAMESPACE}:{pub_id}"


def parse(body: bytes) -> etree._Element:
    """A response parsed strictly, after checking it against the whole OAI-PMH schema, payloads included."""
    errors = validation_errors(body, "oai-pmh-full")
    assert errors == [], errors[:5]
    return etree.fromstring(body)


def oai_get(client: FlaskClient, **args: str) -> etree._Element:
    response = client.get("/oai", query_string=args)
    assert response.status_code == 200
    assert response.mimetype == "text/xml"
    return parse(response.get_data())


def error_codes(doc: etree._Element) -> list[str]:
    return [e.get("code") for e in doc.findall(f"{OAI}error")]


def identifiers(doc: etree._Element) -> list[str]:
    return [e.text for e in doc.iter(f"{OAI}identifier") if e.getparent().tag == f"{OAI}header"]


def token_of(doc: etree._Element) -> etree._Element | None:
    return next(doc.iter(f"{OAI}resumptionToken"), None)


def harvest(client: FlaskClient, verb: str = "ListRecords", **args: str) -> tuple[list[str], list[etree._Element]]:
    """Every identifier of a list request sequence, following tokens, and each page's document."""
    found: list[str] = []
    pages: list[etree._Element] = []
    params: dict[str, str] = {"verb": verb, **args}
    while True:
        doc = oai_get(client, **params)
        assert error_codes(doc) == [], etree.tostring(doc)[:500]
        pages.append(doc)
        found += identifiers(doc)
        token = token_of(doc)
        if token is None or not token.text:
            return found, pages
        params = {"verb": verb, "resumptionToken": token.text}


@pytest.fixture(autouse=True)
def _counts_start_afresh() -> Iterator[None]:
    """Tests rewrite datestamps with SQL (``world``) and roll back, which the counts' mark cannot see."""
    list_sizes.forget()
    yield
    list_sizes.forget()


@dataclass
class World:
    uu: Any
    kth: Any
    teknat: Any
    kemi: Any
    eecs: Any
    ids: dict[str, int]

    def oai(self, name: str) -> str:
        return oai_id(self.ids[name])


STUDENT_THESIS: dict[str, Any] = {
    "publication_type": "stud",
    "titles": [{"title": "Läsförståelse i förskolan", "lang": "swe"}],
    "languages": ["swe"],
    "issued": "2022",
    "contributors": [{"family": "Lind", "given": "Ebba"}, {"family": "Ek", "given": "Lars", "roles": ["ths"]}],
    "thesis": {"level": "bachelor", "credits": "15 HE credits"},
}

DATESTAMPS = {
    "article": "2020-01-01 10:00:00", "thesis": "2020-01-01 10:00:00", "student": "2020-02-01 00:00:00",
    "withdrawn": "2020-03-01 12:30:00", "no_content": "2020-04-01 00:00:00", "greek": "2020-05-01 00:00:00",
    "kth": "2021-01-01 00:00:00",
}


@pytest.fixture
def world(app: Flask) -> World:
    """Records of every kind OAI-PMH must tell apart, with fixed datestamps (see DATESTAMPS)."""
    uu = factories.institution()
    kth = factories.institution("kth", "KTH Royal Institute of Technology", "kth.se")
    teknat = factories.unit(uu, "teknat", "Faculty of Science and Technology")
    kemi = factories.unit(uu, "kemi", "Department of Chemistry", teknat)
    eecs = factories.unit(kth, "eecs", "School of Electrical Engineering and Computer Science")
    submitter, editor = factories.user("submitter", uu), factories.user("editor", uu)
    kth_submitter, kth_editor = factories.user("submitter", kth), factories.user("editor", kth)
    author = factories.person("Öberg", "Åsa", "0000-0002-1825-0097", uu)

    def publish(data: dict[str, Any], who: Any = submitter, editor_: Any = editor) -> int:
        pub = records.create_publication(who, data)
        records.publish_now(editor_, pub.id, urn_prefix="urn:nbn:se")
        return pub.id

    ids = {
        "article": publish(factories.article(contributors=[
            {"person_id": author.id, "affiliations": [{"org_unit_id": kemi.id}]},
            {"family": "Smith", "given": "John", "affiliations": [{"name": "University of Oxford"}]}])),
        "thesis": publish(factories.doctoral_thesis()),
        "student": publish(STUDENT_THESIS),
        "withdrawn": publish(factories.article(titles=[{"title": "Withdrawn article"}])),
        # No content type: SwePub rejects it (rule 07), so it is outside SwePub-uu but in every other set.
        "no_content": publish(factories.article(content_type=None, titles=[{"title": "Unrefereed?"}])),
        # No ASCII letter in title or names: SQL cannot vouch for it, Python's rule must (and passes it).
        "greek": publish(factories.article(titles=[{"title": "Ωμέγα", "lang": "gre"}],
                                           contributors=[{"family": "Παπαδόπουλος", "given": "Νίκος"}])),
        "kth": publish({"publication_type": "ovr", "titles": [{"title": "Övrigt från KTH"}], "languages": ["swe"],
                        "issued": "2021", "contributors": [{"family": "Berg", "given": "Per",
                                                            "affiliations": [{"org_unit_id": eecs.id}]}]},
                       kth_submitter, kth_editor),
    }
    records.withdraw(editor, ids["withdrawn"], "Duplicate of another record.")
    ids["draft"] = records.create_publication(submitter, factories.article(titles=[{"title": "Secret draft"}])).id
    scheduled = records.create_publication(submitter, factories.doctoral_thesis(titles=[{"title": "Not yet public"}]))
    records.publish_now(editor, scheduled.id, urn_prefix="urn:nbn:se",
                        public_from=dt.datetime.now(UTC) + dt.timedelta(days=30))
    ids["scheduled"] = scheduled.id
    for name, stamp in DATESTAMPS.items():
        session.execute(update(Publication).where(Publication.id == ids[name]).values(datestamp=at(stamp)))
    session.add(StoredFile(publication_id=ids["article"], original_filename="a.pdf", sha256="a" * 64, md5="a" * 32,
                           size=10, mime_type="application/pdf", role="fulltext", access="open"))
    session.add(StoredFile(publication_id=ids["kth"], original_filename="k.pdf", sha256="b" * 64, md5="b" * 32,
                           size=10, mime_type="application/pdf", role="fulltext", access="embargoed",
                           embargo_until=dt.date.today() + dt.timedelta(days=400)))
    session.commit()
    return World(uu, kth, teknat, kemi, eecs, ids)


# -- the demo repository, served over HTTP -----------------------------------------------------

DEMO_RECORDS = 300
DEMO_WITHDRAWN = 12


def _demo_url(backend: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('oai-demo') / 'demo.sqlite3'}"
    url = create_postgresql_database("oai_demo")
    reset_postgresql(url)
    return url


@pytest.fixture(scope="session", params=backends())
def demo_app(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """A migrated repository holding DEMO_RECORDS demo records, DEMO_WITHDRAWN more of them withdrawn."""
    url = _demo_url(request.param, tmp_path_factory)
    migrate.upgrade(url)
    instance: Path = tmp_path_factory.mktemp("oai-demo-instance")
    app = create_app({"TESTING": True, "DATABASE_URL": url, "INSTANCE_PATH": str(instance),
                      "SECRET_KEY": "demo-secret", "BASE_URL": "http://hylla.test", "OAI_ID_NAMESPACE": NAMESPACE,
                      "REPOSITORY_NAME": "Hylla Demo", "OAI_PAGE_SIZE_RECORDS": 40, "OAI_PAGE_SIZE_IDENTIFIERS": 70})
    with app.app_context():
        engine = database().engine
        with engine.connect() as conn:
            load_demo(conn, DEMO_RECORDS)
        with engine.begin() as conn:
            published = conn.execute(text("SELECT id, datestamp FROM publications WHERE state = 'published' "
                                          "ORDER BY id LIMIT :n OFFSET 20"), {"n": DEMO_WITHDRAWN}).all()
            for pub_id, _ in published:
                conn.execute(update(Publication).where(Publication.id == pub_id).values(
                    state="withdrawn", withdrawn_reason="Withdrawn in the demo.",
                    withdrawn_at=at("2025-06-01 08:00:00"), datestamp=at("2025-06-01 08:00:00") + dt.timedelta(
                        seconds=pub_id)))
    yield app
    with app.app_context():
        database().engine.dispose()
    drop_postgresql_database(url)  # CI runs on a shared server: leave no database behind


@pytest.fixture(scope="session")
def live_oai(demo_app: Flask) -> Iterator[str]:
    """The demo repository's OAI-PMH base URL, served by a real threaded HTTP server on 127.0.0.1."""
    server = make_server("127.0.0.1", 0, demo_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="oai-live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/oai"
    finally:
        server.shutdown()
        thread.join(timeout=5)
