"""Strict parsing of authentic bodies: integers are kept exactly up to a fixed number of
digits, whatever the interpreter's own limit says; compressed bodies inflate within bounds."""

from __future__ import annotations

import gzip
import sys
import zlib
from collections.abc import Awaitable, Callable, Iterator

import pytest

from relay.body_format import MAX_INT_DIGITS, UnprocessableBody, parse_body
from relay.http.decompress import MAX_RATIO, CompressedTooLarge, decompress
from relay.web.body import BodiesBusy, BodyBudget, BodyTooLarge, receive_body


@pytest.fixture
def unlimited_int_digits() -> Iterator[None]:
    """``PYTHONINTMAXSTRDIGITS=0``: the interpreter converts integers of any length."""
    before = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(0)
    try:
        yield
    finally:
        sys.set_int_max_str_digits(before)


def test_an_integer_at_the_limit_is_kept_exactly() -> None:
    text = "-" + "9" * MAX_INT_DIGITS
    assert parse_body(f'{{"n": {text}}}'.encode(), "application/json") == {"n": int(text)}


@pytest.mark.usefixtures("unlimited_int_digits")
def test_a_longer_integer_is_refused_even_when_the_interpreter_allows_any_length() -> None:
    with pytest.raises(UnprocessableBody, match=f"more than {MAX_INT_DIGITS}"):
        parse_body(b'{"n": ' + b"1" * (MAX_INT_DIGITS + 1) + b"}", "application/json")


def test_gzip_and_both_deflate_forms_inflate() -> None:
    body = b'{"a": 1}' * 100
    assert decompress(gzip.compress(body), "gzip", 10_000) == body
    assert decompress(zlib.compress(body), "deflate", 10_000) == body
    raw = zlib.compress(body, wbits=-zlib.MAX_WBITS)
    assert decompress(raw, "deflate", 10_000) == body


def test_inflating_stops_one_byte_past_the_limit() -> None:
    with pytest.raises(CompressedTooLarge, match="more than 1000 bytes"):
        decompress(gzip.compress(b"0" * 5000), "gzip", 1000)


def test_the_ratio_bound_applies_above_the_floor() -> None:
    raw = gzip.compress(b"0" * (8 * 1024 * 1024), compresslevel=9)
    with pytest.raises(CompressedTooLarge, match=f"more than {MAX_RATIO} times"):
        decompress(raw, "gzip", 64 * 1024 * 1024)


def _messages(*chunks: bytes) -> Callable[[], Awaitable[dict[str, object]]]:
    queue = [
        {"type": "http.request", "body": c, "more_body": i < len(chunks) - 1}
        for i, c in enumerate(chunks)
    ]

    async def receive() -> dict[str, object]:
        return queue.pop(0)

    return receive


async def test_the_body_budget_is_taken_while_reading_and_given_back_on_refusal() -> None:
    budget = BodyBudget(100)
    body = await receive_body(_messages(b"a" * 40, b"b" * 40), None, 1000, budget=budget)
    assert (len(body), budget.used) == (80, 80)  # held until the caller gives it back
    with pytest.raises(BodiesBusy):
        await receive_body(_messages(b"c" * 10, b"d" * 20), None, 1000, budget=budget)
    assert budget.used == 80  # the refused request's 10 bytes came back
    with pytest.raises(BodyTooLarge):
        await receive_body(_messages(b"e" * 15, b"f" * 15), None, 20, budget=budget)
    assert budget.used == 80
    budget.give(len(body))
    assert budget.used == 0
