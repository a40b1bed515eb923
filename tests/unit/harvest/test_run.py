"""The harvest loop end to end: recorded real feeds from a live local server into a real database."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from lxml import etree
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from harvest import store
from harvest.client import ClientSettings
from harvest.models import HarvestedRecord, HarvestRun, Source, Work, WorkMembership
from harvest.parse import parse_metadata
from harvest.run import HarvestOptions, Progress, RunReport, harvest_source
from tests.harvest_server import OAITestServer, Reply, fixture, identify

FIXTURES = Path(__file__).resolve().parents[2] / "data" / "oai"
REDUX_SINGLE = ["gih-new.xml", "kth-new-diva.xml", "liu-new-diva.xml", "ltu-new.xml", "lund.xml",
                "naturvardsverket-new.xml", "uniarts-new.xml"]
OAI = "{http://www.openarchives.org/OAI/2.0/}"


def _source(sessions: sessionmaker[Session], server: OAITestServer, prefix: str, name: str = "src", **kw: str) -> None:
    with sessions.begin() as s:
        store.add_source(s, name, server.url, prefix, **kw)


def _harvest(sessions: sessionmaker[Session], quick: ClientSettings, name: str = "src", **kw: object) -> RunReport:
    return harvest_source(sessions, name, HarvestOptions(client=quick, **kw))  # type: ignore[arg-type]


def _records(sessions: sessionmaker[Session]) -> list[HarvestedRecord]:
    with sessions() as s:
        return list(s.scalars(select(HarvestedRecord).order_by(HarvestedRecord.id)))


def _ids_in(name: str) -> list[str]:
    root = etree.fromstring(fixture(name))
    return [h.text for h in root.iter(f"{OAI}identifier") if h.getparent().tag == f"{OAI}header"]


def _sickle(server: OAITestServer) -> None:
    server.route({"verb": "Identify"}, identify())
    server.route({"verb": "ListRecords", "metadataPrefix": "oai_dc"}, "sickle/ListRecords.xml")
    for n in (2, 3, 4):
        server.route({"verb": "ListRecords", "resumptionToken": f"ListRecords{n}.xml"}, f"sickle/ListRecords{n}.xml")


def test_sickle_chain_every_record_imported_or_rejected(sessions: sessionmaker[Session], oai_server: OAITestServer,
                                                        quick: ClientSettings) -> None:
    _sickle(oai_server)
    _source(sessions, oai_server, "oai_dc")
    report = _harvest(sessions, quick)
    assert report.status == "succeeded" and report.pages == 4
    c = report.counts
    # Every page repeats the same two records (one deleted, one live); page 4 adds a header with
    # no identifier. Each of the 8 records is accounted for once.
    assert (c.deleted, c.unchanged, c.added + c.rejected) == (1, 5, 2)
    records = _records(sessions)
    assert len(records) == 2  # the identifier-less record cannot be stored, only logged
    live = [r for r in records if not r.deleted][0]
    assert not live.accepted  # oai_dc has no recordContentSource: SwePub's rejection 01
    assert {p["code"] for p in live.problems if p["severity"] == "reject"} >= {"01"}
    for record in records:
        assert record.deleted or record.accepted or any(p["severity"] == "reject" for p in record.problems)
    with sessions() as s:
        events = store.run_events(s, report.run_id)
    assert any(e.code == "no_identifier" for e in events)


def test_diva_records_without_list_records_wrapper(sessions: sessionmaker[Session], oai_server: OAITestServer,
                                                   quick: ClientSettings) -> None:
    oai_server.route({"verb": "Identify"}, identify())
    for i, name in enumerate(REDUX_SINGLE):
        token = f"page{i + 1}" if i + 1 < len(REDUX_SINGLE) else None
        body = fixture(f"swepub-redux/{name}")
        if token:  # chain the single-record files into one listing
            body = body.replace(b"</OAI-PMH>", f"<resumptionToken>{token}</resumptionToken></OAI-PMH>".encode())
        params = ({"verb": "ListRecords", "metadataPrefix": "swepub_mods"} if i == 0
                  else {"verb": "ListRecords", "resumptionToken": f"page{i}"})
        oai_server.route(params, body)
    _source(sessions, oai_server, "swepub_mods")
    report = _harvest(sessions, quick)
    assert report.status == "succeeded" and report.pages == len(REDUX_SINGLE)
    expected = sum(len(_ids_in(f"swepub-redux/{n}")) for n in REDUX_SINGLE)
    assert report.counts.added + report.counts.rejected == expected
    with sessions() as s:
        envelope = [e for e in store.run_events(s, report.run_id) if e.code == "envelope"]
    assert len(envelope) == len(REDUX_SINGLE)
    for record in _records(sessions):
        assert record.raw_xml and record.raw_xml.startswith("<record")
        if record.accepted:
            assert record.record is not None and record.record["oai_identifier"] == record.oai_identifier
        else:
            assert any(p["severity"] == "reject" for p in record.problems)


def test_diva_deleted_header_removes_the_record_and_its_work(sessions: sessionmaker[Session],
                                                            oai_server: OAITestServer, quick: ClientSettings) -> None:
    oai_server.route({"verb": "Identify"}, identify())
    live = fixture("swepub-redux/kth-new-diva.xml").replace(b"oai:DiVA.org:kth-256035", b"oai:DiVA.org:kth-49381:mock")
    oai_server.route({"verb": "ListRecords", "metadataPrefix": "swepub_mods", "set": "SwePub-kth"}, live)
    _source(sessions, oai_server, "swepub_mods", name="kth", set_spec="SwePub-kth")
    assert _harvest(sessions, quick, "kth").counts.added == 1
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(Work)) == 1
    oai_server.fallback = lambda params: Reply(fixture("swepub-redux/delete_kth_post.xml"))
    report = _harvest(sessions, quick, "kth")
    assert report.counts.deleted == 1 and "from" in oai_server.requests[-1]
    [record] = _records(sessions)
    assert record.deleted and record.oai_identifier == "oai:DiVA.org:kth-49381:mock"
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(Work)) == 0


def test_three_diva_portals_report_one_paper(sessions: sessionmaker[Session], oai_server: OAITestServer,
                                            quick: ClientSettings) -> None:
    oai_server.route({"verb": "Identify"}, identify())
    oai_server.route({"verb": "ListRecords", "metadataPrefix": "swepub_mods"},
                     "swepub-redux/local_personid_from_candidate.xml")
    _source(sessions, oai_server, "swepub_mods", name="diva")
    assert _harvest(sessions, quick, "diva").counts.added == 3
    with sessions() as s:
        work = s.scalars(select(Work)).one()
        assert work.institutions == ["kth", "umu", "uu"] and work.record_count == 3
        reasons = sorted(m.reason for m in work.memberships)
    assert reasons[0].startswith("DOI 10.1007/s11192-019-03121-z equal with record")
    assert "master" in reasons[-1]


def test_worker_processes_judge_as_this_process_does(sessions: sessionmaker[Session], oai_server: OAITestServer,
                                                    quick: ClientSettings) -> None:
    oai_server.route({"verb": "Identify"}, identify())
    oai_server.route({"verb": "ListRecords", "metadataPrefix": "oai_dc"}, "metaslurper/ListRecords.xml")
    oai_server.route({"verb": "ListRecords", "resumptionToken": "fgneg:655|zrgnqngnCersvk:bnv_qp"},
                     "metaslurper/ListRecords-DIM.xml")
    for name in ("here", "pooled"):
        _source(sessions, oai_server, "oai_dc", name=name)
    here = harvest_source(sessions, "here", HarvestOptions(client=quick, dedup=False))
    pooled = harvest_source(sessions, "pooled", HarvestOptions(client=quick, dedup=False, workers=2))
    assert here.counts == pooled.counts and here.counts.added + here.counts.rejected == 103
    by_source: dict[int, list[tuple[object, ...]]] = {}
    for r in _records(sessions):
        by_source.setdefault(r.source_id, []).append((r.oai_identifier, r.record, r.problems, r.xsd_valid,
                                                      r.match_features, r.content_hash))
    assert len(by_source) == 2 and list(by_source.values())[0] == list(by_source.values())[1]


def test_not_well_formed_feed_fails_cleanly(sessions: sessionmaker[Session], oai_server: OAITestServer,
                                            quick: ClientSettings) -> None:
    oai_server.route({"verb": "Identify"}, identify())
    oai_server.route({"verb": "ListRecords", "metadataPrefix": "mods"}, "swepub-redux/chalmers.xml")
    _source(sessions, oai_server, "mods", name="chalmers")
    report = _harvest(sessions, quick, "chalmers")
    assert report.status == "failed"
    assert report.message is not None and report.message.startswith("undefined_entity:")
    assert "&ouml;" in report.message and "after 2 attempts" in report.message
    with sessions() as s:
        run = s.get_one(HarvestRun, report.run_id)
        assert run.finished is not None and run.errors == 1
        assert [e.code for e in store.run_events(s, report.run_id) if e.level == "error"] == ["undefined_entity"]


def test_dspace_without_deletions_is_swept_by_list_identifiers(sessions: sessionmaker[Session],
                                                               oai_server: OAITestServer, quick: ClientSettings) -> None:
    oai_server.route({"verb": "Identify"}, "eur-dspace-2003/Identify.xml")  # deletedRecord: no
    oai_server.route({"verb": "ListRecords", "metadataPrefix": "oai_dc"}, "eur-dspace-2003/ListRecords-from-2003-04-10.xml")
    listed = _ids_in("eur-dspace-2003/ListRecords-from-2003-04-10.xml")
    still_there = listed[: len(listed) // 2]
    oai_server.route({"verb": "ListIdentifiers", "metadataPrefix": "oai_dc"}, _identifiers_page(listed))
    _source(sessions, oai_server, "oai_dc", name="eur")
    first = _harvest(sessions, quick, "eur")
    assert first.status == "succeeded" and first.counts.deleted == 0
    assert first.counts.added + first.counts.rejected == len(listed)
    oai_server.route({"verb": "ListIdentifiers", "metadataPrefix": "oai_dc"}, _identifiers_page(still_there))
    second = _harvest(sessions, quick, "eur", full=True)
    assert second.counts.deleted == len(listed) - len(still_there)
    assert second.counts.unchanged == len(listed)
    gone = {r.oai_identifier for r in _records(sessions) if r.deleted}
    assert gone == set(listed) - set(still_there)


def _identifiers_page(identifiers: list[str]) -> bytes:
    headers = "".join(f"<header><identifier>{i}</identifier><datestamp>2003-04-10T00:00:00Z</datestamp></header>"
                      for i in identifiers)
    return (f'<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><responseDate>2003-04-30T00:00:00Z</responseDate>'
            f'<request verb="ListIdentifiers">http://127.0.0.1/oai</request><ListIdentifiers>{headers}'
            f'</ListIdentifiers></OAI-PMH>').encode()


def test_illinois_page_and_dspace_dim_payloads(sessions: sessionmaker[Session], oai_server: OAITestServer,
                                               quick: ClientSettings) -> None:
    oai_server.route({"verb": "Identify"}, identify(granularity="YYYY-MM-DD", earliest="2000-01-01"))
    oai_server.route({"verb": "ListRecords", "metadataPrefix": "oai_dc"}, "metaslurper/ListRecords.xml")
    oai_server.route({"verb": "ListRecords", "resumptionToken": "fgneg:655|zrgnqngnCersvk:bnv_qp"},
                     "metaslurper/ListRecords-DIM.xml")
    _source(sessions, oai_server, "oai_dc", name="illinois")
    report = _harvest(sessions, quick, "illinois")
    assert report.status == "succeeded" and report.pages == 2
    assert report.counts.added + report.counts.rejected == 103
    dim = [r for r in _records(sessions) if r.oai_identifier in _ids_in("metaslurper/ListRecords-DIM.xml")]
    assert len(dim) == 3 and not any(r.accepted for r in dim)  # DSpace dim is not oai_dc: rejected, with the reason
    assert all(p["code"] == "dc_data_missing" for r in dim for p in r.problems if p["severity"] == "reject")


def test_incremental_run_asks_from_the_last_start_minus_overlap(sessions: sessionmaker[Session],
                                                               oai_server: OAITestServer, quick: ClientSettings) -> None:
    _sickle(oai_server)
    oai_server.fallback = lambda params: Reply(fixture("sickle/noRecordsMatch.xml"))
    _source(sessions, oai_server, "oai_dc")
    first = _harvest(sessions, quick)
    with sessions() as s:
        started = s.get_one(HarvestRun, first.run_id).started
        assert s.scalar(select(Source.last_success_from)) == started
    second = _harvest(sessions, quick, overlap=dt.timedelta(hours=6))
    assert second.status == "succeeded" and second.counts == type(second.counts)()
    asked = oai_server.requests[-1]
    assert asked["from"] == (started - dt.timedelta(hours=6)).strftime("%Y-%m-%dT%H:%M:%SZ")
    with sessions() as s:
        assert s.get_one(HarvestRun, second.run_id).mode == "incremental"


def test_second_full_run_finds_everything_unchanged(sessions: sessionmaker[Session], oai_server: OAITestServer,
                                                    quick: ClientSettings) -> None:
    oai_server.route({"verb": "Identify"}, identify())
    oai_server.route({"verb": "ListRecords", "metadataPrefix": "swepub_mods"},
                     "swepub-redux/obsolete-test-listrecords.xml")
    _source(sessions, oai_server, "swepub_mods")
    first = _harvest(sessions, quick)
    second = _harvest(sessions, quick, full=True)
    assert second.counts.unchanged == first.counts.added + first.counts.rejected == 3
    assert second.counts.added == second.counts.updated == 0


def test_changed_and_deleted_records(sessions: sessionmaker[Session], oai_server: OAITestServer,
                                     quick: ClientSettings) -> None:
    oai_server.route({"verb": "Identify"}, identify())
    original = fixture("swepub-redux/obsolete-test-listrecords.xml")
    oai_server.route({"verb": "ListRecords", "metadataPrefix": "swepub_mods"}, original)
    _source(sessions, oai_server, "swepub_mods")
    _harvest(sessions, quick)
    first_id = _ids_in("swepub-redux/obsolete-test-listrecords.xml")[0]
    root = etree.fromstring(original)
    records = root.findall(f".//{OAI}record")
    title = records[1].find(".//{http://www.loc.gov/mods/v3}title")
    title.text = "A corrected title"
    header = records[0].find(f"{OAI}header")
    header.set("status", "deleted")
    for child in records[0]:
        if child.tag == f"{OAI}metadata":
            records[0].remove(child)
    oai_server.route({"verb": "ListRecords", "metadataPrefix": "swepub_mods"}, etree.tostring(root))
    report = _harvest(sessions, quick, full=True)
    assert (report.counts.deleted, report.counts.updated, report.counts.unchanged) == (1, 1, 1)
    stored = {r.oai_identifier: r for r in _records(sessions)}
    assert stored[first_id].deleted and stored[first_id].raw_xml is not None
    assert any(t["title"] == "A corrected title" for r in stored.values() if r.record for t in r.record["titles"])
    with sessions() as s:
        member_ids = set(s.scalars(select(WorkMembership.record_id)))
    assert stored[first_id].id not in member_ids and len(member_ids) == 2


def test_source_xslt_repairs_before_parsing(sessions: sessionmaker[Session], oai_server: OAITestServer,
                                            quick: ClientSettings) -> None:
    _sickle(oai_server)
    repair = """<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
        xmlns:dc="http://purl.org/dc/elements/1.1/">
      <xsl:template match="@*|node()"><xsl:copy><xsl:apply-templates select="@*|node()"/></xsl:copy></xsl:template>
      <xsl:template match="dc:title/text()">Repaired: <xsl:value-of select="."/></xsl:template>
    </xsl:stylesheet>"""
    _source(sessions, oai_server, "oai_dc", xslt_text=repair)
    _harvest(sessions, quick)
    titles = [t["title"] for r in _records(sessions) if r.record for t in r.record["titles"]]
    assert titles and all(t.startswith("Repaired: ") for t in titles)


def test_a_record_the_parser_trips_on_is_rejected_and_the_page_imported(
        sessions: sessionmaker[Session], oai_server: OAITestServer, quick: ClientSettings) -> None:
    _sickle(oai_server)
    _source(sessions, oai_server, "oai_dc")

    def fragile(metadata, prefix, *, oai_identifier, datestamp, institution_code):  # type: ignore[no-untyped-def]
        if oai_identifier.endswith("1585322"):
            raise KeyError("dc:title")
        return parse_metadata(metadata, prefix, oai_identifier=oai_identifier, datestamp=datestamp,
                              institution_code=institution_code)

    report = harvest_source(sessions, "src", HarvestOptions(client=quick), parse=fragile)
    assert report.status == "succeeded"
    broken = [r for r in _records(sessions) if r.oai_identifier.endswith("1585322")]
    assert broken[0].problems[0]["code"] == "parse_error" and "KeyError" in broken[0].problems[0]["message"]
    assert len([r for r in _records(sessions) if not r.deleted]) == 1


def test_interrupted_run_resumes_with_exact_counts(sessions: sessionmaker[Session], oai_server: OAITestServer,
                                                   quick: ClientSettings, tmp_path: Path) -> None:
    _sickle(oai_server)
    _source(sessions, oai_server, "oai_dc")
    pages: list[Progress] = []

    def kill_after_two(progress: Progress) -> None:
        pages.append(progress)
        if progress.pages == 2:
            oai_server.stop()

    cut = harvest_source(sessions, "src", HarvestOptions(client=quick), on_page=kill_after_two)
    assert cut.status == "interrupted" and cut.pages == 2 and cut.message and cut.message.startswith("network:")
    with sessions() as s:
        assert s.scalar(select(Source.checkpoint_token)) == "ListRecords3.xml"
        assert s.scalar(select(Source.last_success_from)) is None
    oai_server.start()  # same port, like a restarted server
    resumed = _harvest(sessions, quick)
    assert resumed.run_id == cut.run_id and resumed.status == "succeeded" and resumed.pages == 4
    assert [r.get("resumptionToken") for r in oai_server.requests[-2:]] == ["ListRecords3.xml", "ListRecords4.xml"]

    # The same feed harvested without interruption into another database gives the same counts.
    from repository.db import make_engine

    from harvest.models import HarvestBase
    other = make_engine(f"sqlite:///{tmp_path / 'uncut.sqlite3'}")
    HarvestBase.metadata.create_all(other)
    clean = sessionmaker(bind=other, expire_on_commit=False)
    _source(clean, oai_server, "oai_dc")
    uncut = _harvest(clean, quick)
    for name in ("added", "updated", "deleted", "rejected", "unchanged"):
        assert getattr(resumed.counts, name) == getattr(uncut.counts, name), name
    assert resumed.counts.errors == uncut.counts.errors + 1  # the interruption itself is in the run log
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(HarvestedRecord)) == 2
        assert s.scalar(select(func.count()).select_from(HarvestRun)) == 1
    other.dispose()


def test_unknown_source_is_a_clear_error(sessions: sessionmaker[Session]) -> None:
    with pytest.raises(store.SourceError, match="no source named 'nowhere'"):
        harvest_source(sessions, "nowhere")
