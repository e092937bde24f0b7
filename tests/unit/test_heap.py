"""The heap after startup (relay/_heap.py)."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from relay._heap import settle_startup_heap


class _Node:
    def __init__(self) -> None:
        self.other: _Node | None = None


@pytest.fixture
def thawed() -> Iterator[None]:
    yield
    gc.unfreeze()  # the test process's heap goes back to the collector


def test_startup_objects_are_frozen_and_startup_garbage_is_collected_first(
    thawed: None,
) -> None:
    kept = _Node()
    dead_a, dead_b = _Node(), _Node()
    dead_a.other, dead_b.other = dead_b, dead_a  # a cycle only the collector frees
    dead = weakref.ref(dead_a)
    del dead_a, dead_b
    before = gc.get_freeze_count()
    frozen = settle_startup_heap()
    assert dead() is None  # collected, not kept for good in the permanent generation
    assert frozen == gc.get_freeze_count() > before
    assert not any(o is kept for o in gc.get_objects())  # out of every generation it scans
