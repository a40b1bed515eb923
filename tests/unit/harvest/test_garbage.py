"""The collector settings around bulk work are scoped: whatever a block changes, it puts back."""

from __future__ import annotations

import gc
import weakref

import pytest

from harvest import garbage


def test_a_paused_block_restores_the_collector_and_nesting_pauses_once() -> None:
    assert gc.isenabled()
    with garbage.collection_paused():
        assert not gc.isenabled()
        with garbage.collection_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the inner block does not turn it back on early
    assert gc.isenabled()
    with pytest.raises(RuntimeError), garbage.collection_paused():
        raise RuntimeError("a failed refresh")
    assert gc.isenabled()


def test_a_long_run_freezes_what_lives_and_gives_it_back() -> None:
    before = gc.get_threshold()
    survivor = [object() for _ in range(10)]
    with garbage.long_run():
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold() == (garbage.YOUNG_LIMIT, *before[1:])
    assert gc.get_freeze_count() == 0 and gc.get_threshold() == before
    assert len(survivor) == 10


def test_garbage_made_before_a_long_run_is_collected_not_frozen() -> None:
    class Node:
        def __init__(self) -> None:
            self.me = self

    cycle = Node()
    alive = weakref.ref(cycle)
    del cycle
    gc.disable()  # keep the collector from finding it before the run starts
    try:
        with garbage.long_run():
            assert alive() is None
    finally:
        gc.enable()


def test_long_runs_overlapping_in_threads_restore_the_settings_once_all_end() -> None:
    """A Celery worker harvests several sources in threads: the first run's end must not restore
    the settings under the second, nor the second's end leave the first run's settings behind."""
    before = gc.get_threshold()
    first, second = garbage.long_run(), garbage.long_run()
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)
    assert gc.get_threshold() == (garbage.YOUNG_LIMIT, *before[1:])  # the second run still goes on
    second.__exit__(None, None, None)
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0
