from __future__ import annotations

import json
from typing import Any

import pytest

from relay._json import dumps, dumps_bytes


@pytest.mark.parametrize(
    "value",
    [
        {"a": 1, "b": [True, None, 1.5, "é"]},
        {"big": 2**70},  # beyond orjson's 64 bits: the stdlib's digits
        {1: "int key"},  # not a string key: the stdlib turns it into "1"
        ["\u2028", "ü", "\U0001f600"],
    ],
)
def test_dumps_means_what_the_stdlib_means(value: Any) -> None:
    expected = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    assert json.loads(dumps(value)) == json.loads(expected)
    assert json.loads(dumps_bytes(value)) == json.loads(expected)


def test_a_big_integer_keeps_every_digit() -> None:
    assert dumps({"id": 2**100}) == f'{{"id":{2**100}}}'


def test_lone_surrogate_is_escaped_in_bytes() -> None:
    encoded = dumps_bytes({"s": "\ud800"})
    assert encoded == b'{"s":"\\ud800"}'
    encoded.decode("utf-8")  # valid UTF-8


def test_default_converts_unknown_values_and_none_refuses_them() -> None:
    assert dumps({"x": object}) == f'{{"x":"{object}"}}'
    with pytest.raises(TypeError):
        dumps_bytes({"x": object()}, default=None)


def test_not_a_number_is_null() -> None:
    assert dumps([float("nan"), float("inf")]) == "[null,null]"


def test_lone_surrogate_is_escaped_in_text_too() -> None:
    text = dumps({"s": "\ud800", "t": "é"})
    text.encode("utf-8")  # a store or a UTF-8 log stream takes it
    assert json.loads(text) == {"s": "\ud800", "t": "é"}
