"""Facet counts from bitsets kept in memory: one bit per indexed record, one bitset per facet value.

Counting facets in SQL means grouping every key of every hit; with tens of thousands of hits
that is most of a search's time. Here a search turns its hits into one bitset and each facet
value costs an AND and a popcount on machine words (Lucene counts facets from doc values and
bitsets in the same spirit). The bitsets belong to one ``generation`` of the index (see
``SearchState``) and are used only by a search whose own transaction reads that generation, so
a count can never mix two states of the index. Small indexes are rebuilt by the search that
finds them stale; large ones by a background thread while SQL counts meanwhile; above
``MAX_DOCUMENTS`` the rebuilds after each change would cost more than they save and SQL counts.
"""

from __future__ import annotations

import bisect
import datetime as dt
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from repository.models import SearchDocument, SearchState, SearchValue
from repository.search.service import SCALAR_FACETS

MAX_DOCUMENTS = 300_000
# Up to this many documents a search rebuilds stale bitsets itself (well under a second); above
# it a thread rebuilds them from the committed index while searches count in SQL meanwhile.
SYNC_LIMIT = 20_000
MANY_VALUED = ("unit", "subject", "language")


def bitset(positions: Iterable[int], size: int) -> int:
    """An int whose bit ``p`` is set for every position."""
    buffer = bytearray((size >> 3) + 1)
    for p in positions:
        buffer[p >> 3] |= 1 << (p & 7)
    return int.from_bytes(buffer, "little")


@dataclass
class FacetBits:
    generation: str
    position: dict[int, int]
    keys: dict[str, dict[str, int]]
    scheduled: list[tuple[dt.datetime, int]]  # (public_from, position): hidden until then
    open_days: list[dt.date]  # sorted first days of open full text...
    open_positions: list[int]  # ...and the position of each
    everyone: int
    _open_cache: dict[dt.date, int] = field(default_factory=dict)

    @property
    def size(self) -> int:
        return len(self.position)

    def hits(self, ids: Iterable[int]) -> int | None:
        """The bitset of ``ids``; None if one is unknown here (the index changed meanwhile)."""
        position = self.position
        try:
            return bitset((position[i] for i in ids), self.size)
        except KeyError:
            return None

    def visible(self, now: dt.datetime) -> int:
        hidden = bitset((p for moment, p in self.scheduled if moment > now), self.size)
        return self.everyone & ~hidden

    def open_on(self, day: dt.date) -> int:
        found = self._open_cache.get(day)
        if found is None:
            end = bisect.bisect_right(self.open_days, day)
            found = self._open_cache[day] = bitset(self.open_positions[:end], self.size)
        return found

    def counts(self, hits: int, day: dt.date) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        for facet, values in self.keys.items():
            counted = {value: (bits & hits).bit_count() for value, bits in values.items()}
            out[facet] = {v: n for v, n in counted.items() if n}
        open_count = (self.open_on(day) & hits).bit_count()
        out["oa"] = {"true": open_count} if open_count else {}
        return out


_cache: dict[str, FacetBits] = {}
_lock = threading.Lock()
_builders: dict[str, threading.Thread] = {}


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
    size = session.execute(select(func.count()).select_from(SearchDocument)).scalar_one()
    if size > MAX_DOCUMENTS:
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


def _build(session: Session, generation: str) -> FacetBits:
    docs = SearchDocument.__table__.c
    columns = [docs[c] for c in SCALAR_FACETS.values()]
    rows = session.execute(select(docs.publication_id, docs.public_from, docs.open_from, *columns)
                           .order_by(docs.publication_id)).all()
    position = {row[0]: i for i, row in enumerate(rows)}
    size = len(rows)
    members: dict[str, dict[str, list[int]]] = {name: {} for name in (*SCALAR_FACETS, *MANY_VALUED)}
    scheduled: list[tuple[dt.datetime, int]] = []
    opens: list[tuple[dt.date, int]] = []
    for i, (_, public_from, open_from, *values) in enumerate(rows):
        if public_from is not None:
            scheduled.append((public_from, i))
        if open_from is not None:
            opens.append((open_from, i))
        for name, value in zip(SCALAR_FACETS, values):
            if value is not None:
                members[name].setdefault(str(value), []).append(i)
    keys = SearchValue.__table__.c
    for facet, value, pid in session.execute(select(keys.facet, keys.value, keys.publication_id)
                                             .where(keys.facet.in_(MANY_VALUED))):
        p = position.get(pid)
        if p is not None:
            members[facet].setdefault(value, []).append(p)
    opens.sort()
    return FacetBits(
        generation=generation, position=position,
        keys={name: {value: bitset(ps, size) for value, ps in values.items()} for name, values in members.items()},
        scheduled=scheduled, open_days=[d for d, _ in opens], open_positions=[p for _, p in opens],
        everyone=(1 << size) - 1)
