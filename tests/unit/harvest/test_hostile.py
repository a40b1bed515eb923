"""Hostile and broken servers: every one ends the run with a clear error in its log, never a crash."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from harvest import store
from harvest.client import ClientSettings
from harvest.run import HarvestOptions, RunReport, harvest_source
from tests.harvest_server import OAITestServer, Reply, fixture, identify

LIST = {"verb": "ListRecords", "metadataPrefix": "swepub_mods"}
ENVELOPE = ('<?xml version="1.0" encoding="UTF-8"?>{prolog}<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">'
            '<responseDate>2024-01-01T00:00:00Z</responseDate><request>http://127.0.0.1/oai</request>'
            '<ListRecords><record><header><identifier>oai:x:1</identifier><datestamp>2024-01-01</datestamp>'
            '</header><metadata><note>{body}</note></metadata></record></ListRecords></OAI-PMH>')
XXE = ENVELOPE.format(prolog='<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>', body="&xxe;").encode()
LAUGHS = ENVELOPE.format(prolog='<!DOCTYPE r [<!ENTITY a "lol"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
                                '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>',
                         body="&d;").encode()


@pytest.fixture
def sessions(sqlite_engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=sqlite_engine, expire_on_commit=False)


@pytest.fixture
def source(sessions: sessionmaker[Session], oai_server: OAITestServer) -> OAITestServer:
    oai_server.route({"verb": "Identify"}, identify())
    with sessions.begin() as s:
        store.add_source(s, "hostile", oai_server.url, "swepub_mods")
    return oai_server


def _run(sessions: sessionmaker[Session], settings: ClientSettings) -> tuple[RunReport, list[tuple[str, str]]]:
    report = harvest_source(sessions, "hostile", HarvestOptions(client=settings))
    with sessions() as s:
        log = [(e.code or "", e.message) for e in store.run_events(s, report.run_id) if e.level == "error"]
    return report, log


@pytest.mark.parametrize(("body", "code", "words"), [
    (XXE, "doctype", "XXE"),
    (LAUGHS, "doctype", "entity-expansion"),
    (ENVELOPE.format(prolog="", body="caf\xe9").encode("latin-1"), "invalid_utf8", "not valid UTF-8"),
])
def test_unsafe_or_broken_pages_fail_the_run_cleanly(sessions: sessionmaker[Session], source: OAITestServer,
                                                     quick: ClientSettings, body: bytes, code: str, words: str) -> None:
    source.route(LIST, body)
    report, log = _run(sessions, quick)
    assert report.status == "failed" and report.counts.added == 0
    assert log[0][0] == code and words in log[0][1]


def test_a_100_mb_text_node_is_refused(sessions: sessionmaker[Session], source: OAITestServer) -> None:
    huge = ENVELOPE.format(prolog="", body="x" * (100 * 1024 * 1024)).encode()
    source.route(LIST, huge)
    report, log = _run(sessions, ClientSettings(timeout=30, retries=0, page_retries=0, min_interval=0))
    assert report.status == "failed"
    assert log[0][0] == "text_too_large" and "larger than 10000000 bytes" in log[0][1]


def test_resumption_token_loop_stops_after_the_first_page(sessions: sessionmaker[Session], source: OAITestServer,
                                                          quick: ClientSettings) -> None:
    page = fixture("swepub-redux/obsolete-test-listrecords.xml").replace(
        b"</ListRecords>", b"<resumptionToken>forever</resumptionToken></ListRecords>")
    source.route(LIST, page)
    source.route({"verb": "ListRecords", "resumptionToken": "forever"}, page)
    report, log = _run(sessions, quick)
    assert report.status == "failed" and report.pages == 1 and report.counts.added == 3
    assert log[0][0] == "resumption_token_loop" and "'forever' a second time" in log[0][1]
    assert len(source.requests) == 3  # Identify, the first page, the repeat that gave the loop away


def test_a_server_that_never_answers_times_out(sessions: sessionmaker[Session], source: OAITestServer) -> None:
    source.route(LIST, Reply(hang=True))
    report, log = _run(sessions, ClientSettings(timeout=0.3, retries=1, backoff=0.01, min_interval=0))
    assert report.status == "interrupted"
    assert log[0][0] == "timeout" and "within 0.3 s" in log[0][1]


def test_503_with_retry_after_then_success(sessions: sessionmaker[Session], source: OAITestServer,
                                           quick: ClientSettings) -> None:
    source.route(LIST, "swepub-redux/obsolete-test-listrecords.xml")
    source.misbehave(Reply(b"maintenance", status=503, headers=(("Retry-After", "120"),)), times=3)
    report, log = _run(sessions, ClientSettings(timeout=2, retries=3, backoff=0, retry_after_cap=0.05, min_interval=0))
    assert report.status == "succeeded" and report.counts.added == 3 and log == []


def test_503_that_never_ends(sessions: sessionmaker[Session], source: OAITestServer, quick: ClientSettings) -> None:
    source.misbehave(Reply(b"maintenance", status=503, headers=(("Retry-After", "1"),)), times=50)
    report, log = _run(sessions, quick)
    assert report.status == "interrupted"
    assert log[0][0] == "http_503" and "after 3 attempts" in log[0][1]


def test_connection_cut_mid_page(sessions: sessionmaker[Session], source: OAITestServer, quick: ClientSettings) -> None:
    body = fixture("swepub-redux/obsolete-test-listrecords.xml")
    source.route(LIST, Reply(body, cut_at=len(body) // 3))
    report, log = _run(sessions, quick)
    assert report.status == "interrupted" and report.counts.added == 0
    assert log[0][0] == "network" and "IncompleteRead" in log[0][1]
    source.route(LIST, body)  # the server recovers: the next run picks up the records
    assert harvest_source(sessions, "hostile", HarvestOptions(client=quick)).counts.added == 3


def test_a_broken_identify_is_recorded(sessions: sessionmaker[Session], source: OAITestServer,
                                       quick: ClientSettings) -> None:
    source.route({"verb": "Identify"}, "eur-dspace-2003/Identify-broken-undefined-entity.xml")
    report, log = _run(sessions, quick)
    assert report.status == "failed" and log[0][0] == "undefined_entity"
