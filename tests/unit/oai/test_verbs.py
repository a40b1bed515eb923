"""Every verb and every error condition of OAI-PMH 2.0, each response checked against the OAI-PMH schema."""

from __future__ import annotations

from flask.testing import FlaskClient
from lxml import etree
from sqlalchemy import update

from repository.db import session
from repository.models import Publication

from tests.unit.oai.conftest import OAI, World, error_codes, identifiers, oai_get, parse, token_of

MODS = "{http://www.loc.gov/mods/v3}"
DC = "{http://purl.org/dc/elements/1.1/}"


def request_attributes(doc: etree._Element) -> dict[str, str]:
    return dict(doc.find(f"{OAI}request").attrib)


def header_of(doc: etree._Element, identifier: str) -> etree._Element:
    return next(h for h in doc.iter(f"{OAI}header") if h.findtext(f"{OAI}identifier") == identifier)


def test_identify_describes_the_repository(client: FlaskClient, world: World) -> None:
    doc = oai_get(client, verb="Identify")
    ident = doc.find(f"{OAI}Identify")
    assert ident.findtext(f"{OAI}repositoryName") == "Hylla Test"
    assert ident.findtext(f"{OAI}baseURL") == "http://hylla.test/oai"
    assert ident.findtext(f"{OAI}protocolVersion") == "2.0"
    assert ident.findtext(f"{OAI}adminEmail") == "admin@example.org"
    # the oldest datestamp of any record OAI-PMH shows (the two 2020-01-01T10:00:00 ones)
    assert ident.findtext(f"{OAI}earliestDatestamp") == "2020-01-01T10:00:00Z"
    assert ident.findtext(f"{OAI}deletedRecord") == "persistent"
    assert ident.findtext(f"{OAI}granularity") == "YYYY-MM-DDThh:mm:ssZ"
    assert [c.text for c in ident.findall(f"{OAI}compression")] == ["gzip", "deflate"]
    oai_identifier = ident.find(f"{OAI}description/{{http://www.openarchives.org/OAI/2.0/oai-identifier}}oai-identifier")
    assert [c.text for c in oai_identifier] == ["oai", "hylla.test", ":", "oai:hylla.test:1"]
    assert request_attributes(doc) == {"verb": "Identify"}
    assert doc.findtext(f"{OAI}request") == "http://hylla.test/oai"


def test_identify_takes_no_arguments(client: FlaskClient, world: World) -> None:
    doc = oai_get(client, verb="Identify", metadataPrefix="oai_dc")
    assert error_codes(doc) == ["badArgument"]
    assert request_attributes(doc) == {}  # badArgument: the bare base URL only


def test_list_metadata_formats(client: FlaskClient, world: World) -> None:
    doc = oai_get(client, verb="ListMetadataFormats")
    formats = {f.findtext(f"{OAI}metadataPrefix"): (f.findtext(f"{OAI}schema"), f.findtext(f"{OAI}metadataNamespace"))
               for f in doc.iter(f"{OAI}metadataFormat")}
    assert formats == {
        "oai_dc": ("http://www.openarchives.org/OAI/2.0/oai_dc.xsd", "http://www.openarchives.org/OAI/2.0/oai_dc/"),
        "mods": ("http://www.loc.gov/standards/mods/v3/mods-3-7.xsd", "http://www.loc.gov/mods/v3"),
        "swepub_mods": ("http://www.loc.gov/standards/mods/v3/mods-3-7.xsd", "http://www.loc.gov/mods/v3"),
    }
    one = oai_get(client, verb="ListMetadataFormats", identifier=world.oai("article"))
    assert [f.findtext(f"{OAI}metadataPrefix") for f in one.iter(f"{OAI}metadataFormat")] == ["oai_dc", "mods", "swepub_mods"]
    assert request_attributes(one) == {"verb": "ListMetadataFormats", "identifier": world.oai("article")}
    deleted = oai_get(client, verb="ListMetadataFormats", identifier=world.oai("withdrawn"))
    assert len(list(deleted.iter(f"{OAI}metadataFormat"))) == 3


def test_unknown_identifiers_do_not_exist(client: FlaskClient, world: World) -> None:
    for identifier in ("oai:hylla.test:999999", "oai:elsewhere.org:1", "hylla.test:1", "oai:hylla.test:01", "oai:hylla.test:x"):
        for verb, extra in (("ListMetadataFormats", {}), ("GetRecord", {"metadataPrefix": "oai_dc"})):
            doc = oai_get(client, verb=verb, identifier=identifier, **extra)
            assert error_codes(doc) == ["idDoesNotExist"], identifier
            assert request_attributes(doc)["identifier"] == identifier  # echoed: not a badArgument


def test_unpublished_records_do_not_exist(client: FlaskClient, world: World) -> None:
    for name in ("draft", "scheduled"):
        doc = oai_get(client, verb="GetRecord", identifier=world.oai(name), metadataPrefix="oai_dc")
        assert error_codes(doc) == ["idDoesNotExist"]
    draft = world.ids["draft"]
    for state in ("submitted", "returned", "withdrawn", "deleted"):  # never published: no tombstone either
        session.execute(update(Publication).where(Publication.id == draft).values(state=state))
        doc = oai_get(client, verb="GetRecord", identifier=world.oai("draft"), metadataPrefix="oai_dc")
        assert error_codes(doc) == ["idDoesNotExist"], state
        assert world.oai("draft") not in identifiers(oai_get(client, verb="ListIdentifiers", metadataPrefix="oai_dc"))


def test_deleted_state_is_a_deleted_record_too(client: FlaskClient, world: World) -> None:
    session.execute(update(Publication).where(Publication.id == world.ids["kth"]).values(state="deleted"))
    doc = oai_get(client, verb="GetRecord", identifier=world.oai("kth"), metadataPrefix="swepub_mods")
    header = doc.find(f"{OAI}GetRecord/{OAI}record/{OAI}header")
    assert header.get("status") == "deleted"
    assert doc.find(f"{OAI}GetRecord/{OAI}record/{OAI}metadata") is None


def test_list_sets_names_every_set_with_parents(client: FlaskClient, world: World) -> None:
    doc = oai_get(client, verb="ListSets")
    found = {s.findtext(f"{OAI}setSpec"): s.findtext(f"{OAI}setName") for s in doc.iter(f"{OAI}set")}
    for spec in ("type", "type:art", "type:stud", "content", "content:ref", "org", "org:uu", "org:uu:teknat",
                 "org:uu:teknat:kemi", "org:kth", "org:kth:eecs", "openaccess", "theses", "SwePub-uu", "SwePub-kth"):
        assert spec in found and found[spec], spec
    assert found["type:art"] == "Publication type: Journal article"
    assert found["org:uu"] == "Uppsala University"
    specs = list(found)
    assert specs.index("org:uu") < specs.index("org:uu:teknat") < specs.index("org:uu:teknat:kemi")


def test_list_sets_has_no_resumption(client: FlaskClient, world: World) -> None:
    doc = oai_get(client, verb="ListSets", resumptionToken="anything")
    assert error_codes(doc) == ["badResumptionToken"]
    assert request_attributes(doc) == {"verb": "ListSets", "resumptionToken": "anything"}


def test_get_record_in_each_format(client: FlaskClient, world: World) -> None:
    dc = oai_get(client, verb="GetRecord", identifier=world.oai("article"), metadataPrefix="oai_dc")
    record = dc.find(f"{OAI}GetRecord/{OAI}record")
    assert record.findtext(f"{OAI}header/{OAI}identifier") == world.oai("article")
    assert record.findtext(f"{OAI}header/{OAI}datestamp") == "2020-01-01T10:00:00Z"
    payload = record.find(f"{OAI}metadata")[0]
    assert payload.tag == "{http://www.openarchives.org/OAI/2.0/oai_dc/}dc"
    assert payload.findtext(f"{DC}title") == "Ålgräsängar i Östersjön: en översikt"
    assert "http://hylla.test/publications/%d" % world.ids["article"] in [e.text for e in payload.iter(f"{DC}identifier")]
    for prefix in ("mods", "swepub_mods"):
        doc = oai_get(client, verb="GetRecord", identifier=world.oai("article"), metadataPrefix=prefix)
        mods = doc.find(f"{OAI}GetRecord/{OAI}record/{OAI}metadata/{MODS}mods")
        assert mods is not None and mods.get("version") == "3.7"
        assert request_attributes(doc) == {"verb": "GetRecord", "identifier": world.oai("article"), "metadataPrefix": prefix}


def test_deleted_records_are_headers_with_status_deleted(client: FlaskClient, world: World) -> None:
    doc = oai_get(client, verb="GetRecord", identifier=world.oai("withdrawn"), metadataPrefix="mods")
    record = doc.find(f"{OAI}GetRecord/{OAI}record")
    assert record.find(f"{OAI}header").get("status") == "deleted"
    assert record.find(f"{OAI}metadata") is None
    # its datestamp is the moment it was withdrawn (fixed here)
    assert record.findtext(f"{OAI}header/{OAI}datestamp") == "2020-03-01T12:30:00Z"


def test_get_record_errors(client: FlaskClient, world: World) -> None:
    doc = oai_get(client, verb="GetRecord", identifier=world.oai("article"), metadataPrefix="marcxml")
    assert error_codes(doc) == ["cannotDisseminateFormat"]
    assert request_attributes(doc) == {"verb": "GetRecord", "identifier": world.oai("article"), "metadataPrefix": "marcxml"}
    both = oai_get(client, verb="GetRecord", identifier="oai:hylla.test:0", metadataPrefix="marcxml")
    assert sorted(error_codes(both)) == ["cannotDisseminateFormat", "idDoesNotExist"]  # every error is reported
    assert error_codes(oai_get(client, verb="GetRecord", identifier=world.oai("article"))) == ["badArgument"]
    assert error_codes(oai_get(client, verb="GetRecord", metadataPrefix="oai_dc")) == ["badArgument"]


def test_headers_carry_the_minimal_set_specs(client: FlaskClient, world: World) -> None:
    doc = oai_get(client, verb="ListIdentifiers", metadataPrefix="oai_dc")
    specs = {h.findtext(f"{OAI}identifier"): [s.text for s in h.findall(f"{OAI}setSpec")] for h in doc.iter(f"{OAI}header")}
    # org:uu:teknat:kemi implies org:uu:teknat, org:uu and org, so only the deepest is written
    assert specs[world.oai("article")] == ["type:art", "content:ref", "org:uu:teknat:kemi", "openaccess", "SwePub-uu"]
    assert specs[world.oai("thesis")] == ["type:dok", "content:vet", "org:uu", "theses", "SwePub-uu"]
    assert specs[world.oai("student")] == ["type:stud", "org:uu", "theses"]  # never SwePub
    assert specs[world.oai("no_content")] == ["type:art", "org:uu"]  # fails SwePub's rule 07
    assert specs[world.oai("greek")] == ["type:art", "content:ref", "org:uu", "SwePub-uu"]
    assert specs[world.oai("kth")] == ["type:ovr", "org:kth:eecs", "SwePub-kth"]  # embargoed: not open access
    assert specs[world.oai("withdrawn")] == ["type:art", "content:ref", "org:uu", "SwePub-uu"]


def test_list_identifiers_shows_published_and_deleted_only_in_datestamp_order(client: FlaskClient, world: World) -> None:
    doc = oai_get(client, verb="ListIdentifiers", metadataPrefix="oai_dc")
    expected = ["article", "thesis", "student", "withdrawn", "no_content", "greek", "kth"]
    assert identifiers(doc) == [world.oai(n) for n in expected]
    assert token_of(doc) is None  # the whole list in one response
    assert header_of(doc, world.oai("withdrawn")).get("status") == "deleted"
    assert all(h.get("status") is None for h in doc.iter(f"{OAI}header") if h.findtext(f"{OAI}identifier") != world.oai("withdrawn"))


def test_list_records_payloads_match_the_prefix(client: FlaskClient, world: World) -> None:
    doc = oai_get(client, verb="ListRecords", metadataPrefix="mods", set="org:uu:teknat")
    assert identifiers(doc) == [world.oai("article")]
    assert doc.find(f"{OAI}ListRecords/{OAI}record/{OAI}metadata/{MODS}mods") is not None


SET_MEMBERS = {
    "type": ["article", "thesis", "student", "withdrawn", "no_content", "greek", "kth"],
    "type:art": ["article", "withdrawn", "no_content", "greek"],
    "type:stud": ["student"],
    "content": ["article", "thesis", "withdrawn", "greek"],
    "content:vet": ["thesis"],
    "org": ["article", "thesis", "student", "withdrawn", "no_content", "greek", "kth"],
    "org:uu": ["article", "thesis", "student", "withdrawn", "no_content", "greek"],
    "org:uu:teknat": ["article"],
    "org:uu:teknat:kemi": ["article"],
    "org:kth": ["kth"],
    "openaccess": ["article"],
    "theses": ["thesis", "student"],
    "SwePub-uu": ["article", "thesis", "withdrawn", "greek"],
    "SwePub-kth": ["kth"],
}


def test_sets_select_their_records_and_descendants(client: FlaskClient, world: World) -> None:
    for set_spec, names in SET_MEMBERS.items():
        doc = oai_get(client, verb="ListIdentifiers", metadataPrefix="oai_dc", set=set_spec)
        assert identifiers(doc) == [world.oai(n) for n in names], set_spec
        if set_spec not in ("type", "org", "content"):  # top nodes are implied, never written
            for header in doc.iter(f"{OAI}header"):
                specs = [s.text for s in header.findall(f"{OAI}setSpec")]
                assert any(s == set_spec or s.startswith(set_spec + ":") for s in specs), (set_spec, specs)


def test_empty_and_unknown_sets_match_no_records(client: FlaskClient, world: World) -> None:
    for set_spec in ("type:pat", "org:nowhere", "SwePub-nowhere", "colours"):
        doc = oai_get(client, verb="ListRecords", metadataPrefix="oai_dc", set=set_spec)
        assert error_codes(doc) == ["noRecordsMatch"]
        assert request_attributes(doc)["set"] == set_spec


DATE_RANGES: list[tuple[dict[str, str], list[str] | None]] = [
    ({"from": "2020-01-01T10:00:00Z"}, ["article", "thesis", "student", "withdrawn", "no_content", "greek", "kth"]),
    ({"from": "2020-01-01T10:00:01Z"}, ["student", "withdrawn", "no_content", "greek", "kth"]),
    ({"until": "2020-01-01T10:00:00Z"}, ["article", "thesis"]),
    ({"until": "2020-01-01T09:59:59Z"}, None),
    ({"from": "2020-02-01", "until": "2020-03-01"}, ["student", "withdrawn"]),
    ({"until": "2020-02-01"}, ["article", "thesis", "student"]),
    ({"from": "2020-03-02", "until": "2020-12-31"}, ["no_content", "greek"]),
    ({"from": "2021-01-01", "until": "2021-01-01"}, ["kth"]),
    ({"from": "2030-01-01"}, None),
    ({"from": "0999-01-01", "until": "9999-12-31"}, ["article", "thesis", "student", "withdrawn", "no_content", "greek", "kth"]),
]


def test_from_and_until_are_inclusive_at_their_granularity(client: FlaskClient, world: World) -> None:
    for args, names in DATE_RANGES:
        doc = oai_get(client, verb="ListIdentifiers", metadataPrefix="oai_dc", **args)
        if names is None:
            assert error_codes(doc) == ["noRecordsMatch"], args
            assert request_attributes(doc) == {"verb": "ListIdentifiers", "metadataPrefix": "oai_dc", **args}
        else:
            assert identifiers(doc) == [world.oai(n) for n in names], args


def test_until_before_the_earliest_datestamp_matches_nothing(client: FlaskClient, world: World) -> None:
    doc = oai_get(client, verb="ListRecords", metadataPrefix="oai_dc", until="1999-12-31")
    assert error_codes(doc) == ["noRecordsMatch"]


BAD_LIST_ARGUMENTS: list[dict[str, str]] = [
    {"from": "2020-01-01", "until": "2020-12-31T00:00:00Z"},  # mixed granularity
    {"from": "2020-12-31", "until": "2020-01-01"},  # from after until
    {"from": "2020-02-30"},  # no such day
    {"from": "2020-01-01T10:00Z"},
    {"until": "2020-01-01T10:00:00+01:00"},
    {"from": "20200101"},
    {"from": "2020-01-01T10:00:00.5Z"},
    {"set": "type::art"},
    {"set": "type art"},
    {"metadataPrefix": "oai dc"},
    {"identifier": "oai:hylla.test:1"},  # not an argument of ListRecords
    {"from": ""},
]


def test_bad_arguments_of_list_requests(client: FlaskClient, world: World) -> None:
    for args in BAD_LIST_ARGUMENTS:
        doc = oai_get(client, **{"verb": "ListRecords", "metadataPrefix": "oai_dc", **args})
        assert error_codes(doc) == ["badArgument"], args
        assert request_attributes(doc) == {}, args


def test_list_requests_need_a_metadata_prefix_or_a_token(client: FlaskClient, world: World) -> None:
    for verb in ("ListRecords", "ListIdentifiers"):
        assert error_codes(oai_get(client, verb=verb)) == ["badArgument"]
        assert error_codes(oai_get(client, verb=verb, metadataPrefix="marcxml")) == ["cannotDisseminateFormat"]


def test_resumption_token_is_exclusive(client: FlaskClient, world: World) -> None:
    doc = oai_get(client, verb="ListRecords", resumptionToken="x", metadataPrefix="oai_dc")
    assert error_codes(doc) == ["badArgument"]
    doc = oai_get(client, verb="ListIdentifiers", resumptionToken="not-a-token")
    assert error_codes(doc) == ["badResumptionToken"]
    assert request_attributes(doc) == {"verb": "ListIdentifiers", "resumptionToken": "not-a-token"}


def test_repeated_arguments_and_bad_verbs(client: FlaskClient, world: World) -> None:
    repeated = parse(client.get("/oai?verb=ListRecords&metadataPrefix=oai_dc&metadataPrefix=mods").get_data())
    assert error_codes(repeated) == ["badArgument"]
    assert request_attributes(repeated) == {}
    for query in ("", "verb=Identify&verb=Identify", "verb=identify", "verb=ListEverything", "verb="):
        doc = parse(client.get("/oai?" + query).get_data())
        assert error_codes(doc) == ["badVerb"], query
        assert request_attributes(doc) == {}
        assert doc.findtext(f"{OAI}request") == "http://hylla.test/oai"


def test_post_is_answered_like_get_without_csrf(client: FlaskClient, world: World, app) -> None:  # type: ignore[no-untyped-def]
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        response = client.post("/oai", data={"verb": "GetRecord", "identifier": world.oai("thesis"),
                                             "metadataPrefix": "oai_dc"})
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert response.status_code == 200
    doc = parse(response.get_data())
    assert identifiers(doc) == [world.oai("thesis")]
    assert request_attributes(doc)["verb"] == "GetRecord"


def test_errors_are_sent_with_http_200_and_text_xml(client: FlaskClient, world: World) -> None:
    response = client.get("/oai?verb=Nonsense")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/xml; charset=utf-8"


def test_responses_point_browsers_at_the_stylesheet(client: FlaskClient, world: World) -> None:
    body = client.get("/oai?verb=Identify").get_data()
    assert b'<?xml-stylesheet type="text/xsl" href="/static/oai2.xsl"?>' in body
    stylesheet = client.get("/static/oai2.xsl")
    assert stylesheet.status_code == 200
    transform = etree.XSLT(etree.fromstring(stylesheet.get_data()))
    for query in ("verb=Identify", "verb=ListSets", "verb=ListRecords&metadataPrefix=oai_dc",
                  "verb=ListRecords&metadataPrefix=mods", "verb=Nonsense"):
        page = str(transform(etree.fromstring(client.get("/oai?" + query).get_data())))
        assert "<h1>OAI-PMH</h1>" in page, query
    listing = str(transform(etree.fromstring(client.get("/oai?verb=ListRecords&metadataPrefix=oai_dc").get_data())))
    assert "Ålgräsängar i Östersjön" in listing and "(deleted)" in listing
