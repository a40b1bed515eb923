"""Python's cyclic garbage collector around the harvester's bulk work.

By default the collector runs each time allocations outnumber deallocations by 700, and every so
often it walks every container object the process holds. The harvester's objects are short-lived
page data (lxml proxies, dicts, row tuples) or bulk structures without reference cycles, so those
walks find little to free. Measured on the benchmark's feed at 100,000 records (benchmarks/README.md):
the collector took 3 of a dedup refresh's 10.7 seconds, and 1.9 of the look-ahead's 30 seconds of
CPU, walking the modules, schemas and vocabularies each process had loaded. Reference counting frees
everything as usual meanwhile; only cycles wait for the collector's next turn.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

YOUNG_LIMIT = 10_000  # net allocations between young collections (Python's default: 700)


@contextmanager
def collection_paused() -> Iterator[None]:
    """No cyclic collection inside the block (a bounded bulk step); nested blocks pause once."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


_runs_lock = threading.Lock()
_runs = 0  # long runs under way in this process (a Celery worker harvests several sources in threads)
_threshold_before: tuple[int, int, int] = (700, 10, 10)


@contextmanager
def long_run() -> Iterator[None]:
    """Fewer and smaller collections while a long loop runs (a harvest's pages); as before after it.

    The settings are the process's, so runs overlapping in threads share them: the first to start
    changes them and the last to end restores them (each restoring what it found left the larger
    threshold behind when two runs ended in the order they began).
    """
    global _runs, _threshold_before
    with _runs_lock:
        if _runs == 0:
            _threshold_before = gc.get_threshold()
            exempt_survivors()
        _runs += 1
    try:
        yield
    finally:
        with _runs_lock:
            _runs -= 1
            if _runs == 0:
                gc.unfreeze()
                gc.set_threshold(*_threshold_before)


def exempt_survivors() -> None:
    """Collect once, leave every object alive now out of later collections, and collect young
    objects less often: for a process about to work for a long time (a look-ahead, a builder).

    What the process holds by then (modules, schemas, vocabularies) lives as long as it does;
    collecting first keeps earlier garbage out of the frozen set.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_LIMIT, *gc.get_threshold()[1:])
