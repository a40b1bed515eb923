"""Deduplication across sources: blocking keys, pairwise matching within blocks, clusters and merged works.

Records are compared only when they share a blocking key: a non-local identifier (DOI, PMID, ISI,
Scopus without ``2-s2.0-``, ISBN for books) or a fuzzy key made of year, first author's family name
and one end of the normalised title. Within a block each record is compared with its nearest
predecessors (a bounded window), so the cost grows with the number of records, not its square.
Matches join clusters with union-find; an operator's forced split is a cannot-link constraint and
a forced merge a must-link, both honoured on every later run. Each work keeps, for every member,
the reason it joined ("DOI 10.1234/x equal with record 17 (kth)"), and its merged record says
where each field came from. After a harvest only the neighbourhood of changed records is
re-clustered (see ``store.neighbourhood``), and works keep their ids when their members overlap.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
from collections import defaultdict, deque
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

from rapidfuzz.distance import Indel
from sqlalchemy.orm import Session

from exports import identifiers as ids
from exports.readmodel import Publication
from harvest import garbage, store
from harvest.folding import normalise_text
from harvest.models import Work
from harvest.store import DedupRecord, WorkRow

log = logging.getLogger(__name__)

FUZZY_THRESHOLD = 0.90  # title similarity for a fuzzy match
FUZZY_THRESHOLD_SAME_ISSN = 0.85  # a shared host ISSN breaks the tie for slightly more distant titles
IDENTIFIER_TITLE_THRESHOLD = 0.60  # a shared identifier still needs titles that are not unrelated
WINDOW = 25  # predecessors compared within one block
FUZZY_KEY_CHARS = 24
# With this many changed records, and more than this share of all, one pass over everything beats
# looking up neighbourhoods in chunks (the first harvest of a large source, a re-harvest).
FULL_RECLUSTER_MIN = 5000
FULL_RECLUSTER_SHARE = 0.2
WRITE_BATCH = 5000  # clusters whose merged records are built and written at a time (bounded memory)
# From this many records re-clustered a refresh is large: one that may use a second core builds the
# merged works there while this process reads and writes (see ``_built_rows``; below it, starting the
# process costs more), and on SQLite it writes with a larger page cache.
PARALLEL_BUILD_MIN = 20_000
LARGE_REFRESH_CACHE_MIB = 256  # SQLite's page cache while a refresh that large writes (see store.roomy_cache)
BUILDS_AHEAD = 2

IDENTIFIER_LABELS = {"doi": "DOI", "pmid": "PMID", "isi": "ISI", "scopus": "Scopus", "isbn": "ISBN"}
_IDENTIFIER_PREFIXES = tuple(f"{scheme}:" for scheme in IDENTIFIER_LABELS)  # a key's scheme in one startswith
BOOK_TYPES = frozenset({"bok", "sam", "dok", "lic", "rap", "pro"})
GENERIC_TITLES = frozenset({
    "editorial", "guest editorial", "editorial introduction", "editors introduction", "introduction",
    "preface", "foreword", "forord", "afterword", "efterord", "inledning", "introduktion", "book review",
    "book reviews", "review", "recension", "bokrecension", "recensioner", "letter", "letter to the editor",
    "reply", "response", "comment", "commentary", "kommentar", "erratum", "corrigendum", "correction",
    "retraction", "obituary", "in memoriam", "minnesord", "abstract", "abstracts", "summary",
    "sammanfattning", "conclusion", "conclusions", "discussion", "contents", "index", "acknowledgements",
    "news", "nyheter", "debatt", "debate", "interview", "intervju", "untitled", "editorial board",
})
_ROMAN = frozenset("i ii iii iv v vi vii viii ix x xi xii xiii xiv xv xvi xvii xviii xix xx".split())


def _trailing_number(title: str) -> str | None:
    words = title.split()
    if len(words) > 1 and (words[-1].isdigit() or words[-1] in _ROMAN):
        return words[-1]
    return None


def is_generic_title(title: str) -> bool:
    """'Editorial', 'Förord 2', 'Book review': titles that say nothing about which work it is."""
    words = normalise_text(title).split()
    if words and (words[-1].isdigit() or words[-1] in _ROMAN):
        words = words[:-1]
    return " ".join(words) in GENERIC_TITLES


def _first_author(pub: Publication) -> str:
    people = pub.authors or pub.contributors_in("edt") or pub.contributors
    for person in people:
        name = person.corporate_name if person.corporate_name else person.family
        if name:
            return normalise_text(name)
    return ""


def _identifier_keys(pub: Publication) -> list[str]:
    keys = []
    for ident in pub.identifiers:
        scheme = ident.scheme
        if scheme not in IDENTIFIER_LABELS or (scheme == "isbn" and pub.publication_type not in BOOK_TYPES):
            continue
        try:
            value = ids.normalise_identifier(scheme, ident.value)
            if scheme == "scopus":
                value = value.removeprefix("2-s2.0-")
            elif scheme == "isbn":
                value = ids.isbn13(value).replace("-", "")
        except ValueError:
            continue  # an invalid identifier is flagged by validation; it must not join works
        keys.append(f"{scheme}:{value}")
    return sorted(set(keys))


def _completeness(data: dict[str, Any]) -> int:
    """SwePub's 'the record with the most elements': top-level values, counting list items."""
    return sum(len(v) if isinstance(v, list | dict) else 1 for v in data.values())


def features(pub: Publication, data: dict[str, Any], *, open_access: bool = False) -> dict[str, Any]:
    """What matching and the bibliography's facets need from a record, compact enough to store beside it.

    ``data`` is the record's JSON dict; ``open_access`` what its source said of the full text
    (the read model has no field for it), kept so a merged work is open when any member is.
    """
    title = normalise_text(pub.title.full()) if pub.titles else ""
    host_issns = sorted({i for i in ((pub.host.issn, pub.host.eissn) if pub.host else ()) if i})
    keys = _identifier_keys(pub)
    return {
        "t": title, "y": pub.year, "a": _first_author(pub), "ids": keys,
        "doi": [k[4:] for k in keys if k.startswith("doi:")], "issn": host_issns,
        "g": is_generic_title(pub.title.full()) if pub.titles else True, "n": _trailing_number(title),
        "c": _completeness(data), "inst": pub.institution_code, "oa": open_access,
    }


def blocking_keys(feat: dict[str, Any]) -> tuple[str, ...]:
    """The blocks a record joins: its identifiers, and two fuzzy keys unless its title is generic."""
    keys = [k[:300] for k in feat["ids"]]
    compact = feat["t"].replace(" ", "")
    if compact and not feat["g"]:
        stem = f"{feat['y'] or '?'}:{feat['a'][:40] or '?'}:"
        keys.append(f"ft:{stem}{compact[:FUZZY_KEY_CHARS]}")
        if len(compact) > FUZZY_KEY_CHARS:
            keys.append(f"fe:{stem}{compact[-FUZZY_KEY_CHARS:]}")
    return tuple(keys)


def _similarity(a: str, b: str, floor: float) -> float:
    """2 × the longest common subsequence / both lengths (0.0 under ``floor``).

    difflib's ratio approximates the same measure from below and cost a fifth of a refresh;
    rapidfuzz computes it exactly, bit-parallel, and stops early under the floor.
    """
    return Indel.normalized_similarity(a, b, score_cutoff=floor)


def match(a: dict[str, Any], b: dict[str, Any], key: str) -> str | None:
    """Why two records are the same work, judged within the block ``key``; None when they are not."""
    if a["doi"] and b["doi"] and not set(a["doi"]) & set(b["doi"]):
        return None  # both have DOIs and none is shared: different works, whatever else agrees
    if a["n"] != b["n"]:
        return None  # "Part 1" and "Part 2"
    scheme, _, value = key.partition(":")
    if scheme in IDENTIFIER_LABELS:
        if a["t"] and b["t"] and a["t"] != b["t"] and _similarity(a["t"], b["t"], IDENTIFIER_TITLE_THRESHOLD) < IDENTIFIER_TITLE_THRESHOLD:
            return None
        return f"{IDENTIFIER_LABELS[scheme]} {value} equal"
    if a["g"] or b["g"] or a["y"] != b["y"] or a["a"] != b["a"]:
        return None  # generic titles never match on title alone
    shared_issn = sorted(set(a["issn"]) & set(b["issn"]))
    if a["issn"] and b["issn"] and not shared_issn:
        return None
    floor = FUZZY_THRESHOLD_SAME_ISSN if shared_issn else FUZZY_THRESHOLD
    score = 1.0 if a["t"] == b["t"] else _similarity(a["t"], b["t"], floor)
    if score < floor:
        return None
    reason = f"title similar ({score:.2f}), year {a['y']} and first author {a['a'] or '(none)'} equal"
    return reason + (f", host ISSN {shared_issn[0]} equal" if shared_issn else "")


class _Clusters:
    """Union-find whose unions respect cannot-link pairs (the operator's forced splits)."""

    def __init__(self, ids_: Iterable[int], apart: Iterable[tuple[int, int]]) -> None:
        self.parent = {i: i for i in ids_}
        self.apart: dict[int, set[int]] = defaultdict(set)
        for a, b in apart:
            self.apart[a].add(b)
            self.apart[b].add(a)
        self.constrained: dict[int, set[int]] = {i: {i} for i in self.apart if i in self.parent}

    def find(self, x: int) -> int:
        root = x
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[x] != root:
            self.parent[x], x = root, self.parent[x]
        return root

    def union(self, a: int, b: int) -> bool:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return False
        left, right = self.constrained.get(ra, set()), self.constrained.get(rb, set())
        for x in left:
            if any(y in self.parent and self.find(y) == rb for y in self.apart[x]):
                return False
        self.parent[rb] = ra
        if right:
            self.constrained[ra] = left | self.constrained.pop(rb)
        return True


@dataclass(frozen=True, slots=True)
class Decision:
    record_a: int
    record_b: int
    decision: str  # force_merge | force_split
    who: str
    comment: str | None = None


@dataclass(frozen=True, slots=True)
class Cluster:
    master: int
    members: tuple[tuple[int, str, str], ...]  # record id, reason, decided_by (auto | operator)
    key: str


def cluster(records: Sequence[DedupRecord], decisions: Sequence[Decision] = ()) -> list[Cluster]:
    """Group records into works; every record lands in exactly one cluster."""
    by_id = {r.id: r for r in records}
    uf = _Clusters(by_id, [(d.record_a, d.record_b) for d in decisions if d.decision == "force_split"])
    links: dict[int, list[tuple[int, str, str]]] = defaultdict(list)

    def link(a: int, b: int, reason: str, by: str) -> None:
        if uf.union(a, b):
            links[a].append((b, reason, by))
            links[b].append((a, reason, by))

    for d in decisions:
        if d.decision == "force_merge" and d.record_a in by_id and d.record_b in by_id:
            note = f": {d.comment}" if d.comment else ""
            link(d.record_a, d.record_b, f"merged by operator {d.who}{note}", "operator")
    blocks: dict[str, list[int]] = defaultdict(list)
    for r in records:
        for key in r.keys:
            blocks[key].append(r.id)
    # Most blocks hold one record (a fuzzy key of its own) and compare nothing: only the others are sorted and walked.
    for key in sorted(key for key, ids_ in blocks.items() if len(ids_) > 1):
        members = sorted(blocks[key])
        for i, rid in enumerate(members):
            for other in reversed(members[max(0, i - WINDOW):i]):
                if uf.find(rid) == uf.find(other):
                    break
                reason = match(by_id[rid].features, by_id[other].features, key)
                if reason is not None:
                    link(other, rid, reason, "auto")
                    break
    groups: dict[int, list[int]] = defaultdict(list)
    for r in records:
        groups[uf.find(r.id)].append(r.id)
    return [_explain(sorted(group), by_id, links) for group in groups.values()]


def _explain(group: list[int], by_id: dict[int, DedupRecord], links: dict[int, list[tuple[int, str, str]]]) -> Cluster:
    """The master (most complete record) and each member's reason, walked out from the master."""
    if len(group) == 1:  # most clusters (at least three in four in the benchmark's feed)
        return Cluster(group[0], ((group[0], "only record", "auto"),), _cluster_key(group[0], by_id[group[0]].keys))
    master = max(group, key=lambda rid: (by_id[rid].features["c"], -rid))
    members = [(master, "master: the most complete record", "auto")]
    seen, queue = {master}, deque([master])
    while queue:
        current = queue.popleft()
        for other, reason, by in sorted(links.get(current, ())):
            if other not in seen:
                seen.add(other)
                queue.append(other)
                members.append((other, f"{reason} with record {current} ({_origin(by_id[current])})", by))
    return Cluster(master, tuple(members), _cluster_key(master, by_id[master].keys))


def _cluster_key(master: int, keys: Sequence[str]) -> str:
    """The master's first identifier key, else its first key, else its id."""
    for key in keys:
        if key.startswith(_IDENTIFIER_PREFIXES):
            return key
    return keys[0] if keys else f"record:{master}"


def _origin(record: DedupRecord) -> str:
    inst = record.features.get("inst")
    return f"{record.source}, {inst}" if inst and inst != record.source else record.source


# -- merged records ---------------------------------------------------------------------------------

def _person_key(person: dict[str, Any]) -> tuple[str, ...]:
    if person.get("orcid"):
        return ("orcid", person["orcid"])
    if person.get("corporate_name"):
        return ("org", normalise_text(person["corporate_name"]))
    given = normalise_text(person.get("given") or "")
    return ("name", normalise_text(person.get("family") or ""), given[:1])


_PROVENANCE_FIELDS = ("titles", "publication_type", "output_type", "content_type", "issued", "languages",
                      "host", "publisher", "identifiers", "subjects", "abstracts")


def merge(members: Sequence[tuple[DedupRecord, dict[str, Any]]], master_id: int) -> tuple[dict[str, Any], dict[str, Any], list[str]]:
    """The merged record, its provenance and the contributing institutions of one cluster.

    The master is taken whole; the others add the identifiers, contributors and affiliations it
    lacks, each addition noted with the record and source it came from.
    """
    institutions = sorted({r.features.get("inst") or r.source for r, _ in members})
    master_rec, master_data = next((r, d) for r, d in members if r.id == master_id)
    origin = {"record": master_rec.id, "source": master_rec.source}
    if len(members) == 1:
        return master_data, {"master": origin}, institutions
    merged = dict(master_data)
    identifiers = [dict(i) for i in merged.get("identifiers", [])]
    contributors = [dict(c, affiliations=list(c.get("affiliations", []))) for c in merged.get("contributors", [])]
    added: list[dict[str, Any]] = []
    for rec, data in members:
        if rec.id == master_id:
            continue
        here = {"record": rec.id, "source": rec.source}
        for ident in data.get("identifiers", []):
            if not any(i["scheme"] == ident["scheme"] and i["value"] == ident["value"] for i in identifiers):
                identifiers.append(dict(ident))
                added.append({"field": "identifiers", "value": ident, **here})
        by_key = {_person_key(c): c for c in contributors}
        for person in data.get("contributors", []):
            mine = by_key.get(_person_key(person))
            if mine is None:
                contributors.append(dict(person, affiliations=list(person.get("affiliations", []))))
                added.append({"field": "contributors", "value": person, **here})
                continue
            for aff in person.get("affiliations", []):
                if aff not in mine["affiliations"]:
                    mine["affiliations"].append(aff)
                    added.append({"field": "contributors.affiliations", "person": _display(mine), "value": aff, **here})
            if person.get("orcid") and not mine.get("orcid"):
                mine["orcid"] = person["orcid"]
                added.append({"field": "contributors.orcid", "person": _display(mine), "value": person["orcid"], **here})
    if identifiers:
        merged["identifiers"] = identifiers
    if contributors:
        merged["contributors"] = contributors
    fields = {name: [{"record": r.id, "source": r.source, "value": d[name]} for r, d in members if name in d]
              for name in _PROVENANCE_FIELDS}
    fields["contributors"] = [{"record": r.id, "source": r.source,
                               "value": [_display(c) for c in d.get("contributors", [])]} for r, d in members]
    provenance = {"master": origin, "fields": {k: v for k, v in fields.items() if v}, "added": added}
    return merged, provenance, institutions


def _display(person: dict[str, Any]) -> str:
    if person.get("corporate_name"):
        return str(person["corporate_name"])
    return ", ".join(p for p in (person.get("family"), person.get("given")) if p)


# -- re-clustering in the database ----------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class DedupReport:
    changed_records: int
    records_clustered: int
    works_written: int
    works_dropped: int
    full: bool


def refresh(session: Session, *, full: bool = False, parallel: bool = False) -> DedupReport:
    """Re-cluster what changed since the last refresh (or everything), keeping work ids stable.

    Does not commit: the caller decides whether this joins the harvest's last transaction.
    ``parallel``: a second core may build the merged works of a large refresh.
    """
    with garbage.collection_paused():
        return _refresh(session, full, parallel)


def _refresh(session: Session, full: bool, parallel: bool) -> DedupReport:
    pending = store.pending_dedup(session)
    dirty = pending.record_ids
    if not dirty and not full:
        return DedupReport(0, 0, 0, 0, False)
    full = full or (len(dirty) >= FULL_RECLUSTER_MIN
                    and len(dirty) > FULL_RECLUSTER_SHARE * store.count_live(session))
    scope = None if full else sorted(store.neighbourhood(session, dirty))
    records = store.dedup_records(session, scope)
    decisions = [Decision(d.record_a_id, d.record_b_id, d.decision, d.decided_by, d.comment)
                 for d in store.merge_decisions(session, scope)]
    clusters = cluster(records, decisions)
    old = store.all_works(session) if scope is None else store.current_works(session, scope)
    placed = _reuse_work_ids(old, clusters)
    kept = {wid for wid in placed if wid is not None}
    store.clear_works(session, sorted(set(old) - kept), sorted(kept))
    fresh = iter(store.new_ids(session, Work.__table__, placed.count(None)))
    targets = [(wid, False) if wid is not None else (next(fresh), True) for wid in placed]
    by_id = {r.id: r for r in records}
    batches = [(clusters[start:start + WRITE_BATCH], targets[start:start + WRITE_BATCH])
               for start in range(0, len(clusters), WRITE_BATCH)]
    large = len(records) >= PARALLEL_BUILD_MIN
    with store.roomy_cache(session, LARGE_REFRESH_CACHE_MIB) if large else contextlib.nullcontext():
        for batch in _built_batches(session, batches, by_id, store.write_time(session), parallel and large):
            store.write_works(session, batch)
        store.mark_clustered(session, pending)
    dropped = len(set(old) - kept)
    log.info("dedup changed=%d clustered=%d works=%d dropped=%d full=%s", len(dirty), len(records), len(clusters),
             dropped, full)
    return DedupReport(len(dirty), len(records), len(clusters), dropped, full)


Batch = tuple[list[Cluster], list[tuple[int, bool]]]  # clusters and their work ids (and whether each is new)


def _built_batches(session: Session, batches: Sequence[Batch], by_id: dict[int, DedupRecord], updated: Any,
                   parallel: bool) -> Iterator[store.WorkBatch]:
    """Each batch ready to write, in order: built here, or in a spawned process.

    Building a work (decoding its members' records, merging them, its columns and facet values,
    encoding it again) costs about as much as reading and writing it. After a large harvest the
    refresh runs alone, so a second process builds batch N+1 from the records' JSON text while
    this one writes batch N. The batches are the same either way (tested).
    """
    if not parallel:
        for part, targets in batches:
            data = store.record_dicts(session, [rid for c in part for rid, _, _ in c.members])
            yield _build_batch(part, targets, by_id, data, updated)
        return
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"),
                             initializer=garbage.exempt_survivors) as pool:
        pending: deque[Future[store.WorkBatch]] = deque()
        for part, targets in batches:
            rids = [rid for c in part for rid, _, _ in c.members]
            # Only what building reads of a member (its institution, source and open access) crosses over.
            members = {rid: DedupRecord(rid, by_id[rid].source, {"inst": by_id[rid].features.get("inst"),
                                                                 "oa": by_id[rid].features.get("oa")}, ())
                       for rid in rids}
            pending.append(pool.submit(_build_from_texts, part, targets, members, store.record_texts(session, rids),
                                       updated))
            if len(pending) > BUILDS_AHEAD:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def _build_from_texts(part: list[Cluster], targets: list[tuple[int, bool]], members: dict[int, DedupRecord],
                      texts: dict[int, str], updated: Any) -> store.WorkBatch:
    """In the builder process: a batch from its members' JSON text."""
    with garbage.collection_paused():
        return _build_batch(part, targets, members, store.decode_records(texts), updated)


def _build_batch(part: list[Cluster], targets: list[tuple[int, bool]], by_id: dict[int, DedupRecord],
                 data: dict[int, dict[str, Any]], updated: Any) -> store.WorkBatch:
    return store.work_batch(((wid, new, _work_row(c, by_id, data)) for c, (wid, new) in zip(part, targets, strict=True)),
                            updated)


def _work_row(c: Cluster, by_id: dict[int, DedupRecord], data: dict[int, dict[str, Any]]) -> WorkRow:
    merged, provenance, institutions = merge([(by_id[rid], data[rid]) for rid, _, _ in c.members], c.master)
    open_access = any(by_id[rid].features.get("oa") for rid, _, _ in c.members)
    return WorkRow(c.key, c.master, merged, provenance, institutions, list(c.members), open_access)


def _reuse_work_ids(old: dict[int, set[int]], clusters: list[Cluster]) -> list[int | None]:
    """For each new cluster, the id of the old work it shares most records with (each id used once), or None."""
    owner = {rid: wid for wid, members in old.items() for rid in members}
    candidates = []
    for index, c in enumerate(clusters):
        overlap: dict[int, int] = defaultdict(int)
        for rid, _, _ in c.members:
            if rid in owner:
                overlap[owner[rid]] += 1
        candidates.extend((-n, wid, index) for wid, n in overlap.items())
    placed: list[int | None] = [None] * len(clusters)
    taken: set[int] = set()
    for _, wid, index in sorted(candidates):
        if wid not in taken and placed[index] is None:
            taken.add(wid)
            placed[index] = wid
    return placed
