"""End to end: two Hylla repositories served over real HTTP, harvested by the aggregator through their /oai endpoints.

Each repository is its own application (``repository.create_app``) on its own fresh SQLite file,
with its own institution (Uppsala, KTH) and OAI namespace, served by werkzeug on 127.0.0.1 in a
thread. Both load the same demo content (the same seed: every demo paper is reported by both,
with the same DOIs) plus three co-authored papers deposited through the services; KTH also has
papers of its own. The aggregator harvests both into a third database (SQLite, and PostgreSQL too
when TEST_DATABASE_URL names one; the resumption test, about the network, on SQLite) and must: accept every
record Hylla's swepub_mods feed publishes, make each co-authored paper one work with two
institutions, drop only Uppsala's contribution when Uppsala withdraws a paper, show an edit after
the next incremental run, and resume a harvest whose server was killed mid-run with exactly the
counts of an uninterrupted one.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.serving import BaseWSGIServer, make_server

from harvest import store
from harvest.client import ClientSettings, OAIClient
from harvest.models import HarvestBase, HarvestedRecord, Work, WorkMembership
from harvest.run import HarvestOptions, Progress, RunReport, harvest_source
from repository import create_app, migrate
from repository.db import EXTENSION, make_engine
from repository.db import session as repo_session
from repository.demo import load_demo
from repository.services import records
from tests import factories

CLIENT = ClientSettings(timeout=10.0, retries=2, backoff=0.05, backoff_cap=0.1, min_interval=0.0, page_retries=1)
DEMO_RECORDS, DEMO_SEED, KTH_ONLY = 16, 11, 4
SHARED_DOIS = ("10.1234/shared.1", "10.1234/shared.2", "10.1234/shared.3")


@dataclass
class LiveRepository:
    """A Hylla application on its own database, served over HTTP until stopped (and again on the same port)."""

    code: str
    app: Flask
    port: int = 0
    server: BaseWSGIServer | None = None
    thread: threading.Thread | None = None
    people: dict[str, Any] = field(default_factory=dict)
    shared: dict[str, int] = field(default_factory=dict)  # DOI -> publication id

    @property
    def oai_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/oai"

    def start(self) -> None:
        self.server = make_server("127.0.0.1", self.port, self.app, threaded=True)
        self.port = self.server.server_port
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        """Shut the socket like a killed server: the next request is refused."""
        assert self.server is not None
        self.server.shutdown()
        self.server.server_close()
        self.server = None


def _coauthored(n: int, sea: str = "Baltic") -> dict[str, Any]:
    return factories.article(
        titles=[{"title": f"Eelgrass meadows and carbon burial in the {sea} Sea, part {n}", "lang": "eng"}],
        identifiers=[{"scheme": "doi", "value": SHARED_DOIS[n - 1]}], languages=["eng"], issued="2023",
        contributors=[{"family": "Öberg", "given": "Åsa", "orcid": "0000-0002-1825-0097",
                       "affiliations": [{"name": "Uppsala universitet"}]},
                      {"family": "Lindqvist", "given": "Per", "affiliations": [{"name": "KTH"}]}])


def _repository(tmp_path: Path, code: str, name: str, domain: str, extra_demo: int) -> LiveRepository:
    url = f"sqlite:///{tmp_path / f'{code}.sqlite3'}"
    migrate.upgrade(url)
    instance = tmp_path / f"instance-{code}"
    app = create_app({"DATABASE_URL": url, "INSTANCE_PATH": str(instance), "SECRET_KEY": f"secret-of-{code}",
                      "FILES_ROOT": str(instance / "files"), "BASE_URL": f"http://{code}.hylla.test",
                      "OAI_ID_NAMESPACE": f"{code}.hylla.test", "REPOSITORY_NAME": f"Hylla {code}",
                      "ADMIN_EMAIL": f"admin@{domain}", "OAI_PAGE_SIZE_RECORDS": 5, "WTF_CSRF_ENABLED": False})
    repo = LiveRepository(code, app)
    with app.app_context():
        inst = factories.institution(code, name, domain)
        faculty = factories.unit(inst, "fak", "Faculty of Science")
        factories.unit(inst, "bio", "Department of Biology", faculty)
        repo.people = {"submitter": factories.user("submitter", inst), "editor": factories.user("editor", inst)}
        with app.extensions[EXTENSION].engine.connect() as conn:
            load_demo(conn, DEMO_RECORDS, seed=DEMO_SEED)  # the same seed in both: the same papers, the same DOIs
        for n in (1, 2, 3):
            # KTH's copy of paper 2 has a typo in its title, corrected later in the test.
            data = _coauthored(n, "Baltc" if (code, n) == ("kth", 2) else "Baltic")
            pub = records.create_publication(repo.people["submitter"], data)
            records.publish_now(repo.people["editor"], pub.id, urn_prefix="urn:nbn:se")
            repo.shared[SHARED_DOIS[n - 1]] = pub.id
        if extra_demo:
            with app.extensions[EXTENSION].engine.connect() as conn:
                load_demo(conn, extra_demo, seed=99)  # ids after every other record's: DOIs no one else has
    repo.start()
    return repo


@pytest.fixture
def repositories(tmp_path: Path) -> Iterator[tuple[LiveRepository, LiveRepository]]:
    uu = _repository(tmp_path, "uu", "Uppsala University", "uu.se", 0)
    kth = _repository(tmp_path, "kth", "KTH Royal Institute of Technology", "kth.se", KTH_ONLY)
    try:
        yield uu, kth
    finally:
        for repo in (uu, kth):
            if repo.server is not None:
                repo.stop()


def _sqlite_store(path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{path}")
    HarvestBase.metadata.create_all(engine)
    return engine


def _aggregator(engine: Engine, *repos: LiveRepository) -> sessionmaker[Session]:
    """The aggregator's sessions on a store whose schema is made, with a source per repository."""
    sessions = sessionmaker(bind=engine, expire_on_commit=False)
    with sessions.begin() as s:
        for repo in repos:
            store.add_source(s, repo.code, repo.oai_url, "swepub_mods")
    return sessions


def _harvest(sessions: sessionmaker[Session], name: str, **kw: Any) -> RunReport:
    on_page = kw.pop("on_page", None)
    report = harvest_source(sessions, name, HarvestOptions(client=CLIENT, **kw), on_page=on_page)
    return report


def _listed(repo: LiveRepository) -> tuple[set[str], set[str]]:
    """What the repository's swepub_mods feed lists: live identifiers and deleted ones (an independent count)."""
    live, deleted = set(), set()
    for page in OAIClient(repo.oai_url, CLIENT).list_identifiers("swepub_mods"):
        for header in page.headers:
            (deleted if header.deleted else live).add(header.identifier)
    return live, deleted


def _work_of(s: Session, source: str, doi: str) -> Work | None:
    records_ = s.scalars(select(HarvestedRecord).join(HarvestedRecord.source)
                         .where(store.Source.name == source, HarvestedRecord.deleted.is_(False))).all()
    found = [r for r in records_ if r.record and any(i["value"] == doi for i in r.record.get("identifiers", []))]
    if not found:
        return None
    work_id = s.scalar(select(WorkMembership.work_id).where(WorkMembership.record_id == found[0].id))
    return s.get(Work, work_id) if work_id else None


def test_two_repositories_harvested_merged_withdrawn_edited_and_resumed(
        repositories: tuple[LiveRepository, LiveRepository], engine: Engine) -> None:
    uu, kth = repositories
    national = _aggregator(engine, uu, kth)
    uu_live, _ = _listed(uu)
    kth_live, _ = _listed(kth)
    assert uu_live and len(kth_live) > len(uu_live)

    first = {repo.code: _harvest(national, repo.code) for repo in (uu, kth)}
    for repo, live in ((uu, uu_live), (kth, kth_live)):
        report = first[repo.code]
        assert report.status == "succeeded", report.message
        # Every record Hylla's swepub_mods feed publishes passes SwePub's minimum level here too.
        assert report.counts.rejected == 0, repo.code
        assert report.counts.added == len(live) and report.pages > 1
    with national() as s:
        rejected = s.scalars(select(HarvestedRecord).where(HarvestedRecord.accepted.is_(False),
                                                           HarvestedRecord.deleted.is_(False))).all()
        assert [(r.oai_identifier, r.problems) for r in rejected] == []
        assert {r.oai_identifier.split(":")[1] for r in s.scalars(select(HarvestedRecord))} == {
            "uu.hylla.test", "kth.hylla.test"}
        for doi in SHARED_DOIS:
            work = _work_of(s, "uu", doi)
            assert work is not None and work.institutions == ["kth", "uu"] and work.record_count == 2, doi
            assert any(m.reason.startswith(f"DOI {doi} equal") for m in work.memberships)
        typo = _work_of(s, "kth", SHARED_DOIS[1])
        assert typo is not None and {v["source"]: v["value"][0]["title"] for v in typo.provenance["fields"]["titles"]}[
            "kth"] == "Eelgrass meadows and carbon burial in the Baltc Sea, part 2"
        # The demo papers both repositories hold are one work each; KTH's own stay single.
        works = s.scalars(select(Work)).all()
        shared = [w for w in works if w.institutions == ["kth", "uu"]]
        assert len(shared) == len(uu_live)
        assert len(works) == len(shared) + (len(kth_live) - len(uu_live))
        assert all(w.institutions == ["kth"] for w in works if w not in shared)

    # Uppsala withdraws a co-authored paper: only its contribution leaves the national work.
    with uu.app.app_context():
        records.withdraw(uu.people["editor"], uu.shared[SHARED_DOIS[0]], "Duplicate deposit")
    # KTH corrects the title of another one.
    with kth.app.app_context():
        pub_id = kth.shared[SHARED_DOIS[1]]
        version = records.get_publication(kth.people["editor"], pub_id).version
        records.update_publication(kth.people["editor"], pub_id, _coauthored(2), expected_version=version)
        repo_session.commit()
    second_uu, second_kth = _harvest(national, "uu"), _harvest(national, "kth")
    assert second_uu.status == second_kth.status == "succeeded"
    assert (second_uu.counts.deleted, second_uu.counts.added, second_uu.counts.updated) == (1, 0, 0)
    assert (second_kth.counts.updated, second_kth.counts.deleted) == (1, 0)
    with national() as s:
        assert s.get_one(store.HarvestRun, second_uu.run_id).mode == "incremental"
        withdrawn = _work_of(s, "kth", SHARED_DOIS[0])
        assert withdrawn is not None and withdrawn.institutions == ["kth"] and withdrawn.record_count == 1
        assert _work_of(s, "uu", SHARED_DOIS[0]) is None
        edited = _work_of(s, "kth", SHARED_DOIS[1])
        assert edited is not None and edited.institutions == ["kth", "uu"]
        titles = {v["source"]: v["value"][0]["title"] for v in edited.provenance["fields"]["titles"]}
        assert titles == {"kth": "Eelgrass meadows and carbon burial in the Baltic Sea, part 2",
                          "uu": "Eelgrass meadows and carbon burial in the Baltic Sea, part 2"}


def test_a_harvest_whose_server_is_killed_resumes_with_the_exact_counts(
        repositories: tuple[LiveRepository, LiveRepository], tmp_path: Path) -> None:
    uu, _ = repositories
    clean = _aggregator(_sqlite_store(tmp_path / "clean.sqlite3"), uu)
    uncut = _harvest(clean, "uu")
    assert uncut.status == "succeeded" and uncut.pages >= 4

    cut_db = _aggregator(_sqlite_store(tmp_path / "cut.sqlite3"), uu)

    def kill_after_two(progress: Progress) -> None:
        if progress.pages == 2:
            uu.stop()

    cut = _harvest(cut_db, "uu", on_page=kill_after_two)
    assert cut.status == "interrupted" and cut.pages == 2 and (cut.message or "").startswith("network:")
    uu.start()  # the same port, like a restarted server; its signed resumption tokens are still good
    resumed = _harvest(cut_db, "uu")
    assert resumed.run_id == cut.run_id and resumed.status == "succeeded" and resumed.pages == uncut.pages
    for name in ("added", "updated", "deleted", "rejected", "unchanged"):
        assert getattr(resumed.counts, name) == getattr(uncut.counts, name), name
    with cut_db() as a, clean() as b:
        def held(s: Session) -> list[tuple[str, bool, bool]]:
            return sorted((ident, deleted, accepted) for ident, deleted, accepted in s.execute(
                select(HarvestedRecord.oai_identifier, HarvestedRecord.deleted, HarvestedRecord.accepted)))
        assert held(a) == held(b)
        assert a.scalar(select(func.count()).select_from(Work)) == b.scalar(select(func.count()).select_from(Work))
