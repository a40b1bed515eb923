"""Pages judged ahead in a spawned process store exactly what the loop alone stores, and resume as exactly."""

from __future__ import annotations

import multiprocessing

import pytest
from lxml import etree
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from harvest import lookahead, store
from harvest.client import ClientSettings
from harvest.models import BlockingKey, HarvestedRecord, RecordProblem, RunEvent, Source
from harvest.run import HarvestOptions, Progress, RunReport, harvest_source
from tests.harvest_server import OAITestServer, Reply, fixture, identify

OAI = "{http://www.openarchives.org/OAI/2.0/}"
FILES = ["gih-new.xml", "kth-new-diva.xml", "liu-new-diva.xml", "ltu-new.xml", "lund.xml", "naturvardsverket-new.xml",
         "uniarts-new.xml", "obsolete-test-listrecords.xml", "local_personid_from_candidate.xml"]
DELETED = ('<record><header status="deleted"><identifier>oai:DiVA.org:gone-1</identifier>'
           '<datestamp>2024-01-01T00:00:00Z</datestamp></header></record>')
NO_IDENTIFIER = ('<record><header><datestamp>2024-01-01T00:00:00Z</datestamp></header><metadata>'
                 '<mods xmlns="http://www.loc.gov/mods/v3"/></metadata></record>')


def _record_xml() -> list[str]:
    out = []
    for name in FILES:
        root = etree.fromstring(fixture(f"swepub-redux/{name}"))
        out += [etree.tostring(r, encoding="unicode", with_tail=False) for r in root.iter(f"{OAI}record")]
    return out


def _feed(server: OAITestServer, pages: int = 4) -> list[str]:
    """The recorded SwePub records over ``pages`` pages, with a deletion, a repeat and a header without identifier.

    Returns the resumption tokens, in listing order.
    """
    records = _record_xml()
    records += [DELETED, records[0], NO_IDENTIFIER]  # the repeat of the first record comes pages later
    size = -(-len(records) // pages)
    tokens = [f"page{n}" for n in range(2, pages + 1)]
    for n in range(pages):
        token = f"<resumptionToken>{tokens[n]}</resumptionToken>" if n < len(tokens) else "<resumptionToken/>"
        body = (f'<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><responseDate>2024-01-02T00:00:00Z'
                f'</responseDate><request>http://127.0.0.1/oai</request><ListRecords>'
                f'{"".join(records[n * size:(n + 1) * size])}{token}</ListRecords></OAI-PMH>').encode()
        params = ({"verb": "ListRecords", "metadataPrefix": "swepub_mods"} if n == 0
                  else {"verb": "ListRecords", "resumptionToken": tokens[n - 1]})
        server.route(params, body)
    server.route({"verb": "Identify"}, identify())
    return tokens


def _add(sessions: sessionmaker[Session], server: OAITestServer, name: str) -> None:
    with sessions.begin() as s:
        store.add_source(s, name, server.url, "swepub_mods")


def _stored(sessions: sessionmaker[Session], source: str) -> dict[str, object]:
    """Everything a harvest writes for one source, without the row ids that differ between sources."""
    with sessions() as s:
        source_id = s.scalar(select(Source.id).where(Source.name == source))
        records = list(s.scalars(select(HarvestedRecord).where(HarvestedRecord.source_id == source_id)
                                 .order_by(HarvestedRecord.id)))
        ident = {r.id: r.oai_identifier for r in records}
        problems = sorted((ident[p.record_id], p.code, p.severity, p.name or "", p.path, p.message)
                          for p in s.scalars(select(RecordProblem).where(RecordProblem.record_id.in_(ident))))
        keys = sorted((ident[k.record_id], k.key)
                      for k in s.scalars(select(BlockingKey).where(BlockingKey.record_id.in_(ident))))
        run_ids = [r.first_seen_run_id for r in records]
        events = [(e.level, e.code, e.oai_identifier, e.message)
                  for e in s.scalars(select(RunEvent).where(RunEvent.run_id.in_(run_ids)).order_by(RunEvent.id))]
        rows = [(r.oai_identifier, r.datestamp, r.deleted, r.raw_xml, r.record, r.accepted, r.problems, r.xsd_valid,
                 r.content_hash, r.match_features, r.institution, r.quality_score) for r in records]
    return {"records": rows, "problems": problems, "keys": keys, "events": events}


def _counts(report: RunReport) -> tuple[int, ...]:
    c = report.counts
    return (c.added, c.updated, c.deleted, c.rejected, c.unchanged, c.errors)


def _resume_matches_an_uncut_run(sessions: sessionmaker[Session], server: OAITestServer, quick: ClientSettings,
                                 name: str, pages: int) -> RunReport:
    """Resume ``name`` and harvest the same feed uncut into another source: the same counts and stored records."""
    resumed = harvest_source(sessions, name, HarvestOptions(client=quick, dedup=False, workers=2))
    assert resumed.status == "succeeded" and resumed.pages == pages
    _add(sessions, server, f"{name}-uncut")
    uncut = harvest_source(sessions, f"{name}-uncut", HarvestOptions(client=quick, dedup=False, workers=1))
    assert _counts(resumed)[:5] == _counts(uncut)[:5]
    assert resumed.counts.errors == uncut.counts.errors + 1  # the interruption itself is in the run log
    assert _stored(sessions, name)["records"] == _stored(sessions, f"{name}-uncut")["records"]
    return resumed


def test_pages_judged_ahead_store_exactly_what_the_loop_alone_stores(
        sessions: sessionmaker[Session], oai_server: OAITestServer, quick: ClientSettings) -> None:
    _feed(oai_server)
    for name in ("alone", "ahead"):
        _add(sessions, oai_server, name)
    alone = harvest_source(sessions, "alone", HarvestOptions(client=quick, dedup=False, workers=1))
    ahead = harvest_source(sessions, "ahead", HarvestOptions(client=quick, dedup=False, workers=2))
    assert alone.status == ahead.status == "succeeded" and alone.pages == ahead.pages == 4
    assert _counts(alone) == _counts(ahead)
    assert alone.counts.added > 5 and alone.counts.deleted == 1 and alone.counts.rejected >= 1
    mine, theirs = _stored(sessions, "alone"), _stored(sessions, "ahead")
    assert mine["records"] and any(row[7] is not None for row in mine["records"])  # XSD verdicts were given
    assert mine == theirs
    # Harvesting again finds every record unchanged, with or without the look-ahead.
    again = harvest_source(sessions, "ahead", HarvestOptions(client=quick, dedup=False, workers=2, full=True))
    assert again.counts.unchanged == len(mine["records"]) + 1  # type: ignore[arg-type]  # one is listed twice
    assert again.counts.added == again.counts.updated == 0


def test_a_failing_page_stops_the_look_ahead_run_where_the_loop_alone_stops(
        sessions: sessionmaker[Session], oai_server: OAITestServer, quick: ClientSettings) -> None:
    tokens = _feed(oai_server)
    third = oai_server.reply_for({"verb": "ListRecords", "resumptionToken": tokens[1]})
    oai_server.route({"verb": "ListRecords", "resumptionToken": tokens[1]}, Reply(b"busy", status=503))
    _add(sessions, oai_server, "cut")
    cut = harvest_source(sessions, "cut", HarvestOptions(client=quick, dedup=False, workers=2))
    assert cut.status == "interrupted" and cut.pages == 2 and cut.message and cut.message.startswith("http_503")
    with sessions() as s:
        assert s.scalar(select(Source.checkpoint_token).where(Source.name == "cut")) == tokens[1]
    oai_server.route({"verb": "ListRecords", "resumptionToken": tokens[1]}, third)
    assert _resume_matches_an_uncut_run(sessions, oai_server, quick, "cut", 4).run_id == cut.run_id


def test_a_run_stopped_while_pages_were_judged_ahead_resumes_with_nothing_lost_or_doubled(
        sessions: sessionmaker[Session], oai_server: OAITestServer, quick: ClientSettings) -> None:
    tokens = _feed(oai_server)
    _add(sessions, oai_server, "stopped")

    def stop_after_two(progress: Progress) -> None:
        if progress.pages == 2:
            raise KeyboardInterrupt  # Ctrl-C between pages, while the look-ahead may hold pages 3 and 4

    with pytest.raises(KeyboardInterrupt):
        harvest_source(sessions, "stopped", HarvestOptions(client=quick, dedup=False, workers=2), on_page=stop_after_two)
    assert not [p for p in multiprocessing.active_children() if p.name.startswith("harvest-lookahead")]
    with sessions() as s:
        source = s.scalars(select(Source).where(Source.name == "stopped")).one()
        assert (source.checkpoint_token, source.checkpoint_pages) == (tokens[1], 2)
    _resume_matches_an_uncut_run(sessions, oai_server, quick, "stopped", 4)


def test_a_look_ahead_process_killed_mid_run_fails_the_run_which_then_resumes_exactly(
        sessions: sessionmaker[Session], oai_server: OAITestServer, quick: ClientSettings) -> None:
    _feed(oai_server, pages=6)
    _add(sessions, oai_server, "killed")

    def kill_look_ahead(progress: Progress) -> None:
        if progress.pages == 1:
            for process in multiprocessing.active_children():
                if process.name.startswith("harvest-lookahead"):
                    process.kill()

    with pytest.raises(RuntimeError, match="look-ahead process of source killed ended without a word"):
        harvest_source(sessions, "killed", HarvestOptions(client=quick, dedup=False, workers=2),
                       on_page=kill_look_ahead)
    with sessions() as s:
        source = s.scalars(select(Source).where(Source.name == "killed")).one()
        done = source.checkpoint_pages
        assert 1 <= done < 6 and source.checkpoint_token == f"page{done + 1}"
    _resume_matches_an_uncut_run(sessions, oai_server, quick, "killed", 6)


def test_the_look_ahead_judges_more_when_the_loop_is_slower_and_less_when_the_loop_waits() -> None:
    share = lookahead.first_share(2)
    assert share == pytest.approx(2 / 3)
    assert lookahead.next_share(share, waits=False) > share  # the page was there: the loop is the slower side
    assert lookahead.next_share(share, waits=True) < share
    low = high = share
    for _ in range(100):
        low, high = lookahead.next_share(low, waits=True), lookahead.next_share(high, waits=False)
    assert (low, high) == (lookahead.MIN_SHARE, lookahead.MAX_SHARE)  # bounded however long it swings
