"""Facet counts from bitsets kept in memory: one bit per indexed record, one bitset per facet value.

Counting facets in SQL means grouping every key of every hit; with tens of thousands of hits
that is most of a search's time. Here a search turns its hits into one bitset and each facet
value costs an AND and a popcount on machine words (Lucene counts facets from doc values and
bitsets in the same spirit). The bitsets belong to one ``generation`` of the index (see
``SearchState``): a process rebuilds them, under a lock, when the generation it reads in the
search's own transaction differs, so a count can never mix two states of the index. Above
``MAX_DOCUMENTS`` the rebuild after each change would cost more than it saves and SQL counts.
"""

from __future__ import annotations

import bisect
import datetime as dt
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from repository.models import SearchDocument, SearchState, SearchValue
from repository.search.service import SCALAR_FACETS

MAX_DOCUMENTS = 300_000
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


def current(session: Session) -> FacetBits | None:
    """The bitsets of the index as this session's transaction sees it; None above the size limit."""
    generation = session.execute(select(SearchState.generation).where(SearchState.id == 1)).scalar()
    if generation is None:
        return None
    bind = session.get_bind()
    key = str(bind.engine.url)
    found = _cache.get(key)
    if found is not None and found.generation == generation:
        return found
    with _lock:
        found = _cache.get(key)
        if found is not None and found.generation == generation:
            return found
        built = _build(session, generation)
        if built is None:
            _cache.pop(key, None)
            return None
        _cache[key] = built
        return built


def _build(session: Session, generation: str) -> FacetBits | None:
    docs = SearchDocument.__table__.c
    columns = [docs[c] for c in SCALAR_FACETS.values()]
    rows = session.execute(select(docs.publication_id, docs.public_from, docs.open_from, *columns)
                           .order_by(docs.publication_id).limit(MAX_DOCUMENTS + 1)).all()
    if len(rows) > MAX_DOCUMENTS:
        return None
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
