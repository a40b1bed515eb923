"""A fixed corpus per search backend, and an independent oracle that says what each query must find.

The corpus is ``load_demo(300)`` on a fresh database plus hand-made records with known words
(å/ä/ö, a DOI, an ISBN, an ORCID), a draft, a withdrawn record and a thesis scheduled for the
future. It is built once per backend: SQLite FTS5, PostgreSQL (when TEST_DATABASE_URL is set)
and OpenSearch (osmem-server started on a free port on 127.0.0.1, or the cluster named by
OPENSEARCH_TEST_URL). The oracle reads the same records through the read model and evaluates
queries in plain Python, so expected hits and facet counts are computed, not written down.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import unicodedata
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, text

from exports import readmodel as rm
from repository import create_app, migrate
from repository.db import EXTENSION as DB_EXTENSION
from repository.db import session
from repository.demo import load_demo
from repository.models import Institution, OrgUnit, Publication
from repository.search import EXTENSION
from repository.services import records
from repository.services.readmodel import to_read_model
from repository.web.context import site
from tests import factories
from tests.conftest import PG_URL, create_postgresql_database, drop_postgresql_database

OPENSEARCH_TEST_URL = os.environ.get("OPENSEARCH_TEST_URL", "")
DEMO_RECORDS = 300


def search_backends() -> list[str]:
    return ["sqlite", *(["postgresql"] if PG_URL else []), "opensearch"]


@pytest.fixture(scope="session")
def opensearch_url() -> Iterator[str]:
    """A real cluster when OPENSEARCH_TEST_URL names one, else osmem-server on a free local port."""
    if OPENSEARCH_TEST_URL:
        yield OPENSEARCH_TEST_URL
        return
    from osmem_server import OsmemServer

    server = OsmemServer.start(addr="127.0.0.1:0", japanese=False)
    try:
        yield server.url
    finally:
        server.close()


def unique_alias() -> str:
    return f"hylla-test-{uuid.uuid4().hex[:12]}"


@dataclass
class Corpus:
    backend: str
    app: Flask
    url: str
    ids: dict[str, int]
    records: list[OracleRecord]
    today: dt.date

    def oracle(self, predicate: Callable[[OracleRecord], bool]) -> list[OracleRecord]:
        return [r for r in self.records if r.visible and predicate(r)]


# --- the oracle ------------------------------------------------------------------------------------

_WORD = re.compile(r"[^\W_]+")


def fold(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)).casefold()


def words(*texts: str | None) -> list[str]:
    return [fold(w) for t in texts if t for w in _WORD.findall(t)]


@dataclass
class OracleRecord:
    """What a reader of the record sees, in the shape the queries ask about."""

    id: int
    visible: bool
    pub: rm.Publication
    fields: dict[str, list[str]] = field(default_factory=dict)
    facets: dict[str, set[str]] = field(default_factory=dict)

    def has(self, word: str, where: str = "all") -> bool:
        return fold(word) in self.fields[where]

    def phrase(self, text: str, where: str = "all") -> bool:
        wanted = words(text)
        tokens = self.fields[where] if where != "all" else None
        chunks = [self.fields[f] for f in ("title", "names", "subject", "abstract", "other")] if tokens is None else [tokens]
        return any(chunk[i:i + len(wanted)] == wanted for chunk in chunks for i in range(len(chunk)))

    def prefix(self, start: str, where: str = "all") -> bool:
        return any(w.startswith(fold(start)) for w in self.fields[where])


def oracle_record(pub: Publication, today: dt.date, now: dt.datetime) -> OracleRecord:
    model = to_read_model(pub, site())
    visible = pub.state == "published" and (pub.public_from is None or pub.public_from <= now)
    names = [c.display_name() for c in model.contributors] + [e.display_name() for e in (model.host.editors if model.host else ())]
    fields = {
        "title": words(*(t.full() for t in model.titles)),
        "names": words(*names),
        "subject": words(*(k.term for k in model.keywords), *(s.label_en for s in model.subjects),
                         *(s.label_sv for s in model.subjects)),
        "abstract": words(*(a.text for a in model.abstracts)),
        "other": words(model.host.title if model.host else None, model.conference.name if model.conference else None,
                       model.publisher, model.thesis.programme if model.thesis else None,
                       *(s.title for s in model.series)),
    }
    fields["all"] = [w for f in ("title", "names", "subject", "abstract", "other") for w in fields[f]]
    units = {model.institution_code or ""}
    for unit in model.org_units:
        parts = unit.path.split(":")
        units.update(":".join(parts[:i]) for i in range(1, len(parts) + 1))
    facets = {
        "type": {model.publication_type},
        "content": {model.content_type} if model.content_type else set(),
        "year": {str(model.year)} if model.year else set(),
        "level": {model.thesis.level} if model.thesis else set(),
        "language": set(model.languages),
        "unit": units,
        "subject": {c for s in model.subjects for c in {s.code[:1], s.code[:3], s.code} if len(c) in (1, 3, 5)},
        "oa": {"true"} if model.is_open_access_on(today) else set(),
        "person": {str(c.person_id) for c in model.contributors if c.person_id},
        "orcid": {c.orcid for c in model.contributors if c.orcid},
    }
    return OracleRecord(pub.id, visible, model, fields, facets)


def expected_facets(hits: list[OracleRecord]) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for name in ("type", "content", "year", "level", "language", "unit", "subject", "oa"):
        counts = Counter(v for r in hits for v in r.facets[name])
        if name == "oa":
            counts = Counter({"true": counts["true"]}) if counts["true"] else Counter()
        out[name] = dict(counts)
    return {k: v for k, v in out.items() if v}


# --- building the corpus -------------------------------------------------------------------------

def _fresh_url(backend: str, tmp: Path) -> str:
    if backend in ("sqlite", "opensearch"):
        return f"sqlite:///{tmp / 'search.sqlite3'}"
    return create_postgresql_database("search")


def make_search_app(url: str, tmp: Path, search_url: str = "", alias: str | None = None) -> Flask:
    config: dict[str, Any] = {
        "TESTING": True, "DATABASE_URL": url, "INSTANCE_PATH": str(tmp / "instance"), "SECRET_KEY": "x",
        "FILES_ROOT": str(tmp / "files"), "BASE_URL": "http://hylla.test", "OAI_ID_NAMESPACE": "hylla.test",
        "REPOSITORY_NAME": "Hylla Test", "WTF_CSRF_ENABLED": False, "SEARCH_URL": search_url,
    }
    if alias:
        config["SEARCH_INDEX"] = alias
    return create_app(config)


HANDMADE = {
    "eelgrass": lambda unit, author: factories.article(contributors=[
        {"person_id": author.id, "affiliations": [{"org_unit_id": unit.id}]},
        {"family": "Smith", "given": "John", "affiliations": [{"name": "University of Oxford"}]}]),
    "thesis": lambda unit, author: factories.doctoral_thesis(subjects=["10203"]),
    "soup": lambda unit, author: factories.article(
        titles=[{"title": "Öl och ärtsoppa på torsdagar", "lang": "swe"}], identifiers=[], abstracts=[],
        keywords=[{"term": "måltidsvanor", "lang": "swe"}], issued="2019", languages=["swe", "eng"],
        contributors=[{"family": "Ödmark", "given": "Örjan"}], subjects=["60203"]),
    "draft": lambda unit, author: factories.article(titles=[{"title": "Hemligt utkast om zebrafiskar"}], identifiers=[]),
    "withdrawn": lambda unit, author: factories.article(titles=[{"title": "Tillbakadragen studie om zebrafiskar"}],
                                                       identifiers=[]),
    "scheduled": lambda unit, author: factories.doctoral_thesis(
        titles=[{"title": "Framtida avhandling om zebrafiskar"}], identifiers=[]),
}


def build_corpus(backend: str, tmp: Path, search_url: str = "") -> Corpus:
    url = _fresh_url(backend, tmp)
    migrate.upgrade(url)
    app = make_search_app(url, tmp, search_url, unique_alias() if search_url else None)
    ids: dict[str, int] = {}
    with app.app_context():
        external = app.extensions[EXTENSION].external
        if external is not None:
            external.ensure()
        with app.extensions[DB_EXTENSION].engine.connect() as conn:
            load_demo(conn, DEMO_RECORDS)
            if conn.dialect.name == "postgresql":  # the demo inserts explicit ids; move the sequences past them
                for table in ("publications", "contributors"):
                    conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                      f"(SELECT max(id) FROM {table}))"))
                conn.commit()
        uu = session.scalar(select(Institution).where(Institution.code == "uu"))
        kemi = session.scalar(select(OrgUnit).where(OrgUnit.path == "uu:teknat:kemi"))
        author = factories.person("Öberg", "Åsa", "0000-0002-1825-0097", uu)
        submitter = factories.user("submitter", uu)
        editor = factories.user("editor", uu)
        for key, make in HANDMADE.items():
            pub = records.create_publication(submitter, make(kemi, author))
            ids[key] = pub.id
            if key == "draft":
                continue
            future = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=30) if key == "scheduled" else None
            records.publish_now(editor, pub.id, urn_prefix="urn:nbn:se", public_from=future)
            if key == "withdrawn":
                records.withdraw(editor, pub.id, "Duplicate of another record.")
        ids["author"] = author.id
        if external is not None:
            with app.extensions[DB_EXTENSION].engine.connect() as conn:
                external.reindex(conn)
        now = dt.datetime.now(dt.timezone.utc)
        oracle = [oracle_record(p, now.date(), now) for p in session.scalars(select(Publication).order_by(Publication.id))]
    return Corpus(backend, app, url, ids, oracle, now.date())


@pytest.fixture(scope="session")
def corpora(tmp_path_factory: pytest.TempPathFactory, opensearch_url: str) -> Iterator[Callable[[str], Corpus]]:
    """Build each backend's corpus on first use, once for the whole run."""
    built: dict[str, Corpus] = {}

    def get(backend: str) -> Corpus:
        if backend not in built:
            built[backend] = build_corpus(backend, tmp_path_factory.mktemp(f"corpus-{backend}"),
                                          opensearch_url if backend == "opensearch" else "")
        return built[backend]

    try:
        yield get
    finally:
        for done in built.values():
            done.app.extensions[DB_EXTENSION].engine.dispose()
            drop_postgresql_database(done.url)


@pytest.fixture(scope="session", params=search_backends())
def corpus(request: pytest.FixtureRequest, corpora: Callable[[str], Corpus]) -> Corpus:
    return corpora(request.param)
