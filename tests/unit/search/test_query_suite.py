"""The same 44 queries against every backend: hits and facet counts must equal the oracle's.

Each case pairs what a person types (and the filters they tick) with a plain-Python predicate
over the records as readers see them; the oracle in conftest.py turns that into the expected
hit set and facet counts, so the expectations follow the data instead of being written down.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from stdnum import isbn as stdnum_isbn

from repository import search
from repository.db import session
from repository.search.service import FacetCount, SearchResult, plan
from tests.unit.search.conftest import Corpus, OracleRecord, expected_facets, fold, search_backends

Predicate = Callable[[OracleRecord], bool]


def isbns(r: OracleRecord) -> set[str]:
    return {stdnum_isbn.compact(stdnum_isbn.to_isbn13(i)) for i in r.pub.identifiers_of("isbn")}


def year_in(low: int | None, high: int | None) -> Predicate:
    return lambda r: r.pub.year is not None and (low is None or r.pub.year >= low) and (high is None or r.pub.year <= high)


def facet(name: str, *values: str) -> Predicate:
    return lambda r: all(v in r.facets[name] for v in values)


CASES: list[tuple[str, dict[str, Any], Predicate]] = [
    ("", {}, lambda r: True),
    ("*", {}, lambda r: True),
    ("ålgräs", {}, lambda r: r.has("ålgräs")),
    ("algras", {}, lambda r: r.has("ålgräs")),
    ("ÅLGRÄS", {}, lambda r: r.has("ålgräs")),
    ("ostersjon", {}, lambda r: r.has("östersjön")),
    ("öl", {}, lambda r: r.has("öl")),
    ("artsoppa", {}, lambda r: r.has("ärtsoppa")),
    ("heal*", {}, lambda r: r.prefix("heal")),
    ("language change", {}, lambda r: r.has("language") and r.has("change")),
    ('"language change"', {}, lambda r: r.phrase("language change")),
    ('"change language"', {}, lambda r: r.phrase("change language")),
    ("health OR welfare", {}, lambda r: r.has("health") or r.has("welfare")),
    ("health -welfare", {}, lambda r: r.has("health") and not r.has("welfare")),
    ("health NOT welfare", {}, lambda r: r.has("health") and not r.has("welfare")),
    ("(health OR welfare) birds", {}, lambda r: (r.has("health") or r.has("welfare")) and r.has("birds")),
    ("-health", {}, lambda r: not r.has("health")),
    ("title:health", {}, lambda r: r.has("health", "title")),
    ("title:(health OR welfare)", {}, lambda r: r.has("health", "title") or r.has("welfare", "title")),
    ("author:andersson", {}, lambda r: r.has("andersson", "names")),
    ("author:andersson health", {}, lambda r: r.has("andersson", "names") and r.has("health")),
    ("title:health birds -welfare", {},
     lambda r: r.has("health", "title") and r.has("birds") and not r.has("welfare")),
    ("author:öberg", {}, lambda r: r.has("öberg", "names")),
    ('author:"Åsa Öberg"', {}, lambda r: r.phrase("åsa öberg", "names")),
    ("subject:ålgräs", {}, lambda r: r.has("ålgräs", "subject")),
    ("subject:105", {}, facet("subject", "105")),
    ("year:2019..2021", {}, year_in(2019, 2021)),
    ("year:2020", {}, year_in(2020, 2020)),
    ("year:..2016 health", {}, lambda r: year_in(None, 2016)(r) and r.has("health")),
    ("10.3354/meps12345", {}, lambda r: r.pub.doi == "10.3354/meps12345"),
    ("https://doi.org/10.3354/MEPS12345", {}, lambda r: r.pub.doi == "10.3354/meps12345"),
    ("978-91-513-1234-7", {}, lambda r: "9789151312347" in isbns(r)),
    ("9789151312347", {}, lambda r: "9789151312347" in isbns(r)),
    ("0000-0002-1825-0097", {}, facet("orcid", "0000-0002-1825-0097")),
    ("orcid:0000-0002-1825-0097", {}, facet("orcid", "0000-0002-1825-0097")),
    ("zebrafiskar", {}, lambda r: r.has("zebrafiskar")),
    ("", {"type": ["art"]}, facet("type", "art")),
    ("", {"type": ["art", "kon"]}, lambda r: r.pub.publication_type in ("art", "kon")),
    ("", {"type": ["dok"], "level": ["doctoral"]}, facet("level", "doctoral")),
    ("", {"unit": ["uu:teknat"]}, facet("unit", "uu:teknat")),
    ("", {"unit": ["kth"], "subject": ["1"]}, lambda r: facet("unit", "kth")(r) and facet("subject", "1")(r)),
    ("", {"language": ["swe"], "oa": ["true"]}, lambda r: facet("language", "swe")(r) and facet("oa", "true")(r)),
    ("", {"oa": ["false"]}, lambda r: not facet("oa", "true")(r)),
    ("welfare", {"content": ["ref"], "year": ["2020", "2021"]},
     lambda r: r.has("welfare") and facet("content", "ref")(r) and r.pub.year in (2020, 2021)),
]


def every_hit(corpus: Corpus, q: str, filters: dict[str, Any], sort: str = "newest",
              size: int = 200) -> tuple[list[int], SearchResult]:
    """All hits by following the cursors, and the first page (with the facets)."""
    with corpus.app.app_context():
        first = search.run(session, plan(q, filters, sort=sort, size=size))
        ids = list(first.ids)
        cursor = first.next_cursor
        while cursor:
            page = search.run(session, plan(q, filters, sort=sort, size=size, cursor=cursor, facets=False))
            ids.extend(page.ids)
            cursor = page.next_cursor
    return ids, first


def as_counts(facets: dict[str, list[FacetCount]]) -> dict[str, dict[str, int]]:
    return {name: {c.value: c.count for c in counts} for name, counts in facets.items() if counts}


@pytest.mark.parametrize(("q", "filters", "predicate"), CASES, ids=[f"{q or '-'}|{f}" for q, f, _ in CASES])
def test_hits_and_facets_match_the_oracle(corpus: Corpus, q: str, filters: dict[str, Any], predicate: Predicate) -> None:
    expected = corpus.oracle(predicate)
    ids, first = every_hit(corpus, q, filters)
    assert len(ids) == len(set(ids)), "a record came twice while paging"
    assert sorted(ids) == sorted(r.id for r in expected)
    assert first.total == len(expected)
    assert as_counts(first.facets) == expected_facets(expected)


def test_the_suite_finds_something_and_hides_the_unpublished(corpus: Corpus) -> None:
    """Guards the suite itself: the demo words occur, and the hidden records stay hidden."""
    assert len(corpus.oracle(lambda r: r.has("health"))) > 20
    ids, _ = every_hit(corpus, "zebrafiskar", {})
    assert ids == []
    hidden = {corpus.ids[k] for k in ("draft", "withdrawn", "scheduled")}
    everything, _ = every_hit(corpus, "", {})
    assert not hidden & set(everything)
    assert {corpus.ids["eelgrass"], corpus.ids["thesis"], corpus.ids["soup"]} <= set(everything)


@pytest.mark.parametrize("sort", ["newest", "oldest", "title", "added"])
def test_cursor_paging_walks_the_whole_set_in_order(corpus: Corpus, sort: str) -> None:
    ids, _ = every_hit(corpus, "health OR welfare", {}, sort=sort, size=7)
    by_id = {r.id: r for r in corpus.records}
    assert sorted(ids) == sorted(r.id for r in corpus.oracle(lambda r: r.has("health") or r.has("welfare")))

    def key(pid: int) -> Any:
        pub = by_id[pid].pub
        issued = pub.issued
        if sort in ("newest", "oldest"):
            return ((issued.year * 10000 + (issued.month or 0) * 100 + (issued.day or 0)) if issued else 0, pid)
        if sort == "title":
            return (" ".join(fold(pub.title.full()).split())[:255], pid)
        return (pid,)

    keys = [key(pid) for pid in ids]
    if sort == "added":
        assert len(keys) == len(set(keys))
    else:
        assert keys == sorted(keys, reverse=sort == "newest")


@pytest.mark.parametrize("sort", ["newest", "oldest", "title", "added"])
@pytest.mark.parametrize("backend", [b for b in search_backends() if b != "opensearch"])
def test_field_sorted_pages_from_the_bitsets_match_sql(corpora: Callable[[str], Corpus], backend: str, sort: str,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """The bitsets' sort orders give the pages SQL's keyset gives, cursor after cursor."""
    from repository.search import facet_bits
    from repository.search.embedded import EmbeddedBackend

    corpus = corpora(backend)
    with monkeypatch.context() as forbid:
        forbid.setattr(EmbeddedBackend, "_page", lambda *args: pytest.fail("SQL sorted a page"))
        from_bits, _ = every_hit(corpus, "health OR welfare", {"language": ["eng"]}, sort=sort, size=7)
    monkeypatch.setattr(facet_bits, "current", lambda _session: None)
    from_sql, _ = every_hit(corpus, "health OR welfare", {"language": ["eng"]}, sort=sort, size=7)
    assert len(from_bits) > 14
    assert from_bits == from_sql


def test_relevance_ranks_the_same_set_and_pages_by_number(corpus: Corpus) -> None:
    expected = {r.id for r in corpus.oracle(lambda r: r.has("eelgrass"))}
    seen: list[int] = []
    with corpus.app.app_context():
        page = 1
        while True:
            result = search.run(session, plan("eelgrass", {}, sort="relevance", size=25, page=page, facets=False))
            assert result.total == len(expected)
            assert result.next_cursor is None
            if not result.ids:
                break
            seen.extend(result.ids)
            page += 1
    assert sorted(seen) == sorted(expected)


def test_a_title_match_outranks_an_abstract_only_match(corpus: Corpus) -> None:
    """Not a score (scores differ between engines): only that title words weigh more."""
    with corpus.app.app_context():
        result = search.run(session, plan("ärtsoppa måltidsvanor OR zzz", {}, sort="relevance", size=5))
    assert result.ids[:1] == [corpus.ids["soup"]]


def test_public_from_in_the_past_shows_the_record(corpus: Corpus) -> None:
    """A scheduled thesis appears by itself once its day has come: visibility is decided at query time."""
    later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=31)
    with corpus.app.app_context():
        result = search.run(session, plan("framtida", {}, now=later))
    assert result.ids == [corpus.ids["scheduled"]]


@pytest.mark.parametrize("backend", [b for b in search_backends() if b != "opensearch"])
def test_large_indexes_rebuild_their_bitsets_in_the_background(corpora: Callable[[str], Corpus], backend: str,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """While a thread rebuilds stale bitsets, SQL counts: the answers are the same either way."""
    from repository.search import facet_bits

    corpus = corpora(backend)
    monkeypatch.setattr(facet_bits, "SYNC_LIMIT", 0)
    monkeypatch.setattr(facet_bits, "_cache", {})
    expected = corpus.oracle(lambda r: r.has("health"))
    ids, first = every_hit(corpus, "health", {})
    assert sorted(ids) == sorted(r.id for r in expected)
    assert as_counts(first.facets) == expected_facets(expected)
    facet_bits.wait_for_builds(30)
    assert len(facet_bits._cache) == 1  # built from the committed index, ready for the next search
    ids, again = every_hit(corpus, "health", {})
    assert sorted(ids) == sorted(r.id for r in expected)
    assert as_counts(again.facets) == expected_facets(expected)
