"""Sets: setSpec syntax, what each selector means, and SwePub membership being exactly SwePub's minimum level."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select, update

from exports.quality import minimum_level
from repository.db import session
from repository.models import Publication, User
from repository.oai import queries
from repository.oai.arguments import SET_SPEC
from repository.oai.sets import InstitutionRef, RecordSets, SetCatalogue, UnitRef, set_tag
from repository.services import records
from repository.services.readmodel import Site
from repository.services.readmodels_bulk import read_models
from tests import factories
from tests.unit.oai.conftest import OAI, World, error_codes, harvest, oai_get, oai_id

SITE = Site("http://hylla.test", "hylla.test")


def test_set_tags_keep_unreserved_characters_and_escape_the_rest() -> None:
    assert set_tag("uu") == "uu"
    assert set_tag("a-b_c.d!e*f'g(h)") == "a-b_c.d!e*f'g(h)"
    assert set_tag("a:b c~") == "a~3Ab~20c~7E"
    assert set_tag("Ö") == "~C3~96"
    for code in ("uu", "a:b c~", "Ö", "x/y?z"):
        assert SET_SPEC.fullmatch(f"org:{set_tag(code)}")


def test_catalogue_selectors_and_hierarchy() -> None:
    catalogue = SetCatalogue([InstitutionRef(1, "uu", "Uppsala University"), InstitutionRef(2, " ", "Nameless")],
                             [UnitRef(10, 1, "uu:teknat", "Faculty"), UnitRef(11, 1, "uu:teknat:kemi", "Chemistry"),
                              UnitRef(12, 1, "uu:med", "Medicine")])
    assert catalogue.selector("org:uu").institution_id == 1
    assert catalogue.selector("org:uu").unit_ids == (10, 11, 12)
    assert catalogue.selector("org:uu:teknat").unit_ids == (10, 11)
    assert catalogue.selector("org:uu:teknat").institution_id is None
    assert catalogue.selector("org:uu:tek") is None
    assert catalogue.selector("type:art").value == "art"
    assert catalogue.selector("type:xyz") is None
    assert catalogue.selector("content").kind == "content" and catalogue.selector("content").value is None
    assert catalogue.selector("SwePub-uu").institution_id == 1
    assert catalogue.selector("SwePub-") is None  # a blank code has no SwePub set (SwePub's rule 01)
    specs = [spec for spec, _ in catalogue.sets()]
    assert "SwePub-uu" in specs and not any(s.startswith("SwePub-") and s != "SwePub-uu" for s in specs)
    thesis = RecordSets("dok", "vet", 1, frozenset({10, 11}), True, True)
    assert catalogue.header_specs(thesis) == (
        "type:dok", "content:vet", "org:uu:teknat:kemi", "openaccess", "theses", "SwePub-uu")
    assert catalogue.header_specs(RecordSets("art", None, 1, frozenset({11, 12}), False, False)) == (
        "type:art", "org:uu:med", "org:uu:teknat:kemi")
    assert catalogue.header_specs(RecordSets("dok", "vet", 1, frozenset({11, 10}), True, True)) is \
        catalogue.header_specs(thesis)  # the same facts are judged once per request


# Records at the edges of SwePub's minimum level; name -> (input, SQL changes after publishing).
EDGES: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "punctuation_title": (factories.article(titles=[{"title": "?!"}]), {}),
    "corporate_author": (factories.article(contributors=[{"corporate_name": "Hylla Consortium", "local_id": "c1"}]), {}),
    "editor_only": (factories.article(contributors=[{"family": "Ek", "given": "Lars", "roles": ["edt"]}]), {}),
    "supervisor_only": (factories.article(contributors=[{"family": "Ek", "given": "Lars", "roles": ["ths"]}]), {}),
    "no_host": (factories.article(host=None), {}),
    "no_host_in_press": (factories.article(host=None, publication_status="in-press"), {}),
    "punctuation_host": (factories.article(host={"title": "--"}), {}),
    "book_with_host": (factories.article(publication_type="bok", host={"title": "A Series Mistaken for a Host"}), {}),
    "no_year": (factories.article(issued=None), {}),
    "no_language": (factories.article(languages=[]), {}),
    "no_uri": (factories.article(), {"urn_nbn": None}),
    "cyrillic": (factories.article(titles=[{"title": "Ёлка"}], contributors=[{"family": "Иванов", "given": "Иван"}]), {}),
    "plain": (factories.article(), {}),
}


def _edge_world(world: World) -> dict[str, int]:
    submitter = session.scalars(select(User).filter_by(role="submitter", institution_id=world.uu.id)).first()
    editor = session.scalars(select(User).filter_by(role="editor", institution_id=world.uu.id)).first()
    ids = {}
    for name, (data, changes) in EDGES.items():
        pub = records.create_publication(submitter, data)
        records.publish_now(editor, pub.id, urn_prefix="urn:nbn:se")
        if changes:
            session.execute(update(Publication).where(Publication.id == pub.id).values(**changes))
        ids[name] = pub.id
    session.commit()
    return ids


def test_swepub_membership_is_exactly_the_minimum_level(client: FlaskClient, world: World) -> None:
    ids = _edge_world(world)
    doc = oai_get(client, verb="ListIdentifiers", metadataPrefix="oai_dc")
    in_set = {h.findtext(f"{OAI}identifier"): "SwePub-uu" in [s.text for s in h.findall(f"{OAI}setSpec")]
              for h in doc.iter(f"{OAI}header")}
    models = read_models(session, ids.values(), SITE)
    verdicts = {name: not any(p.severity == "reject" for p in minimum_level(models[pub_id]))
                for name, pub_id in ids.items()}
    assert {name for name, ok in verdicts.items() if not ok} == {
        "punctuation_title", "supervisor_only", "no_host", "punctuation_host", "book_with_host", "no_year",
        "no_language", "no_uri"}
    for name, pub_id in ids.items():
        assert in_set[oai_id(pub_id)] == verdicts[name], name
    set_doc = oai_get(client, verb="ListIdentifiers", metadataPrefix="oai_dc", set="SwePub-uu")
    listed = {h.findtext(f"{OAI}identifier") for h in set_doc.iter(f"{OAI}header")}
    assert {oai_id(ids[n]) for n, ok in verdicts.items() if ok} <= listed
    assert not {oai_id(ids[n]) for n, ok in verdicts.items() if not ok} & listed


def test_sql_never_vouches_for_a_record_swepub_rejects(client: FlaskClient, world: World) -> None:
    ids = _edge_world(world)
    every = session.scalars(select(Publication.id).where(Publication.state == "published",
                                                         Publication.publication_type != "stud")).all()
    certain = queries.page_facts(session, every, date.today(), swepub=every).swepub_certain
    models = read_models(session, every, SITE)
    for pub_id in every:
        problems = minimum_level(models[pub_id])
        if pub_id in certain:
            assert not [p for p in problems if p.severity == "reject"], pub_id
    # the records SQL cannot judge are judged by Python: these pass without SQL's word for it
    for name in ("corporate_author", "cyrillic"):
        assert ids[name] not in certain
    assert {ids["plain"], ids["editor_only"], ids["no_host_in_press"]} <= certain


def test_a_record_without_a_uri_is_not_disseminated_as_swepub_mods(client: FlaskClient, world: World) -> None:
    ids = _edge_world(world)
    identifier = oai_id(ids["no_uri"])
    doc = oai_get(client, verb="GetRecord", identifier=identifier, metadataPrefix="swepub_mods")
    assert error_codes(doc) == ["cannotDisseminateFormat"]
    assert error_codes(oai_get(client, verb="GetRecord", identifier=identifier, metadataPrefix="mods")) == []
    formats = oai_get(client, verb="ListMetadataFormats", identifier=identifier)
    assert [f.findtext(f"{OAI}metadataPrefix") for f in formats.iter(f"{OAI}metadataFormat")] == ["oai_dc", "mods"]
    listed = oai_get(client, verb="ListIdentifiers", metadataPrefix="swepub_mods")
    names = {h.findtext(f"{OAI}identifier") for h in listed.iter(f"{OAI}header")}
    assert identifier not in names and oai_id(ids["plain"]) in names


def test_pages_of_the_swepub_set_skip_rejected_records_and_stay_full(client: FlaskClient, world: World, app,  # type: ignore[no-untyped-def]
                                                                     monkeypatch) -> None:  # type: ignore[no-untyped-def]
    ids = _edge_world(world)
    monkeypatch.setitem(app.config, "OAI_PAGE_SIZE_RECORDS", 2)
    harvested, pages = harvest(client, "ListRecords", metadataPrefix="mods", set="SwePub-uu")
    accepted = {"corporate_author", "editor_only", "no_host_in_press", "cyrillic", "plain"}
    assert {oai_id(ids[n]) for n in accepted} <= set(harvested)
    assert not {oai_id(ids[n]) for n in set(EDGES) - accepted} & set(harvested)
    assert len(harvested) == len(set(harvested))
    for page in pages:
        records = list(page.iter(f"{OAI}record"))
        assert records and all(r.find(f"{OAI}header").get("status") == "deleted" or
                               r.find(f"{OAI}metadata/{{http://www.loc.gov/mods/v3}}mods") is not None for r in records)
        assert len(records) == 2 or page is pages[-1]  # skipped records leave no gaps in a page


def _headers(pages: list[Any]) -> dict[str, tuple[bool, list[str]]]:
    return {h.findtext(f"{OAI}identifier"): (h.get("status") == "deleted", [s.text for s in h.findall(f"{OAI}setSpec")])
            for page in pages for h in page.iter(f"{OAI}header")}


def test_headers_are_the_same_whether_sql_or_the_read_model_tells_the_sets(client: FlaskClient, world: World) -> None:
    # ListIdentifiers asks SQL (queries.page_facts), ListRecords reads the read models it loads anyway
    # (PageBuilder._facts_of): every record, with its units, open access and SwePub level, must come out alike.
    # A second ListIdentifiers reads the facts the ListRecords harvest kept with the payloads
    # (repository.oai.payloads): all three ways must agree.
    _edge_world(world)
    for prefix in ("oai_dc", "swepub_mods"):
        _, identifier_pages = harvest(client, "ListIdentifiers", metadataPrefix=prefix)
        _, record_pages = harvest(client, "ListRecords", metadataPrefix=prefix)
        _, kept_pages = harvest(client, "ListIdentifiers", metadataPrefix=prefix)
        by_sql, by_model = _headers(identifier_pages), _headers(record_pages)
        assert by_sql == by_model == _headers(kept_pages)
        specs = {spec for _, header_specs in by_sql.values() for spec in header_specs}
        assert {"openaccess", "SwePub-uu", "org:uu:teknat:kemi", "org:kth:eecs"} <= specs
        assert any(deleted for deleted, _ in by_sql.values())


def test_the_demo_repository_has_the_same_headers_both_ways(demo_app: Any) -> None:
    with demo_app.test_client() as demo:
        _, identifier_pages = harvest(demo, "ListIdentifiers", metadataPrefix="oai_dc")
        _, record_pages = harvest(demo, "ListRecords", metadataPrefix="oai_dc")
        _, kept_pages = harvest(demo, "ListIdentifiers", metadataPrefix="oai_dc")
    by_sql, by_model = _headers(identifier_pages), _headers(record_pages)
    assert len(by_sql) > 250 and by_sql == by_model == _headers(kept_pages)  # the shown ones of 300 demo records
