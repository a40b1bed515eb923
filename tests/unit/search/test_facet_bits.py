"""The bitset helpers that count facets and pick the newest hits of a set."""

from __future__ import annotations

import datetime as dt
import random

import numpy as np

from repository.search import facet_bits


def bits_for(ids: list[int], size: int = 200) -> facet_bits.FacetBits:
    everyone = facet_bits.bitset(ids, size)
    return facet_bits.FacetBits(generation="g", size=size, documents=len(ids), keys={"type": {}},
                                scheduled=[], open_days=[], open_ids=np.zeros(0, dtype=np.int64), everyone=everyone)


def test_a_bitset_holds_exactly_its_ids() -> None:
    ids = [0, 1, 63, 64, 65, 127, 128, 199]
    found = facet_bits.bitset(ids, 200)
    assert facet_bits.count(found) == len(ids)
    assert list(facet_bits.contains(found, range(-0, 260))) == [i in ids for i in range(260)]


def test_ids_the_index_does_not_hold_are_refused() -> None:
    bits = bits_for([1, 2, 3])
    assert facet_bits.count(bits.hits([1, 3])) == 2
    assert bits.hits([4]) is None  # within the bitset, not in the index
    assert bits.hits([500]) is None  # beyond it


def test_records_scheduled_for_later_are_not_visible() -> None:
    bits = bits_for([1, 2, 3])
    now = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    bits.scheduled = [(now + dt.timedelta(days=1), 2)]
    assert list(facet_bits.contains(bits.visible(now), [1, 2, 3])) == [True, False, True]


def test_highest_gives_the_newest_ids_of_a_set_first() -> None:
    rng = random.Random(6)
    for size in (1, 63, 64, 65, 5000):
        ids = rng.sample(range(size), min(size, 700))
        found = facet_bits.bitset(ids, size)
        for want in (0, 1, 20, 64, 130, 2000):
            assert facet_bits.highest(found, want) == sorted(ids, reverse=True)[:want]
    assert facet_bits.highest(facet_bits.bitset([], 200), 5) == []


def test_counts_are_popcounts_per_value_and_nothing_for_no_hits() -> None:
    bits = bits_for([1, 2, 3, 70, 150])
    bits.keys = {"type": {"art": facet_bits.bitset([1, 70, 150], 200), "dok": facet_bits.bitset([2], 200)}}
    bits.open_days, bits.open_ids = [dt.date(2020, 1, 1)], np.array([70])
    today = dt.date(2026, 1, 1)
    assert bits.counts(bits.hits([1, 2, 70]), today) == {"type": {"art": 2, "dok": 1}, "oa": {"true": 1}}
    assert bits.counts(bits.hits([]), today) == {"type": {}, "oa": {}}
