"""Facet counts from bitsets kept in memory: one bit per indexed record, one bitset per facet value.

Counting facets in SQL means grouping every key of every hit; with tens of thousands of hits
that is most of a search's time. Here a search turns its hits into one bitset and each facet
value costs an AND and a popcount over machine words (Lucene counts facets from doc values and
bitsets in the same spirit). A record's bit is its publication id, so ids from SQL become a
bitset without a lookup. The bitsets are numpy arrays of 64-bit words: at 1,000,000 records a
value's AND and popcount take some 20 µs, where Python's ``int.bit_count`` alone takes 350 µs.
The bitsets belong to one ``generation`` of the index (see ``SearchState``) and are used only
by a search whose own transaction reads that generation, so a count can never mix two states of
the index. Small indexes are rebuilt by the search that finds them stale; large ones by a
background thread while SQL counts meanwhile; above ``MAX_DOCUMENTS`` SQL counts. The same
generation keeps the three sort orders (date, title, date added), so a sorted page of hits is
picked in memory too.
"""

from __future__ import annotations

import bisect
import datetime as dt
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlalchemy import Engine, Text, cast, func, select
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import Session

from repository.models import SearchDocument, SearchState, SearchValue
from repository.search.service import SCALAR_FACETS

# Each value's bitset takes max(publication id) / 8 bytes: at 2,000,000 records and the 400
# values of the demo's facets, 100 MB per process, and the sort orders 24 bytes per record (48 MB);
# a rebuild reads the index in a few seconds.
MAX_DOCUMENTS = 2_000_000
# Up to this many documents a search rebuilds stale bitsets itself (well under a second); above
# it a thread rebuilds them from the committed index while searches count in SQL meanwhile.
SYNC_LIMIT = 20_000
MANY_VALUED = ("unit", "subject", "language")

Bits = np.ndarray  # uint64 words, bit ``i`` of the set is bit ``i % 64`` of word ``i // 64``


def bitset(ids: Any, size: int) -> Bits:
    """The bitset (``size`` bits) with the bit of every id in ``ids`` (ints below ``size``) set."""
    flags = np.zeros(_words(size) * 64, dtype=bool)
    flags[np.asarray(ids, dtype=np.int64)] = True
    return np.packbits(flags, bitorder="little").view(np.uint64)


def _words(size: int) -> int:
    return (size + 63) // 64


def count(bits: Bits) -> int:
    return int(np.bitwise_count(bits).sum(dtype=np.int64))


def highest(bits: Bits, n: int) -> list[int]:
    """The ``n`` highest ids in a set, highest first: only the words that hold them are unpacked."""
    if n <= 0:
        return []
    words = np.flatnonzero(bits)
    from_top = np.cumsum(np.bitwise_count(bits[words[::-1]]), dtype=np.int64)  # ids in the top 1, 2, ... words
    chosen = words[len(words) - min(len(words), int(np.searchsorted(from_top, n)) + 1):]
    flags = np.unpackbits(bits[chosen].view(np.uint8), bitorder="little").reshape(len(chosen), 64)
    rows, columns = np.nonzero(flags)
    ids = chosen[rows] * 64 + columns
    return [int(i) for i in ids[::-1][:n]]


def ids_of(bits: Bits) -> np.ndarray:
    """Every id in a set, ascending."""
    return np.flatnonzero(np.unpackbits(bits.view(np.uint8), bitorder="little"))


def contains(bits: Bits, ids: Any) -> np.ndarray:
    """Whether each of ``ids`` is in the set, as an array of bools (ids beyond it are not)."""
    ids = np.asarray(ids, dtype=np.int64)
    inside = ids < len(bits) * 64
    found = np.zeros(len(ids), dtype=bool)
    ids = ids[inside]
    found[inside] = ((bits[ids >> 6] >> (ids & 63).astype(np.uint64)) & np.uint64(1)).astype(bool)
    return found


@dataclass
class FacetBits:
    generation: str
    size: int  # bits in each set: the highest publication id + 1
    documents: int
    keys: dict[str, dict[str, Bits]]
    scheduled: list[tuple[dt.datetime, int]]  # (public_from, publication id): hidden until then
    open_days: list[dt.date]  # sorted first days of open full text...
    open_ids: np.ndarray  # ...and the publication id of each
    everyone: Bits
    # Per sort key (date, title, added): the ids in ascending (key, id) order, and each id's
    # place in it (-1 for ids not indexed).
    orders: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    _open_cache: dict[dt.date, Bits] = field(default_factory=dict)

    def hits(self, ids: Iterable[int]) -> Bits | None:
        """The bitset of ``ids``; None if one is unknown here (the index changed meanwhile)."""
        ids = np.fromiter(ids, dtype=np.int64) if not isinstance(ids, (list, np.ndarray)) else ids
        if len(ids) and int(np.max(ids)) >= self.size:
            return None
        found = bitset(ids, self.size)
        if (found & ~self.everyone).any():
            return None
        return found

    def empty(self) -> Bits:
        return np.zeros_like(self.everyone)

    def visible(self, now: dt.datetime) -> Bits:
        hidden = bitset([i for moment, i in self.scheduled if moment > now], self.size)
        return self.everyone & ~hidden

    def open_on(self, day: dt.date) -> Bits:
        found = self._open_cache.get(day)
        if found is None:
            end = bisect.bisect_right(self.open_days, day)
            found = self._open_cache[day] = bitset(self.open_ids[:end], self.size)
        return found

    def any_of(self, name: str, values: Iterable[str]) -> Bits:
        """The records with at least one of ``values`` for facet ``name``."""
        either = self.empty()
        for value in values:
            found = self.keys[name].get(value)
            if found is not None:
                either |= found
        return either

    def counts(self, hits: Bits, day: dt.date) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {facet: {} for facet in (*self.keys, "oa")}
        if not hits.any():  # an identifier that finds nothing: no AND over every value's words
            return out
        both = np.empty_like(hits)
        ones = np.empty(len(hits), dtype=np.uint8)
        for facet, values in self.keys.items():
            counted = {}
            for value, bits in values.items():
                np.bitwise_and(bits, hits, out=both)
                n = int(np.bitwise_count(both, out=ones).sum(dtype=np.int64))
                if n:
                    counted[value] = n
            out[facet] = counted
        open_count = count(self.open_on(day) & hits)
        out["oa"] = {"true": open_count} if open_count else {}
        return out


_cache: dict[str, FacetBits] = {}
_lock = threading.Lock()
_builders: dict[str, threading.Thread] = {}
_too_large: dict[str, str] = {}  # the generation each database's index was last found too large in


def current(session: Session) -> FacetBits | None:
    """The bitsets of the index as this session's transaction sees it; None if there are none yet."""
    generation = session.execute(select(SearchState.generation).where(SearchState.id == 1)).scalar()
    if generation is None:
        return None
    engine = session.get_bind().engine
    key = str(engine.url)
    found = _cache.get(key)
    if found is not None and found.generation == generation:
        return found
    running = _builders.get(key)
    if (running is not None and running.is_alive()) or _too_large.get(key) == generation:
        return None  # SQL counts, without counting the index first (a count(*) of 1,000,000 rows)
    size = session.execute(select(func.count()).select_from(SearchDocument)).scalar_one()
    if size > MAX_DOCUMENTS:
        _too_large[key] = generation
        return None
    if size > SYNC_LIMIT:
        _build_in_background(engine, key)
        return None
    with _lock:
        found = _cache.get(key)
        if found is None or found.generation != generation:
            found = _cache[key] = _build(session, generation)
        return found


def _build_in_background(engine: Engine, key: str) -> None:
    """Start one thread per database that rebuilds the bitsets from the committed index."""
    with _lock:
        running = _builders.get(key)
        if running is not None and running.is_alive():
            return

        def build() -> None:
            with Session(engine) as own:
                if engine.dialect.name == "postgresql":  # one snapshot for every statement of the build
                    own.connection(execution_options={"isolation_level": "REPEATABLE READ"})
                generation = own.execute(select(SearchState.generation).where(SearchState.id == 1)).scalar()
                if generation is not None:
                    built = _build(own, generation)
                    with _lock:
                        _cache[key] = built

        thread = _builders[key] = threading.Thread(target=build, name="facet-bitsets", daemon=True)
        thread.start()


def wait_for_builds(timeout: float | None = None) -> None:
    """Wait for background rebuilds (for tests and benchmarks that need the bitsets in place)."""
    for thread in list(_builders.values()):
        thread.join(timeout)


def _id_list(session: Session, column: Any) -> Any:
    """Every id of a group as one comma-separated text: a row per facet value instead of a row
    per key keeps a rebuild at 1,000,000 records to seconds (numpy parses the text)."""
    if session.get_bind().dialect.name == "sqlite":
        return func.group_concat(column)
    return func.string_agg(cast(column, Text), ",")


def _ids(text: str | None) -> np.ndarray:
    return np.fromstring(text, dtype=np.int64, sep=",") if text else np.zeros(0, dtype=np.int64)


def _ordered_ids(session: Session, *order: Any) -> np.ndarray:
    """Every indexed id in a sort order: one aggregated text on PostgreSQL (as ``_id_list``);
    SQLite before 3.44 cannot order inside group_concat, so its ids come a row each."""
    pid = SearchDocument.__table__.c.publication_id
    if session.get_bind().dialect.name == "postgresql":
        return _ids(session.execute(select(func.string_agg(cast(pid, Text), aggregate_order_by(",", *order)))).scalar())
    return np.fromiter(session.execute(select(pid).order_by(*order)).scalars(), dtype=np.int64)


def _order(ids: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    places = np.full(size, -1, dtype=np.int32)
    places[ids] = np.arange(len(ids), dtype=np.int32)
    return ids.astype(np.int32), places


def _build(session: Session, generation: str) -> FacetBits:
    docs = SearchDocument.__table__.c
    keys = SearchValue.__table__.c
    everyone_ids = _ids(session.execute(select(_id_list(session, docs.publication_id))).scalar())
    size = int(everyone_ids.max()) + 1 if len(everyone_ids) else 0
    members: dict[str, dict[str, Bits]] = {name: {} for name in (*SCALAR_FACETS, *MANY_VALUED)}
    for name, column in SCALAR_FACETS.items():
        for value, ids in session.execute(select(docs[column], _id_list(session, docs.publication_id))
                                          .where(docs[column].is_not(None)).group_by(docs[column])):
            members[name][str(value)] = bitset(_ids(ids), size)
    for facet, value, ids in session.execute(select(keys.facet, keys.value, _id_list(session, keys.publication_id))
                                             .where(keys.facet.in_(MANY_VALUED)).group_by(keys.facet, keys.value)):
        members[facet][value] = bitset(_ids(ids), size)
    scheduled = [(moment, pid) for pid, moment in session.execute(
        select(docs.publication_id, docs.public_from).where(docs.public_from.is_not(None)))]
    open_days: list[dt.date] = []
    open_ids: list[np.ndarray] = []
    for day, ids in session.execute(select(docs.open_from, _id_list(session, docs.publication_id))
                                    .where(docs.open_from.is_not(None)).group_by(docs.open_from).order_by(docs.open_from)):
        found = _ids(ids)
        open_days += [day] * len(found)
        open_ids.append(found)
    # Titles in byte order, as the backends sort them (SQLite's BINARY; "C" on PostgreSQL).
    title = docs.sort_title.collate("C") if session.get_bind().dialect.name == "postgresql" else docs.sort_title
    orders = {name: _order(_ordered_ids(session, key, docs.publication_id), size)
              for name, key in (("date", docs.sort_date), ("title", title), ("added", docs.published_at))}
    return FacetBits(
        generation=generation, size=size, documents=len(everyone_ids), keys=members, scheduled=scheduled,
        open_days=open_days, open_ids=np.concatenate(open_ids) if open_ids else np.zeros(0, dtype=np.int64),
        everyone=bitset(everyone_ids, size), orders=orders)
