"""Every recorded real-world feed in tests/data/oai, harvested from a live local server: each record imported or rejected with a reason.

One inventory in one place: for each feed, every ``<record>`` the served pages hold is either a
stored record (accepted, or rejected with at least one rejection that says why, or a deletion
tombstone) or, when its header has no identifier to store it under, a line in the run log. An
error response ends the run with the OAI-PMH error code in the log; a page that is not XML ends
it with the parser's reason. Nothing is dropped silently and nothing crashes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest
from lxml import etree
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from harvest import store
from harvest.client import ClientSettings
from harvest.models import HarvestedRecord
from harvest.run import HarvestOptions, RunReport, harvest_source
from tests.harvest_server import OAITestServer, Reply, fixture, identify

OAI = "{http://www.openarchives.org/OAI/2.0/}"
FIRST = {"verb": "ListRecords"}


@dataclass(frozen=True)
class Feed:
    """A source's listing as files: the first page, then each resumption token's page."""

    prefix: str
    pages: tuple[str, ...]
    tokens: tuple[str, ...] = ()  # the token that asks for each page after the first
    identify: str | None = None  # a recorded Identify response, else a made-up one (persistent deletions)
    sweep: str | None = None  # a recorded ListIdentifiers response, for sources that keep no deletions
    institution: str | None = None
    first: dict[str, str] = field(default_factory=dict)  # extra arguments of the first request


SWEPUB_SINGLES = ("gih-new.xml", "kth-new-diva.xml", "liu-new-diva.xml", "ltu-new.xml", "lund.xml",
                  "naturvardsverket-new.xml", "uniarts-new.xml", "delete_kth_post.xml",
                  "local_personid_from_candidate.xml", "obsolete-test-listrecords.xml")
FEEDS = {
    **{f"swepub-redux/{name}": Feed("swepub_mods", (f"swepub-redux/{name}",)) for name in SWEPUB_SINGLES},
    "sickle chain": Feed("oai_dc", tuple(f"sickle/ListRecords{n}.xml" for n in ("", "2", "3", "4")),
                         tuple(f"ListRecords{n}.xml" for n in (2, 3, 4))),
    "metaslurper: Illinois oai_dc, then DSpace dim": Feed(
        "oai_dc", ("metaslurper/ListRecords.xml", "metaslurper/ListRecords-DIM.xml"), ("fgneg:655|zrgnqngnCersvk:bnv_qp",)),
    "eur DSpace 2003 (deletedRecord no)": Feed(
        "oai_dc", ("eur-dspace-2003/ListRecords-from-2003-04-10.xml",), identify="eur-dspace-2003/Identify.xml",
        sweep="eur-dspace-2003/ListIdentifiers-from-2003-04-10.xml", institution="eur"),
    "OAI-PMH spec: rfc1807 payloads to an oai_dc source": Feed("oai_dc", ("openarchives-spec/ex-sec4.5a.xml",)),
    "OAI-PMH spec: oai_dc ListRecords": Feed("oai_dc", ("openarchives-spec/ex-sec4.5b.xml",)),
    "OAI-PMH spec: a record with comments and about containers": Feed("oai_dc", ("openarchives-spec/ex-sec2.5.xml",)),
}
ERRORS = {
    "sickle/badArgument.xml": "badArgument", "sickle/badResumptionToken.xml": "badResumptionToken",
    "sickle/cannotDisseminateFormat.xml": "cannotDisseminateFormat", "sickle/idDoesNotExist.xml": "idDoesNotExist",
    "metaslurper/ListRecords-error.xml": "cannotDisseminateFormat",
    "openarchives-spec/ex-sec4.5c.xml": "badArgument", "openarchives-spec/ex-sec3.6a.xml": "badVerb",
    "swepub-redux/chalmers.xml": "undefined_entity",
}
EMPTY = ("sickle/noRecordsMatch.xml", "openarchives-spec/ex-sec4.3c.xml")
BROKEN_IDENTIFY = {"eur-dspace-2003/Identify-broken-undefined-entity.xml": "undefined_entity",
                   "eur-dspace-2003/Identify-broken-bogus-element.xml": "not_well_formed"}


def _serve(server: OAITestServer, feed: Feed) -> None:
    server.route({"verb": "Identify"}, feed.identify or identify())
    server.route({**FIRST, "metadataPrefix": feed.prefix, **feed.first}, feed.pages[0])
    for token, page in zip(feed.tokens, feed.pages[1:], strict=True):
        server.route({**FIRST, "resumptionToken": token}, page)
    if feed.sweep:
        server.route({"verb": "ListIdentifiers", "metadataPrefix": feed.prefix}, feed.sweep)


def _run(sessions: sessionmaker[Session], server: OAITestServer, quick: ClientSettings, prefix: str,
         institution: str | None = None) -> RunReport:
    with sessions.begin() as s:
        store.add_source(s, "feed", server.url, prefix, institution_code=institution)
    return harvest_source(sessions, "feed", HarvestOptions(client=quick))


def _records_in(pages: tuple[str, ...]) -> tuple[dict[str, bool], int]:
    """Identifier -> deleted (the last copy wins, as in the harvest), and how many headers have no identifier."""
    found: dict[str, bool] = {}
    nameless = 0
    for page in pages:
        for record in etree.fromstring(fixture(page)).iter(f"{OAI}record"):
            header = record.find(f"{OAI}header")
            ident = (header.findtext(f"{OAI}identifier") or "").strip()
            if not ident:
                nameless += 1
                continue
            found[ident] = header.get("status") == "deleted"
    return found, nameless


@pytest.mark.parametrize("name", sorted(FEEDS))
def test_every_record_is_imported_or_rejected_with_a_reason(name: str, sessions: sessionmaker[Session],
                                                           oai_server: OAITestServer, quick: ClientSettings) -> None:
    feed = FEEDS[name]
    _serve(oai_server, feed)
    report = _run(sessions, oai_server, quick, feed.prefix, feed.institution)
    assert report.status == "succeeded", report.message
    served, nameless = _records_in(feed.pages)
    with sessions() as s:
        stored = {r.oai_identifier: r for r in s.scalars(select(HarvestedRecord))}
        events = store.run_events(s, report.run_id)
    assert set(stored) == set(served)
    for ident, record in stored.items():
        assert record.raw_xml and record.raw_xml.startswith("<record")  # the original kept for reprocessing
        if record.deleted:
            assert served[ident] or feed.sweep, ident  # deleted at the source, or gone from its identifier list
        elif record.accepted:
            assert record.record is not None and record.record["oai_identifier"] == ident
        else:
            reasons = [p["message"] for p in record.problems if p["severity"] == "reject"]
            assert reasons and all(reasons), (ident, record.problems)
            assert any(e.oai_identifier == ident and e.code == "rejected" for e in events), ident
    assert [e.code for e in events if e.code == "no_identifier"] == ["no_identifier"] * nameless
    c = report.counts
    assert c.added + c.rejected + c.deleted + c.unchanged >= len(served)


def test_a_source_institution_code_lifts_rule_01_for_dublin_core(sessions: sessionmaker[Session],
                                                                oai_server: OAITestServer,
                                                                quick: ClientSettings) -> None:
    _serve(oai_server, FEEDS["eur DSpace 2003 (deletedRecord no)"])
    _run(sessions, oai_server, quick, "oai_dc", "eur")
    with sessions() as s:
        live = [r for r in s.scalars(select(HarvestedRecord)) if not r.deleted]
    assert live and all(r.record and r.record["institution_code"] == "eur" for r in live)
    assert all("01" not in {p["code"] for p in r.problems} for r in live)
    assert all(r.institution == "eur" for r in live)


@pytest.mark.parametrize("page", sorted(ERRORS))
def test_error_responses_end_the_run_with_their_code(page: str, sessions: sessionmaker[Session],
                                                     oai_server: OAITestServer, quick: ClientSettings) -> None:
    oai_server.route({"verb": "Identify"}, identify())
    oai_server.fallback = lambda params: Reply(fixture(page))
    report = _run(sessions, oai_server, quick, "mods")
    code = ERRORS[page]
    assert report.status == "failed" and (report.message or "").startswith(f"{code}:")
    with sessions() as s:
        assert [e.code for e in store.run_events(s, report.run_id) if e.level == "error"] == [code]
        assert not s.scalars(select(HarvestedRecord)).all()


@pytest.mark.parametrize("page", EMPTY)
def test_no_records_match_is_an_empty_success(page: str, sessions: sessionmaker[Session], oai_server: OAITestServer,
                                              quick: ClientSettings) -> None:
    oai_server.route({"verb": "Identify"}, identify())
    oai_server.fallback = lambda params: Reply(fixture(page))
    report = _run(sessions, oai_server, quick, "oai_dc")
    assert report.status == "succeeded" and report.counts == type(report.counts)()


@pytest.mark.parametrize("page", sorted(BROKEN_IDENTIFY))
def test_a_broken_identify_ends_the_run_with_the_reason(page: str, sessions: sessionmaker[Session],
                                                        oai_server: OAITestServer, quick: ClientSettings) -> None:
    oai_server.route({"verb": "Identify"}, page)
    report = _run(sessions, oai_server, quick, "oai_dc")
    assert report.status == "failed" and (report.message or "").startswith(BROKEN_IDENTIFY[page] + ":")


def test_every_recorded_feed_is_covered() -> None:
    """A file added to tests/data/oai must find its place in this inventory (or in the Identify/spec example lists)."""
    folder = Path(__file__).resolve().parents[2] / "data" / "oai"
    used = {p for f in FEEDS.values() for p in (*f.pages, f.identify, f.sweep) if p} | set(ERRORS) | set(EMPTY)
    used |= set(BROKEN_IDENTIFY)
    listings = {str(p.relative_to(folder)) for p in folder.rglob("*.xml")
                if b"<ListRecords" in p.read_bytes() or b"<error" in p.read_bytes()}
    # Deliberately outside this test: the sickle ListIdentifiers chain (the client's tests) and the
    # spec's ListIdentifiers and ListSets examples, which hold no records.
    elsewhere = {"sickle/ListIdentifiers.xml", "sickle/ListIdentifiers2.xml", "openarchives-spec/ex-sec3.6b.xml",
                 "openarchives-spec/ex-sec4.1b.xml", "openarchives-spec/ex-sec4.1c.xml",
                 "openarchives-spec/ex-sec4.4c.xml", "openarchives-spec/ex-sec4.6b.xml"}
    assert listings - used - elsewhere == set()
