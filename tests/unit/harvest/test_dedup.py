"""Deduplication: blocking keys, matching rules, clusters with reasons, operator decisions, re-clustering in the store."""

from __future__ import annotations

import dataclasses
import hashlib

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from exports.readmodel import Affiliation, Contributor, Identifier, PartialDate, Publication, Title
from harvest import dedup, store
from harvest.models import HarvestedRecord, Work, WorkFacet
from harvest.records import publication_to_dict
from harvest.store import DedupRecord, RecordVersion
from tests.samples import book_chapter, journal_article


def _variant(pub: Publication, rid: str, inst: str, **changes: object) -> Publication:
    """The same paper as another institution reports it."""
    aff = Affiliation(name=f"{inst.upper()} University", institution_code=inst)
    people = tuple(dataclasses.replace(c, affiliations=(aff,), person_id=None) for c in pub.contributors)
    changes.setdefault("contributors", people)
    return dataclasses.replace(pub, id=rid, oai_identifier=rid, institution_code=inst, **changes)  # type: ignore[arg-type]


def _record(rid: int, pub: Publication, source: str = "src") -> DedupRecord:
    feats = dedup.features(pub, publication_to_dict(pub))
    return DedupRecord(rid, source, feats, dedup.blocking_keys(feats))


def _groups(clusters: list[dedup.Cluster]) -> list[list[int]]:
    return sorted(sorted(rid for rid, _, _ in c.members) for c in clusters)


BASE = journal_article()
DOI_ONLY = (Identifier("doi", "10.3354/meps12345"),)


def test_same_doi_from_two_institutions_is_one_work() -> None:
    uu = _record(1, _variant(BASE, "a", "uu", identifiers=DOI_ONLY), "uu-diva")
    kth = _record(2, _variant(BASE, "b", "kth", identifiers=DOI_ONLY), "kth-diva")
    [work] = dedup.cluster([uu, kth])
    reasons = dict((rid, reason) for rid, reason, _ in work.members)
    assert reasons[work.master] == "master: the most complete record"
    other = 2 if work.master == 1 else 1
    assert reasons[other].startswith("DOI 10.3354/meps12345 equal with record")
    assert work.key == "doi:10.3354/meps12345"


def test_identifier_keys_follow_swepub() -> None:
    feats = dedup.features(BASE, publication_to_dict(BASE))
    keys = dedup.blocking_keys(feats)
    assert "doi:10.3354/meps12345" in keys and "pmid:31234567" in keys and "isi:000123456789012" in keys
    assert "scopus:85012345678" in keys  # without 2-s2.0-
    assert not any(k.startswith(("uri:", "urn:")) for k in keys)  # local identifiers never block
    assert sum(k.startswith(("ft:", "fe:")) for k in keys) == 2
    chapter = book_chapter()
    book = dataclasses.replace(chapter, publication_type="bok", identifiers=(Identifier("isbn", "978-3-16-148410-0"),))
    assert "isbn:9783161484100" in dedup.blocking_keys(dedup.features(book, publication_to_dict(book)))
    article_isbn = dataclasses.replace(BASE, identifiers=(Identifier("isbn", "978-3-16-148410-0"),))
    assert not any(k.startswith("isbn:") for k in dedup.blocking_keys(dedup.features(article_isbn, {})))


def test_fuzzy_title_match_without_identifiers() -> None:
    title = Title("Eelgrass meadows in the Baltic Sea", "a review of changes 1990-2020")
    a = _variant(BASE, "a", "uu", identifiers=(), titles=(title,))
    b = _variant(BASE, "b", "su", identifiers=(), titles=(Title("Eelgrass Meadows in the Baltic sea:",
                                                                "A review of change 1990-2020"),))
    [work] = dedup.cluster([_record(1, a), _record(2, b)])
    reason = [r for rid, r, _ in work.members if rid != work.master][0]
    assert reason.startswith("title similar (0.9") and "year 2021 and first author oberg equal" in reason
    assert "host ISSN" in reason


def test_different_titles_or_years_stay_apart() -> None:
    a = _variant(BASE, "a", "uu", identifiers=())
    other_title = _variant(BASE, "b", "su", identifiers=(), titles=(Title("Seagrass loss in Kattegat"),))
    other_year = _variant(BASE, "c", "lu", identifiers=(), issued=PartialDate(2019))
    assert _groups(dedup.cluster([_record(1, a), _record(2, other_title), _record(3, other_year)])) == [[1], [2], [3]]


def test_different_dois_never_merge_even_with_equal_titles() -> None:
    a = _variant(BASE, "a", "uu", identifiers=(Identifier("doi", "10.1000/one"),))
    b = _variant(BASE, "b", "su", identifiers=(Identifier("doi", "10.1000/two"),))
    assert _groups(dedup.cluster([_record(1, a), _record(2, b)])) == [[1], [2]]


@pytest.mark.parametrize("title", ["Editorial", "Förord", "Book review", "Introduction", "Editorial 3"])
def test_generic_titles_never_match_on_title_alone(title: str) -> None:
    a = _variant(BASE, "a", "uu", identifiers=(), titles=(Title(title),))
    b = _variant(BASE, "b", "su", identifiers=(), titles=(Title(title),))
    assert dedup.is_generic_title(title)
    assert _groups(dedup.cluster([_record(1, a), _record(2, b)])) == [[1], [2]]
    with_doi = [_record(i, dataclasses.replace(p, identifiers=DOI_ONLY)) for i, p in ((1, a), (2, b))]
    assert _groups(dedup.cluster(with_doi)) == [[1, 2]]  # a shared identifier still merges them


def test_a_trailing_number_must_match() -> None:
    part1 = _variant(BASE, "a", "uu", identifiers=(), titles=(Title("Svensk språkhistoria del 1"),))
    part2 = _variant(BASE, "b", "su", identifiers=(), titles=(Title("Svensk språkhistoria del 2"),))
    again = _variant(BASE, "c", "lu", identifiers=(), titles=(Title("Svensk sprakhistoria, del 1"),))
    assert _groups(dedup.cluster([_record(1, part1), _record(2, part2), _record(3, again)])) == [[1, 3], [2]]


def test_operator_decisions_win() -> None:
    records = [_record(i, _variant(BASE, str(i), inst, identifiers=DOI_ONLY)) for i, inst in ((1, "uu"), (2, "kth"))]
    split = dedup.Decision(1, 2, "force_split", "editor@kb.se", "different editions")
    assert _groups(dedup.cluster(records, [split])) == [[1], [2]]
    apart = [_record(1, _variant(BASE, "1", "uu", identifiers=())),
             _record(2, _variant(BASE, "2", "kth", identifiers=(), titles=(Title("Unrelated"),)))]
    [work] = dedup.cluster(apart, [dedup.Decision(1, 2, "force_merge", "editor@kb.se", "same report")])
    assert ("merged by operator editor@kb.se: same report" in work.members[1][1]) and work.members[1][2] == "operator"


def test_merge_keeps_provenance_and_adds_what_the_master_lacks() -> None:
    uu = _variant(BASE, "a", "uu", identifiers=DOI_ONLY)
    kth = _variant(BASE, "b", "kth", identifiers=DOI_ONLY + (Identifier("pmid", "31234567"),),
                   contributors=_variant(BASE, "b", "kth").contributors + (Contributor(family="Ek", given="Bo"),))
    members = [(_record(1, uu, "uu-diva"), publication_to_dict(uu)), (_record(2, kth, "kth-diva"), publication_to_dict(kth))]
    merged, provenance, institutions = dedup.merge(members, 1)
    assert institutions == ["kth", "uu"]
    assert {"scheme": "pmid", "value": "31234567"} in merged["identifiers"]
    assert merged["contributors"][-1]["family"] == "Ek"
    first = merged["contributors"][0]
    assert {a["institution_code"] for a in first["affiliations"]} == {"uu", "kth"}
    assert provenance["master"] == {"record": 1, "source": "uu-diva"}
    assert {e["source"] for e in provenance["fields"]["titles"]} == {"uu-diva", "kth-diva"}
    added = {(e["field"], e["source"]) for e in provenance["added"]}
    assert added == {("identifiers", "kth-diva"), ("contributors", "kth-diva"), ("contributors.affiliations", "kth-diva")}


def test_blocks_keep_comparisons_linear() -> None:
    calls = 0
    real = dedup.match

    def counting(a, b, key):  # type: ignore[no-untyped-def]
        nonlocal calls
        calls += 1
        return real(a, b, key)

    pubs = [_variant(BASE, str(i), "uu", identifiers=(Identifier("doi", f"10.1000/{i}"),),
                     titles=(Title(f"Study number {i} of eelgrass"),)) for i in range(2000)]
    records = [_record(i, p) for i, p in enumerate(pubs)]
    dedup.match = counting  # type: ignore[assignment]
    try:
        dedup.cluster(records)
    finally:
        dedup.match = real  # type: ignore[assignment]
    assert calls <= dedup.WINDOW * len(records)


# -- in the store ----------------------------------------------------------------------------------

def _put(s: Session, source: str, ident: str, pub: Publication | None, *, deleted: bool = False) -> int:
    src = store.get_source(s, source)
    run = store.start_run(s, src, "full", None, None)
    known = store.known_records(s, src.id, [ident]).get(ident)
    data = publication_to_dict(pub) if pub else None
    feats = dedup.features(pub, data) if pub and data else None
    version = RecordVersion(ident, None, deleted, hashlib.sha256(repr(pub).encode()).hexdigest(), raw_xml="<record/>",
                            record=data, accepted=pub is not None, match_features=feats,
                            keys=dedup.blocking_keys(feats) if feats else ())
    store.write_records(s, src.id, run.id, [] if known else [version], [(known.id, version)] if known else [], [])
    return store.known_records(s, src.id, [ident])[ident].id


def _works(sessions: sessionmaker[Session]) -> list[tuple[int, list[str], list[int]]]:
    with sessions() as s:
        return [(w.id, w.institutions, sorted(m.record_id for m in w.memberships))
                for w in s.scalars(select(Work).order_by(Work.id))]


@pytest.fixture
def three_sources(sessions: sessionmaker[Session]) -> sessionmaker[Session]:
    with sessions.begin() as s:
        for name in ("uu", "kth", "lu"):
            store.add_source(s, name, f"https://{name}.example.org/oai", "swepub_mods")
    return sessions


def test_refresh_merges_splits_and_keeps_work_ids(three_sources: sessionmaker[Session]) -> None:
    sessions = three_sources
    with sessions.begin() as s:
        ids = {inst: _put(s, inst, f"oai:{inst}:1", _variant(BASE, inst, inst, identifiers=DOI_ONLY))
               for inst in ("uu", "kth", "lu")}
        dedup.refresh(s)
    [(work_id, institutions, members)] = _works(sessions)
    assert institutions == ["kth", "lu", "uu"] and members == sorted(ids.values())

    # Deleted at one source: only that contribution goes.
    with sessions.begin() as s:
        _put(s, "lu", "oai:lu:1", None, deleted=True)
        report = dedup.refresh(s)
    assert not report.full and report.changed_records == 1
    assert _works(sessions) == [(work_id, ["kth", "uu"], sorted([ids["uu"], ids["kth"]]))]

    # The operator splits the pair; the split survives a later harvest that touches both records.
    with sessions.begin() as s:
        store.decide(s, ids["uu"], ids["kth"], "force_split", "editor@kb.se", "preprint and article")
        dedup.refresh(s)
    assert sorted(m for _, _, m in _works(sessions)) == [[ids["uu"]], [ids["kth"]]]
    with sessions.begin() as s:
        _put(s, "uu", "oai:uu:1", _variant(BASE, "uu", "uu", identifiers=DOI_ONLY, publisher="Inter-Research"))
        _put(s, "kth", "oai:kth:1", _variant(BASE, "kth", "kth", identifiers=DOI_ONLY, edition="2"))
        dedup.refresh(s)
    works = _works(sessions)
    assert len(works) == 2 and work_id in {w for w, _, _ in works}
    with sessions.begin() as s:  # one pass over everything agrees with the neighbourhood passes
        assert dedup.refresh(s, full=True).full
    assert _works(sessions) == works


def test_a_changed_record_leaves_its_work(three_sources: sessionmaker[Session]) -> None:
    sessions = three_sources
    with sessions.begin() as s:
        for inst in ("uu", "kth"):
            _put(s, inst, f"oai:{inst}:1", _variant(BASE, inst, inst, identifiers=DOI_ONLY))
        dedup.refresh(s)
    assert len(_works(sessions)) == 1
    with sessions.begin() as s:
        corrected = _variant(BASE, "kth", "kth", identifiers=(Identifier("doi", "10.1000/another-paper"),),
                             titles=(Title("A different paper altogether"),))
        _put(s, "kth", "oai:kth:1", corrected)
        dedup.refresh(s)
    works = _works(sessions)
    assert [inst for _, inst, _ in works] == [["uu"], ["kth"]]


def test_force_merge_in_the_store_is_explained(three_sources: sessionmaker[Session]) -> None:
    sessions = three_sources
    with sessions.begin() as s:
        a = _put(s, "uu", "oai:uu:9", _variant(BASE, "uu", "uu", identifiers=()))
        b = _put(s, "lu", "oai:lu:9", _variant(BASE, "lu", "lu", identifiers=(), titles=(Title("Ålgräs i Östersjön"),)))
        dedup.refresh(s)
    assert len(_works(sessions)) == 2
    with sessions.begin() as s:
        store.decide(s, b, a, "force_merge", "editor@kb.se", None)
        dedup.refresh(s)
    with sessions() as s:
        work = s.scalars(select(Work)).one()
        by = {m.record_id: (m.decided_by, m.reason) for m in work.memberships}
    assert by[b if work.master_record_id == a else a][0] == "operator"
    with sessions.begin() as s, pytest.raises(store.SourceError, match="two different records"):
        store.decide(s, a, a, "force_split", "editor@kb.se", None)


def test_a_work_of_one_record_stores_no_copy_of_it(three_sources: sessionmaker[Session]) -> None:
    sessions = three_sources
    with sessions.begin() as s:
        _put(s, "uu", "oai:uu:1", _variant(BASE, "uu", "uu", identifiers=DOI_ONLY))
        _put(s, "lu", "oai:lu:1", _variant(BASE, "lu", "lu", identifiers=DOI_ONLY, contributors=(
            Contributor("Lind", "Eva", affiliations=(Affiliation("Lund University"),)),)))  # the only author here
        alone = _put(s, "kth", "oai:kth:2", book_chapter())
        dedup.refresh(s)
    with sessions() as s:
        works = {w.record_count: w for w in s.scalars(select(Work))}
        assert works.keys() == {1, 2}
        single, pair = works[1], works[2]
        assert single.merged is None
        assert single.merged_record == s.get(HarvestedRecord, alone).record == publication_to_dict(book_chapter())
        assert pair.merged is not None and pair.merged_record == pair.merged
        assert {"Lind", "Öberg"} <= {c.get("family") for c in pair.merged_record["contributors"]}  # both records'
        assert (single.year, single.sort_title) == (2019, "open science and its discontents")  # from the record


def _written_works(sessions: sessionmaker[Session]) -> list[tuple[object, ...]]:
    """Every column of every work, its memberships and facet rows: what a refresh writes."""
    with sessions() as s:
        works = list(s.scalars(select(Work).order_by(Work.id)))
        facets = sorted((f.work_id, f.facet, f.value) for f in s.scalars(select(WorkFacet)))
        return [(w.id, w.cluster_key, w.master_record_id, w.merged, w.merged_record, w.provenance, w.institutions,
                 w.record_count,
                 w.year, w.publication_type, w.sort_title, w.search_text,
                 sorted((m.record_id, m.reason, m.decided_by) for m in w.memberships)) for w in works] + facets


def test_works_built_in_a_second_process_are_written_exactly_as_those_built_here(
        three_sources: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch) -> None:
    sessions = three_sources
    with sessions.begin() as s:
        for inst in ("uu", "kth", "lu"):
            _put(s, inst, f"oai:{inst}:1", _variant(BASE, inst, inst, identifiers=DOI_ONLY))
        _put(s, "uu", "oai:uu:2", book_chapter())
        _put(s, "kth", "oai:kth:3", _variant(BASE, "kth", "kth", identifiers=(), titles=(Title("Ålgräs i Östersjön"),)))
        dedup.refresh(s)
    here = _written_works(sessions)
    assert len(here) > 3
    monkeypatch.setattr(dedup, "PARALLEL_BUILD_MIN", 1)
    monkeypatch.setattr(dedup, "WRITE_BATCH", 1)  # one work a batch: the pipeline runs ahead and drains
    with sessions.begin() as s:
        report = dedup.refresh(s, full=True, parallel=True)
    assert report.full and report.works_written == 3
    assert _written_works(sessions) == here
