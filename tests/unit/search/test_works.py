"""The national bibliography's merged works: the same queries and facets, over OpenSearch."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

import pytest
from flask import Flask

from exports import readmodel as rm
from harvest.models import Work
from harvest.records import publication_to_dict
from repository import migrate
from repository.db import session
from repository.search import EXTENSION
from repository.search.service import plan
from repository.search.works import reindex_works, works_index
from tests.samples import all_samples
from tests.unit.search.conftest import fold, make_search_app, unique_alias, words

STAMP = dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc)


@pytest.fixture
def works(tmp_path: Path, opensearch_url: str) -> tuple[Flask, dict[int, rm.Publication]]:
    url = f"sqlite:///{tmp_path / 'works.sqlite3'}"
    migrate.upgrade(url)
    app = make_search_app(url, tmp_path, opensearch_url, unique_alias())
    app.config["SEARCH_WORKS_INDEX"] = unique_alias()
    made: dict[int, rm.Publication] = {}
    with app.app_context():
        for i, pub in enumerate(all_samples()):
            work = Work(cluster_key=f"key-{i}", merged=publication_to_dict(pub), provenance={},
                        institutions=[pub.institution_code or "uu", "kth"] if i % 2 else [pub.institution_code or "uu"],
                        record_count=1 + i % 2, updated=STAMP + dt.timedelta(days=i))
            session.add(work)
            session.flush()
            made[work.id] = pub
        session.commit()
    return app, made


def index_of(app: Flask):  # type: ignore[no-untyped-def]
    return works_index(app.extensions[EXTENSION].external, unique_alias())


def test_works_are_found_like_records(works: tuple[Flask, dict[int, rm.Publication]]) -> None:
    app, made = works
    index = index_of(app)
    with app.app_context():
        assert reindex_works(session, index) == len(made)
    backend = index.backend()

    def expect(predicate) -> list[int]:  # type: ignore[no-untyped-def]
        return sorted(k for k, pub in made.items() if predicate(pub))

    def text_words(pub: rm.Publication) -> list[str]:
        return words(*(t.full() for t in pub.titles), *(a.text for a in pub.abstracts), *(k.term for k in pub.keywords),
                     *(c.display_name() for c in pub.contributors), pub.host.title if pub.host else None)

    everything = backend.search(plan("", {}, size=50))
    assert sorted(everything.ids) == sorted(made)
    assert {c.value: c.count for c in everything.facets["type"]} == dict(Counter(p.publication_type for p in made.values()))
    assert {c.value: c.count for c in everything.facets["unit"]}["kth"] == len(made) // 2
    assert sorted(backend.search(plan("ostersjon", {})).ids) == expect(lambda p: "ostersjon" in text_words(p))
    assert backend.search(plan("10.3354/meps12345", {})).ids == expect(lambda p: p.doi == "10.3354/meps12345")
    assert backend.search(plan("orcid:0000-0002-1825-0097", {})).ids == \
        expect(lambda p: any(c.orcid == "0000-0002-1825-0097" for c in p.contributors))
    assert sorted(backend.search(plan("year:2020..2022", {}, size=50)).ids) == \
        expect(lambda p: p.year is not None and 2020 <= p.year <= 2022)
    titled = backend.search(plan("", {}, sort="title", size=50)).ids
    assert [fold(made[i].title.full()) for i in titled] == sorted(fold(made[i].title.full()) for i in titled)


def test_cli_reindex_works(works: tuple[Flask, dict[int, rm.Publication]]) -> None:
    app, made = works
    result = app.test_cli_runner().invoke(args=["search", "reindex-works"])
    assert result.exit_code == 0, result.output
    assert f"Indexed {len(made)} works" in result.output
    index = works_index(app.extensions[EXTENSION].external, app.config["SEARCH_WORKS_INDEX"])
    assert index.backend().search(plan("", {})).total == len(made)


def test_cli_reindex_works_needs_opensearch(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'e.sqlite3'}"
    migrate.upgrade(url)
    result = make_search_app(url, tmp_path).test_cli_runner().invoke(args=["search", "reindex-works"])
    assert result.exit_code != 0 and "SEARCH_URL" in result.output
