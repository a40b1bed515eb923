"""The OAI-PMH client against a real HTTP server on 127.0.0.1 serving recorded responses."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from lxml import etree

from harvest.client import (
    BadArgument, BadResumptionToken, CannotDisseminateFormat, ClientSettings, HarvestTimeout, Header,
    HostRateLimiter, IdDoesNotExist, MalformedResponse, OAIClient, ResumptionTokenLoop, TransportError,
    format_datestamp, parse_datestamp, record_from_element,
)
from tests.harvest_server import OAITestServer, Reply, fixture, identify

SICKLE_LR = {"verb": "ListRecords", "metadataPrefix": "oai_dc"}


def _sickle_chain(server: OAITestServer) -> None:
    server.route(SICKLE_LR, "sickle/ListRecords.xml")
    for n in (2, 3, 4):
        server.route({"verb": "ListRecords", "resumptionToken": f"ListRecords{n}.xml"}, f"sickle/ListRecords{n}.xml")


def test_sickle_chain_follows_every_resumption_token(oai_server: OAITestServer, quick: ClientSettings) -> None:
    _sickle_chain(oai_server)
    pages = list(OAIClient(oai_server.url, quick).list_records("oai_dc"))
    assert [p.token for p in pages] == ["ListRecords2.xml", "ListRecords3.xml", "ListRecords4.xml", None]
    assert pages[0].complete_list_size == 8
    headers = [r.header for p in pages for r in p.records]
    assert len(headers) == 8
    assert sum(h.deleted for h in headers) == 4
    assert all(r.metadata is None for p in pages for r in p.records if r.header.deleted)
    # ListRecords4 has a header without an identifier: the client reports it as such, the run rejects it.
    assert [h.identifier for h in headers].count(None) == 1
    assert [r["resumptionToken"] for r in oai_server.requests[1:]] == [
        "ListRecords2.xml", "ListRecords3.xml", "ListRecords4.xml"]


def test_records_keep_their_payload_and_their_xml(oai_server: OAITestServer, quick: ClientSettings) -> None:
    _sickle_chain(oai_server)
    first = next(iter(OAIClient(oai_server.url, quick).list_records("oai_dc")))
    live = first.records[1]
    assert live.header.identifier == "oai:test.example.com:1585322"
    assert live.metadata is not None and etree.QName(live.metadata).localname == "dc"
    reread = etree.fromstring(live.raw_xml.encode())
    assert reread.findtext(".//{http://purl.org/dc/elements/1.1/}title") == "Sample Title"


def test_resume_from_a_saved_token(oai_server: OAITestServer, quick: ClientSettings) -> None:
    _sickle_chain(oai_server)
    pages = list(OAIClient(oai_server.url, quick).list_records("oai_dc", token="ListRecords3.xml"))
    assert len(pages) == 2 and pages[-1].token is None


def test_window_and_set_arguments_are_sent(oai_server: OAITestServer, quick: ClientSettings) -> None:
    oai_server.route({"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "2003-04-10T00:00:00Z"},
                     "eur-dspace-2003/ListRecords-from-2003-04-10.xml")
    pages = list(OAIClient(oai_server.url, quick).list_records("oai_dc", from_="2003-04-10T00:00:00Z"))
    assert sum(len(p.records) for p in pages) > 5
    oai_server.route({"verb": "ListIdentifiers", "metadataPrefix": "swepub_mods", "set": "SwePub-ths"},
                     "swepub-redux/obsolete-test-listidentifiers.xml")
    ids = list(OAIClient(oai_server.url, quick).list_identifiers("swepub_mods", set_spec="SwePub-ths"))
    assert len(ids[0].headers) == 3 and ids[0].records == []


def test_list_identifiers_chain(oai_server: OAITestServer, quick: ClientSettings) -> None:
    oai_server.route({"verb": "ListIdentifiers", "metadataPrefix": "oai_dc"}, "sickle/ListIdentifiers.xml")
    oai_server.route({"verb": "ListIdentifiers", "resumptionToken": "ListIdentifiers2.xml"},
                     "sickle/ListIdentifiers2.xml")
    pages = list(OAIClient(oai_server.url, quick).list_identifiers("oai_dc"))
    headers = [h for p in pages for h in p.headers]
    assert len(pages) == 2 and len(headers) == 4
    assert sum(h.deleted for h in headers) == 2


def test_no_records_match_is_an_empty_listing(oai_server: OAITestServer, quick: ClientSettings) -> None:
    oai_server.route(SICKLE_LR, "sickle/noRecordsMatch.xml")
    pages = list(OAIClient(oai_server.url, quick).list_records("oai_dc"))
    assert len(pages) == 1 and pages[0].records == [] and pages[0].token is None


@pytest.mark.parametrize(("name", "error"), [
    ("sickle/badResumptionToken.xml", BadResumptionToken),
    ("sickle/cannotDisseminateFormat.xml", CannotDisseminateFormat),
    ("sickle/badArgument.xml", BadArgument),
    ("metaslurper/ListRecords-error.xml", CannotDisseminateFormat),
])
def test_oai_errors_become_typed_exceptions(oai_server: OAITestServer, quick: ClientSettings, name: str,
                                            error: type[Exception]) -> None:
    oai_server.route(SICKLE_LR, name)
    with pytest.raises(error) as caught:
        list(OAIClient(oai_server.url, quick).list_records("oai_dc"))
    assert caught.value.code == error.code  # type: ignore[attr-defined]
    assert error.code in str(caught.value)  # type: ignore[attr-defined]


def test_get_record(oai_server: OAITestServer, quick: ClientSettings) -> None:
    oai_server.route({"verb": "GetRecord", "identifier": "hdl:1765/315", "metadataPrefix": "oai_dc"},
                     "eur-dspace-2003/GetRecord-hdl-1765-315.xml")
    oai_server.route({"verb": "GetRecord", "identifier": "oai:nowhere:1", "metadataPrefix": "oai_dc"},
                     "sickle/idDoesNotExist.xml")
    client = OAIClient(oai_server.url, quick)
    record = client.get_record("hdl:1765/315", "oai_dc")
    assert record.header.identifier == "hdl:1765/315" and record.metadata is not None
    with pytest.raises(IdDoesNotExist):
        client.get_record("oai:nowhere:1", "oai_dc")


def test_identify_of_a_real_dspace(oai_server: OAITestServer, quick: ClientSettings) -> None:
    oai_server.route({"verb": "Identify"}, "eur-dspace-2003/Identify.xml")
    info = OAIClient(oai_server.url, quick).identify()
    assert (info.granularity, info.earliest_datestamp, info.deleted_record) == (
        "YYYY-MM-DDThh:mm:ssZ", "2001-01-01T00:00:00Z", "no")
    assert info.repository_name == "Erasmus University : Research Online"


@pytest.mark.parametrize(("name", "code"), [
    ("eur-dspace-2003/Identify-broken-undefined-entity.xml", "undefined_entity"),
    ("eur-dspace-2003/Identify-broken-bogus-element.xml", "not_well_formed"),  # <bogus> never closes
])
def test_broken_identify_fails_cleanly(oai_server: OAITestServer, quick: ClientSettings, name: str,
                                       code: str) -> None:
    oai_server.route({"verb": "Identify"}, name)
    with pytest.raises(MalformedResponse) as caught:
        OAIClient(oai_server.url, quick).identify()
    assert caught.value.code == code


def test_tolerates_records_without_a_list_records_wrapper(oai_server: OAITestServer, quick: ClientSettings) -> None:
    oai_server.route({"verb": "ListRecords", "metadataPrefix": "swepub_mods"}, "swepub-redux/kth-new-diva.xml")
    page = next(iter(OAIClient(oai_server.url, quick).list_records("swepub_mods")))
    assert len(page.records) == 1 and page.records[0].metadata is not None
    assert page.notes and "without a ListRecords element" in page.notes[0]


def test_not_well_formed_page_is_retried_then_reported(oai_server: OAITestServer, quick: ClientSettings) -> None:
    oai_server.route({"verb": "ListRecords", "metadataPrefix": "mods"}, "swepub-redux/chalmers.xml")
    with pytest.raises(MalformedResponse) as caught:
        list(OAIClient(oai_server.url, quick).list_records("mods"))
    assert caught.value.code == "undefined_entity" and "&ouml;" in str(caught.value)
    assert len(oai_server.requests) == quick.page_retries + 1


def test_resumption_token_loop_stops(oai_server: OAITestServer, quick: ClientSettings) -> None:
    looping = fixture("sickle/ListRecords2.xml").replace(b">ListRecords3.xml<", b">same-again<")
    oai_server.route(SICKLE_LR, looping)
    oai_server.route({"verb": "ListRecords", "resumptionToken": "same-again"}, looping)
    pages = OAIClient(oai_server.url, quick).list_records("oai_dc")
    assert next(pages).token == "same-again"
    with pytest.raises(ResumptionTokenLoop, match="same-again"):
        next(pages)
    assert len(oai_server.requests) == 2


def test_503_with_retry_after_is_waited_for(oai_server: OAITestServer, limiter: HostRateLimiter) -> None:
    settings = ClientSettings(timeout=2, retries=2, backoff=0.0, retry_after_cap=0.3, min_interval=0)
    oai_server.route({"verb": "Identify"}, identify())
    oai_server.misbehave(Reply(b"busy", status=503, headers=(("Retry-After", "1"),)), times=2)
    started = time.monotonic()
    OAIClient(oai_server.url, settings, limiter).identify()
    assert time.monotonic() - started >= 0.55  # two capped pauses of 0.3 s
    assert len(oai_server.requests) == 3


def test_persistent_5xx_ends_with_the_status(oai_server: OAITestServer, quick: ClientSettings) -> None:
    oai_server.misbehave(Reply(b"oops", status=500), times=10)
    with pytest.raises(TransportError) as caught:
        OAIClient(oai_server.url, quick).identify()
    assert caught.value.code == "http_500" and "after 3 attempts" in str(caught.value)


def test_404_is_not_retried(oai_server: OAITestServer, quick: ClientSettings) -> None:
    with pytest.raises(TransportError) as caught:
        OAIClient(oai_server.url, quick).identify()
    assert caught.value.code == "http_404" and len(oai_server.requests) == 1


def test_server_that_never_answers_times_out(oai_server: OAITestServer) -> None:
    settings = ClientSettings(timeout=0.3, retries=1, backoff=0.0, min_interval=0)
    oai_server.misbehave(Reply(hang=True), times=5)
    started = time.monotonic()
    with pytest.raises(HarvestTimeout, match="within 0.3 s"):
        OAIClient(oai_server.url, settings).identify()
    assert time.monotonic() - started < 3


def test_trickling_server_hits_the_overall_deadline(oai_server: OAITestServer) -> None:
    settings = ClientSettings(timeout=0.5, retries=0, min_interval=0)
    oai_server.misbehave(Reply(fixture("metaslurper/ListRecords.xml"), trickle=0.05))
    with pytest.raises(HarvestTimeout, match="did not finish"):
        OAIClient(oai_server.url, settings).list_records("oai_dc").__next__()


def test_connection_cut_mid_page_is_retried(oai_server: OAITestServer, quick: ClientSettings) -> None:
    body = fixture("metaslurper/ListRecords.xml")
    oai_server.route(SICKLE_LR, body)
    oai_server.misbehave(Reply(body, cut_at=len(body) // 2))
    page = next(iter(OAIClient(oai_server.url, quick).list_records("oai_dc")))
    assert len(page.records) == 100 and len(oai_server.requests) == 2


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
def test_compressed_bodies_are_decoded(oai_server: OAITestServer, quick: ClientSettings, encoding: str) -> None:
    oai_server.route(SICKLE_LR, Reply(fixture("metaslurper/ListRecords.xml"), encoding=encoding))
    page = next(iter(OAIClient(oai_server.url, quick).list_records("oai_dc")))
    assert len(page.records) == 100 and page.complete_list_size == 19091


def test_gzip_bomb_is_refused(oai_server: OAITestServer) -> None:
    settings = ClientSettings(timeout=5, retries=0, min_interval=0, max_response_bytes=1_000_000)
    oai_server.route(SICKLE_LR, Reply(b"<a>" + b" " * 50_000_000 + b"</a>", encoding="gzip"))
    with pytest.raises(MalformedResponse) as caught:
        list(OAIClient(oai_server.url, settings).list_records("oai_dc"))
    assert caught.value.code == "too_large"


def test_rate_limit_spaces_requests_to_one_host(oai_server: OAITestServer, limiter: HostRateLimiter) -> None:
    settings = ClientSettings(timeout=2, retries=0, min_interval=0.2)
    oai_server.route({"verb": "Identify"}, identify())
    client = OAIClient(oai_server.url, settings, limiter)
    started = time.monotonic()
    for _ in range(3):
        client.identify()
    assert time.monotonic() - started >= 0.4


def test_refuses_a_base_url_that_is_not_http() -> None:
    with pytest.raises(ValueError, match="not an http"):
        OAIClient("file:///etc/passwd")


def test_datestamps_follow_the_granularity() -> None:
    moment = dt.datetime(2024, 5, 6, 7, 8, 9, tzinfo=dt.UTC)
    assert format_datestamp(moment, "YYYY-MM-DD") == "2024-05-06"
    assert format_datestamp(moment, "YYYY-MM-DDThh:mm:ssZ") == "2024-05-06T07:08:09Z"
    assert parse_datestamp("2024-05-06T07:08:09Z") == moment
    assert parse_datestamp("2024-05-06") == moment.replace(hour=0, minute=0, second=0)
    for bad in ("06/05/2024", "2024-5-6", "2024-05-06T07:08:09", "2024-05-06T07:08:09+02:00", "2024-02-30"):
        with pytest.raises(ValueError, match="not an OAI-PMH datestamp"):
            parse_datestamp(bad)
    with pytest.raises(ValueError, match="granularity"):
        format_datestamp(moment, "YYYY")


@pytest.mark.parametrize(("header", "expected"), [
    ("<identifier> oai:x:1 </identifier><datestamp>2024-05-01</datestamp><setSpec>a</setSpec><setSpec> b </setSpec>",
     Header("oai:x:1", "2024-05-01", False, ("a", "b"))),
    ("<!-- a comment --><identifier>oai:x:1</identifier><identifier>oai:x:2</identifier>"
     "<datestamp>2024-05-01</datestamp><datestamp>2025-01-01</datestamp>",
     Header("oai:x:1", "2024-05-01", False, ())),  # the first of a repeated element counts
    ("<identifier/><identifier>oai:x:2</identifier><datestamp>  </datestamp>", Header(None, None, False, ())),
    ("<datestamp>2024-05-01</datestamp>", Header(None, "2024-05-01", False, ())),
])
def test_headers_are_read_as_written(header: str, expected: Header) -> None:
    xml = (f'<record xmlns="http://www.openarchives.org/OAI/2.0/"><header>{header}</header>'
           '<metadata><x xmlns="urn:x"/></metadata></record>')
    assert record_from_element(etree.fromstring(xml)).header == expected
    deleted = xml.replace("<header>", '<header status="deleted">')
    assert record_from_element(etree.fromstring(deleted)).header.deleted is True
