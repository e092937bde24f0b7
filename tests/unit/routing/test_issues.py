"""Character positions inside YAML scalars, for carets under expression errors."""

from __future__ import annotations

import pytest

from relay.routing.issues import ScalarSpan, offset_position


@pytest.mark.parametrize(
    ("style", "raw", "value", "offset", "col"),
    [
        (None, "body.a foo", "body.a foo", 7, 17),
        ("'", "'it''s x'", "it's x", 5, 17),
        ('"', '"\\d+(x"', "\\d+(x", 3, 15),
        ('"', '"\\u00e9 x"', "é x", 2, 18),
    ],
)
def test_single_line_scalars_map_offsets_exactly(
    style: str | None, raw: str, value: str, offset: int, col: int
) -> None:
    span = ScalarSpan(3, 10, style, raw, value)
    assert offset_position(span, offset) == (3, col)


def test_literal_block_maps_offsets_to_their_line() -> None:
    raw = "|\n    first line\n      second\n"
    span = ScalarSpan(5, 11, "|", raw, "first line\n  second\n")
    assert offset_position(span, 0) == (6, 5)
    assert offset_position(span, 13) == (7, 7)
    assert offset_position(span, len(span.value)) == (7, 13)  # the end: after "second"


def test_folded_and_multi_line_scalars_fall_back_to_their_start() -> None:
    assert offset_position(ScalarSpan(5, 11, ">", ">\n  a\n  b\n", "a b\n"), 2) == (5, 11)
    assert offset_position(ScalarSpan(5, 11, None, "a\n  b", "a b"), 2) == (5, 11)
    assert offset_position(ScalarSpan(5, 11, None, "ab", "ab"), 9) == (5, 11)
