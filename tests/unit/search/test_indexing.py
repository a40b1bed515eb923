"""The index follows every change made through the services, inside the changing transaction."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from repository import migrate, search
from repository.db import EXTENSION as DB_EXTENSION
from repository.db import session
from repository.demo import load_demo
from repository.models import PersonNameForm, SearchDocument, SearchValue, StoredFile
from repository.search import facet_bits, postgres_fts
from repository.search.indexer import index_all
from repository.search.service import plan
from repository.services import records
from tests import factories
from tests.conftest import backends
from tests.unit.search.conftest import make_search_app


@pytest.fixture
def world(app: Flask) -> dict[str, Any]:
    uu = factories.institution()
    fac = factories.unit(uu, "teknat", "Faculty of Science")
    dept = factories.unit(uu, "kemi", "Department of Chemistry", fac)
    author = factories.person("Öberg", "Åsa", "0000-0002-1825-0097", uu)
    return {"uu": uu, "dept": dept, "author": author, "submitter": factories.user("submitter", uu),
            "editor": factories.user("editor", uu)}


def found(q: str, **filters: Any) -> list[int]:
    now = filters.pop("now", None)
    return search.run(session, plan(q, filters, now=now)).ids


def publish(world: dict[str, Any], data: dict[str, Any]) -> int:
    pub = records.create_publication(world["submitter"], data)
    records.publish_now(world["editor"], pub.id, urn_prefix="urn:nbn:se")
    return pub.id


def test_a_record_is_searchable_from_the_commit_that_publishes_it(world: dict[str, Any]) -> None:
    pub = records.create_publication(world["submitter"], factories.article(
        contributors=[{"person_id": world["author"].id, "affiliations": [{"org_unit_id": world["dept"].id}]}]))
    assert found("ålgräsängar") == []  # a draft is nobody's search result
    records.publish_now(world["editor"], pub.id, urn_prefix="urn:nbn:se")
    assert found("ålgräsängar") == [pub.id]
    assert found("", unit="uu:teknat:kemi") == [pub.id]
    assert found(f"urn:nbn:se:uu:hylla-{pub.id}") == [pub.id]
    values = {(f, v) for f, v in session.execute(select(SearchValue.facet, SearchValue.value)
                                                 .where(SearchValue.publication_id == pub.id))}
    assert {("unit", "uu"), ("unit", "uu:teknat"), ("unit", "uu:teknat:kemi"), ("subject", "1"), ("subject", "105"),
            ("subject", "10501"), ("orcid", "0000-0002-1825-0097"), ("id", "doi:10.3354/meps12345"),
            ("person", str(world["author"].id)), ("language", "swe")} <= values


def test_an_edit_replaces_the_words_and_a_withdrawal_removes_the_record(world: dict[str, Any]) -> None:
    pid = publish(world, factories.article())
    version = records.get_publication(world["editor"], pid).version
    pub = records.update_publication(world["editor"], pid, factories.article(
        titles=[{"title": "Sjögräs och blåstång"}], abstracts=[], keywords=[]), expected_version=version)
    assert found("sjögräs") == [pid] and found("blastang") == [pid]
    assert found("ålgräsängar") == []
    records.withdraw(world["editor"], pub.id, "Duplicate.")
    assert found("sjögräs") == []
    assert session.get(SearchDocument, pid) is None


def test_a_rolled_back_change_leaves_the_index_alone(world: dict[str, Any]) -> None:
    pid = publish(world, factories.article())
    pub = records.get_publication(world["editor"], pid)
    pub.titles[0].title = "Ändrad titel"
    session.flush()
    session.rollback()
    assert found("ändrad") == []
    assert found("ålgräsängar") == [pid]


def test_open_access_follows_the_embargo_without_reindexing(world: dict[str, Any]) -> None:
    pid = publish(world, factories.article())
    lifts = dt.date.today() + dt.timedelta(days=10)
    session.add(StoredFile(publication_id=pid, original_filename="a.pdf", sha256="0" * 64, md5="0" * 32, size=1,
                           mime_type="application/pdf", role="fulltext", access="embargoed", embargo_until=lifts))
    session.commit()
    assert found("", oa="true") == []
    assert found("", oa="false") == [pid]
    later = dt.datetime.combine(lifts, dt.time(12), dt.timezone.utc)
    assert found("", oa="true", now=later) == [pid]


def test_a_new_name_form_of_a_person_finds_their_records(world: dict[str, Any]) -> None:
    pid = publish(world, factories.article(contributors=[{"person_id": world["author"].id}]))
    assert found("author:lindqvist") == []
    session.add(PersonNameForm(person_id=world["author"].id, family_name="Lindqvist", given_name="Åsa"))
    session.commit()
    assert found("author:lindqvist") == [pid]


def test_a_scheduled_thesis_is_indexed_but_hidden_until_its_day(world: dict[str, Any]) -> None:
    pub = records.create_publication(world["submitter"], factories.doctoral_thesis())
    day = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=20)
    records.publish_now(world["editor"], pub.id, urn_prefix="urn:nbn:se", public_from=day)
    assert found("proteinveckning") == []
    assert found("proteinveckning", now=day + dt.timedelta(minutes=1)) == [pub.id]


def test_title_matches_rank_first_then_names_and_subjects_then_the_rest(world: dict[str, Any],
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """Where the words are weighs more than how often, on every backend (scores differ between
    them). PostgreSQL ranks by those tiers alone, newest first in each, from bitsets and in SQL alike."""
    def article(title: str, keyword: str = "", abstract: str = "") -> dict[str, Any]:
        return factories.article(titles=[{"title": title, "lang": "eng"}], identifiers=[],
                                 keywords=[{"term": keyword, "lang": "eng"}] if keyword else [],
                                 abstracts=[{"text": abstract, "lang": "eng"}] if abstract else [])

    abstract_old = publish(world, article("Notes on soil", abstract="Kelpforests and more kelpforests."))
    title_old = publish(world, article("Kelpforests of Norway"))
    keyword = publish(world, article("Notes on water", keyword="kelpforests"))
    abstract_new = publish(world, article("Notes on air", abstract="About kelpforests."))
    title_new = publish(world, article("Kelpforests today"))
    ranked = search.run(session, plan("kelpforests", {}, sort="relevance")).ids
    assert set(ranked[:2]) == {title_old, title_new}
    assert ranked[2] == keyword
    assert set(ranked[3:]) == {abstract_old, abstract_new}
    if session.get_bind().dialect.name == "postgresql":
        assert ranked == [title_new, title_old, keyword, abstract_new, abstract_old]
        assert search.run(session, plan("kelpforests", {}, sort="relevance", size=2, page=2)).ids == [
            keyword, abstract_new]
        monkeypatch.setattr(postgres_fts, "PROBES", ())  # each tier's ids read whole, not asked of the newest hits
        assert search.run(session, plan("kelpforests", {}, sort="relevance")).ids == ranked
        monkeypatch.setattr(facet_bits, "current", lambda _session: None)  # SQL sorts by the same tiers
        assert search.run(session, plan("kelpforests", {}, sort="relevance")).ids == ranked


def test_phrases_match_words_side_by_side_in_that_order(world: dict[str, Any]) -> None:
    """PostgreSQL answers a two-word phrase from its index of adjacent pairs and checks the
    positions of longer ones: the same hits as every other backend's phrases."""
    def article(abstract: str) -> dict[str, Any]:
        return factories.article(identifiers=[], abstracts=[{"text": abstract, "lang": "eng"}])

    straight = publish(world, article("A quick brown fox jumps."))
    shuffled = publish(world, article("A quick fox, brown and quick."))
    apart = publish(world, article("Brown leaves; a quick fox."))
    assert found('"quick brown fox"') == [straight]
    assert sorted(found('"quick fox"')) == sorted([shuffled, apart])
    assert found('"fox brown"') == [shuffled]
    assert found('"brown quick"') == []
    assert sorted(found('"brown fox" OR "fox brown"')) == sorted([straight, shuffled])
    assert sorted(found('quick -"brown fox"')) == sorted([shuffled, apart])
    assert found('"Quick-Brown" fox') == [straight]  # one word with a hyphen is a phrase of two


@pytest.mark.parametrize("fresh_database_url", backends(), indirect=True)
def test_a_full_reindex_while_searches_run_answers_every_search(fresh_database_url: str, tmp_path: Path) -> None:
    """Each batch replaces its documents in one transaction, so readers always see every record once."""
    migrate.upgrade(fresh_database_url)
    app = make_search_app(fresh_database_url, tmp_path)
    engine = app.extensions[DB_EXTENSION].engine
    with engine.connect() as conn:
        load_demo(conn, 120)
    with app.app_context():
        expected = search.run(session, plan("", {})).total
        expected_words = search.run(session, plan("health OR welfare", {})).total
    failures: list[BaseException] = []
    answers: list[tuple[int, int]] = []
    stop = threading.Event()

    def searching() -> None:
        with app.app_context():
            while not stop.is_set():
                try:
                    answers.append((search.run(session, plan("", {})).total,
                                    search.run(session, plan("health OR welfare", {})).total))
                    session.rollback()
                except BaseException as exc:  # every failure is the test's finding
                    failures.append(exc)

    reader = threading.Thread(target=searching)
    reader.start()
    try:
        with engine.connect() as conn:
            for _ in range(3):
                index_all(conn, batch_size=25)
    finally:
        stop.set()
        reader.join()
        engine.dispose()
    assert not failures
    assert answers and set(answers) == {(expected, expected_words)}
