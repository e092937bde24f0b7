"""Identifiers (relay/ids.py)."""

from __future__ import annotations

import re

from relay.ids import new_id

NOW = 1_700_000_000.123


def test_ids_made_in_one_millisecond_sort_in_the_order_they_were_made() -> None:
    made = [new_id("evt", NOW) for _ in range(1000)]
    assert sorted(made) == made
    assert len(set(made)) == 1000


def test_an_id_is_the_prefix_the_millisecond_and_64_bits_in_hex() -> None:
    made = new_id("dlv", NOW)
    assert re.fullmatch(r"dlv_[0-9a-f]{12}[0-9a-f]{16}", made)
    assert made[4:16] == f"{int(NOW * 1000):012x}"


def test_the_first_id_of_a_millisecond_starts_from_random_bits() -> None:
    starts = {new_id("evt", NOW + n)[16:] for n in range(0, 200, 2)}
    assert len(starts) == 100  # not a counter shared by every millisecond
