"""A third-party harvester (sickle) over real HTTP harvests the demo repository: every format, sets, dates.

Expectations are computed independently of the provider: which records OAI-PMH must show from
plain SQL, each record's sets from its read model, so the provider's SQL is checked against a
second implementation. Every response sickle receives is validated against the whole OAI-PMH
schema (envelope, oai_dc and MODS payloads), and the swepub_mods feed is read back with Hylla's
own aggregator and judged by SwePub's rules.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
import requests
from flask import Flask
from lxml import etree
from sickle import Sickle
from sickle.oaiexceptions import NoRecordsMatch
from sqlalchemy import select, text

from exports import readmodel as rm
from exports.quality import field_checks, minimum_level
from exports.schemas import schema, validation_errors
from harvest.parse import parse_metadata
from repository import create_app
from repository.db import database, session
from repository.models import Publication
from repository.services.readmodel import Site, to_read_model
from tests.unit.oai.conftest import NAMESPACE, OAI, oai_id, parse, token_of

UTC = dt.timezone.utc
MODS = "{http://www.loc.gov/mods/v3}"


class CheckingSickle(Sickle):
    """sickle, keeping every HTTP response it receives so each can be validated."""

    def __init__(self, endpoint: str) -> None:
        super().__init__(endpoint, max_retries=0, timeout=60)
        self.responses: list[requests.Response] = []

    def harvest(self, **kwargs: Any):  # type: ignore[no-untyped-def]
        response = super().harvest(**kwargs)
        self.responses.append(response.http_response)
        return response


@dataclass(frozen=True)
class Known:
    """A record as the tests expect OAI-PMH to show it."""

    identifier: str
    deleted: bool
    datestamp: dt.datetime
    publication: rm.Publication


@pytest.fixture(scope="module")
def known(demo_app: Flask) -> dict[str, Known]:
    """Every record OAI-PMH must show, by identifier (plain SQL for visibility, the read model for the rest)."""
    now = dt.datetime.now(UTC)
    site = Site("http://hylla.test", NAMESPACE)
    with demo_app.app_context():
        visible = dict(session.execute(text(
            "SELECT id, state FROM publications WHERE (state = 'published' AND (public_from IS NULL OR "
            "public_from <= :now)) OR (state IN ('withdrawn', 'deleted') AND published_at IS NOT NULL)"),
            {"now": now.replace(tzinfo=None)}).all())
        pubs = session.scalars(select(Publication).where(Publication.id.in_(visible))).all()
        found = {oai_id(p.id): Known(oai_id(p.id), visible[p.id] != "published", p.datestamp, to_read_model(p, site))
                 for p in pubs}
        session.close()
    assert len(found) > 250 and sum(k.deleted for k in found.values()) >= 12
    return found


def in_org(record: Known, path: str) -> bool:
    paths = [u.path for u in record.publication.org_units] + [record.publication.institution_code or ""]
    return any(p == path or p.startswith(path + ":") for p in paths)


def in_swepub(record: Known, institution: str) -> bool:
    pub = record.publication
    if pub.institution_code != institution or pub.publication_type == "stud":
        return False
    return record.deleted or not any(p.severity == "reject" for p in minimum_level(pub))


TODAY = dt.datetime.now(UTC).date()
SETS: dict[str, Callable[[Known], bool]] = {
    "type:art": lambda k: k.publication.publication_type == "art",
    "type:dok": lambda k: k.publication.publication_type == "dok",
    "content:ref": lambda k: k.publication.content_type == "ref",
    "org:uu": lambda k: in_org(k, "uu"),
    "org:uu:teknat": lambda k: in_org(k, "uu:teknat"),
    "org:kth:eecs:tcs": lambda k: in_org(k, "kth:eecs:tcs"),
    "openaccess": lambda k: k.publication.is_open_access_on(TODAY),
    "theses": lambda k: k.publication.publication_type in ("dok", "lic", "stud"),
    "SwePub-uu": lambda k: in_swepub(k, "uu"),
    "SwePub-kth": lambda k: in_swepub(k, "kth"),
}


def sickle_list(client: CheckingSickle, verb: str, **args: str) -> list[tuple[str, bool]]:
    """(identifier, deleted) of everything sickle harvests, in order; [] for noRecordsMatch."""
    try:
        if verb == "ListRecords":
            return [(r.header.identifier, r.header.deleted) for r in client.ListRecords(ignore_deleted=False, **args)]
        return [(h.identifier, h.deleted) for h in client.ListIdentifiers(ignore_deleted=False, **args)]
    except NoRecordsMatch:
        return []


def expected(known: dict[str, Known], keep: Callable[[Known], bool] = lambda k: True) -> list[tuple[str, bool]]:
    chosen = sorted((k for k in known.values() if keep(k)), key=lambda k: (k.datestamp, int(k.identifier.rsplit(":", 1)[1])))
    return [(k.identifier, k.deleted) for k in chosen]


def assert_all_valid(client: CheckingSickle) -> None:
    assert client.responses
    for response in client.responses:
        assert response.status_code == 200
        assert response.headers["Content-Type"] == "text/xml; charset=utf-8"
        assert response.headers.get("Content-Encoding") == "gzip"  # requests asks for gzip, and gets it
        errors = validation_errors(response.content, "oai-pmh-full")
        assert errors == [], (response.url, errors[:3])


@pytest.mark.parametrize("prefix", ["oai_dc", "mods", "swepub_mods"])
def test_sickle_harvests_every_record_exactly_once(live_oai: str, known: dict[str, Known], prefix: str) -> None:
    client = CheckingSickle(live_oai)
    harvested = sickle_list(client, "ListRecords", metadataPrefix=prefix)
    assert harvested == expected(known)
    assert len({i for i, _ in harvested}) == len(harvested)
    assert len(client.responses) == -(-len(harvested) // 40)  # pages of OAI_PAGE_SIZE_RECORDS
    assert_all_valid(client)


def test_sickle_harvests_each_set(live_oai: str, known: dict[str, Known]) -> None:
    client = CheckingSickle(live_oai)
    for set_spec, keep in SETS.items():
        want = expected(known, keep)
        assert want, set_spec  # the demo has records in every set tested
        assert sickle_list(client, "ListIdentifiers", metadataPrefix="oai_dc", set=set_spec) == want, set_spec
    assert sickle_list(client, "ListRecords", metadataPrefix="mods", set="org:uu:teknat") == expected(
        known, SETS["org:uu:teknat"])
    assert_all_valid(client)


def test_sickle_harvests_with_from_and_until(live_oai: str, known: dict[str, Known]) -> None:
    stamps = sorted(k.datestamp for k in known.values())
    middle, later = stamps[len(stamps) // 3], stamps[2 * len(stamps) // 3]
    start, end = middle.strftime("%Y-%m-%dT%H:%M:%SZ"), later.strftime("%Y-%m-%dT%H:%M:%SZ")
    floor = middle.replace(microsecond=0)
    ceiling = later.replace(microsecond=0) + dt.timedelta(seconds=1)
    client = CheckingSickle(live_oai)
    for prefix in ("oai_dc", "swepub_mods"):
        assert sickle_list(client, "ListRecords", metadataPrefix=prefix, **{"from": start, "until": end}) == expected(
            known, lambda k: floor <= k.datestamp < ceiling)
    day = middle.date()
    assert sickle_list(client, "ListIdentifiers", metadataPrefix="mods", set="type:art", **{"from": day.isoformat()}) == \
        expected(known, lambda k: k.datestamp.date() >= day and k.publication.publication_type == "art")
    assert sickle_list(client, "ListIdentifiers", metadataPrefix="oai_dc", until="2010-01-01") == []
    assert_all_valid(client)


def test_headers_carry_each_records_sets(live_oai: str, known: dict[str, Known]) -> None:
    client = CheckingSickle(live_oai)
    for header in client.ListIdentifiers(metadataPrefix="oai_dc", ignore_deleted=False):
        record = known[header.identifier]
        specs = set(header.setSpecs)
        for set_spec, keep in SETS.items():
            member = any(s == set_spec or s.startswith(set_spec + ":") for s in specs)
            assert member == keep(record), (header.identifier, set_spec, specs)
        # the fewest specs: none implied by another
        assert not any(a != b and b.startswith(a + ":") for a in specs for b in specs)


def test_the_swepub_feed_passes_swepubs_rules(live_oai: str, known: dict[str, Known]) -> None:
    """Every record of the SwePub sets passes minimum level and field checks, in the repository and as harvested."""
    for institution in ("uu", "kth"):
        members = [k for k in known.values() if in_swepub(k, institution) and not k.deleted]
        eligible = [k for k in known.values() if not k.deleted and k.publication.institution_code == institution
                    and k.publication.publication_type != "stud"]
        assert members and len(members) == len(eligible)  # no demo record is kept from SwePub
        for record in members:
            problems = minimum_level(record.publication) + field_checks(record.publication)
            assert not [p for p in problems if p.severity == "reject"], (record.identifier, problems)
        client = CheckingSickle(live_oai)
        harvested = list(client.ListRecords(metadataPrefix="swepub_mods", set=f"SwePub-{institution}",
                                            ignore_deleted=False))
        assert {r.header.identifier for r in harvested if not r.header.deleted} == {k.identifier for k in members}
        for record in harvested:
            if record.header.deleted:
                continue
            metadata = record.xml.find(f"{OAI}metadata")
            parsed = parse_metadata(metadata, "swepub_mods", oai_identifier=record.header.identifier,
                                    datestamp=dt.datetime.fromisoformat(record.header.datestamp.replace("Z", "+00:00")),
                                    mods_schemas=lambda version: schema("mods-3-7" if version == "3.7" else "mods-3-8"))
            assert parsed.accepted, (record.header.identifier, [p for p in parsed.problems if p.severity == "reject"])
            assert parsed.xsd_valid
            assert not [p for p in field_checks(parsed.publication) if p.severity == "reject"]
        assert_all_valid(client)


def test_tokens_survive_a_restart(live_oai: str, demo_app: Flask) -> None:
    """A token from one server process continues the list in another one that shares only SECRET_KEY."""
    first = parse(requests.get(live_oai, params={"verb": "ListIdentifiers", "metadataPrefix": "mods"}, timeout=60).content)
    token = token_of(first).text
    second_page = parse(requests.get(live_oai, params={"verb": "ListIdentifiers", "resumptionToken": token},
                                     timeout=60).content)
    with demo_app.app_context():
        url = database().url
    restarted = create_app({"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": "demo-secret",
                            "BASE_URL": "http://hylla.test", "OAI_ID_NAMESPACE": NAMESPACE,
                            "OAI_PAGE_SIZE_IDENTIFIERS": 70, "INSTANCE_PATH": demo_app.instance_path + "-restarted"})
    same = parse(restarted.test_client().get("/oai", query_string={"verb": "ListIdentifiers",
                                                                   "resumptionToken": token}).get_data())
    assert [h.findtext(f"{OAI}identifier") for h in same.iter(f"{OAI}header")] == \
        [h.findtext(f"{OAI}identifier") for h in second_page.iter(f"{OAI}header")]
    other_secret = create_app({"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": "another-secret",
                               "BASE_URL": "http://hylla.test", "OAI_ID_NAMESPACE": NAMESPACE,
                               "INSTANCE_PATH": demo_app.instance_path + "-other"})
    refused = parse(other_secret.test_client().get("/oai", query_string={"verb": "ListIdentifiers",
                                                                         "resumptionToken": token}).get_data())
    assert [e.get("code") for e in refused.iter(f"{OAI}error")] == ["badResumptionToken"]
    for app in (restarted, other_secret):
        with app.app_context():
            database().engine.dispose()


def test_get_record_for_every_record_validates(live_oai: str, known: dict[str, Known]) -> None:
    with requests.Session() as http:
        for identifier, record in list(known.items())[::7]:
            for prefix in ("oai_dc", "mods", "swepub_mods"):
                body = http.get(live_oai, params={"verb": "GetRecord", "identifier": identifier,
                                                  "metadataPrefix": prefix}, timeout=60).content
                doc = parse(body)
                header = doc.find(f"{OAI}GetRecord/{OAI}record/{OAI}header")
                assert (header.get("status") == "deleted") == record.deleted
                if not record.deleted and prefix != "oai_dc":
                    assert doc.find(f"{OAI}GetRecord/{OAI}record/{OAI}metadata/{MODS}mods") is not None


def test_identify_list_sets_and_formats_over_http(live_oai: str, known: dict[str, Known]) -> None:
    client = CheckingSickle(live_oai)
    identify = client.Identify()
    assert identify.repositoryName == "Hylla Demo"
    earliest = min(k.datestamp for k in known.values()).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert identify.earliestDatestamp == earliest
    specs = [s.setSpec for s in client.ListSets()]
    assert {"type", "org", "org:uu:teknat:kemi", "SwePub-uu", "openaccess"} <= set(specs)
    assert [f.metadataPrefix for f in client.ListMetadataFormats()] == ["oai_dc", "mods", "swepub_mods"]
    assert_all_valid(client)
    body = requests.post(live_oai, data={"verb": "ListSets"}, timeout=60)
    assert [e.findtext(f"{OAI}setSpec") for e in parse(body.content).iter(f"{OAI}set")] == specs
    assert etree.fromstring(body.content).find(f"{OAI}request").get("verb") == "ListSets"
