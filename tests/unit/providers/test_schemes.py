"""The parametrised scheme itself: configuration checks and event-name combinators."""

from __future__ import annotations

from typing import Any

import pytest

from relay.providers._schemes import Scheme, body, constant, header, joined, json_object
from relay.providers.base import WebhookRequest

REQ = WebhookRequest(method="POST", path="/", headers={"x-a": "", "x-b": "B"}, query={}, body=b"")


def _timestamp(raw: bytes) -> float:
    return 0.0


@pytest.mark.parametrize(
    "kwargs",
    [
        {"tolerance": 5.0},  # a window without a timestamp
        {"timestamp_header": "x-ts"},  # a timestamp without a window
        {"timestamp_key": "t", "pairs": ","},
        {"body_timestamp": _timestamp},
        {"signed_prefix": "{ts}."},  # signs a timestamp it does not have
    ],
)
def test_inconsistent_schemes_are_refused_at_import_time(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="x"):
        Scheme(name="x", header="x-sig", **kwargs)


def test_extractors_combine() -> None:
    data = {"a": {"b": "ab"}, "n": 5, "flag": True}
    assert header("x-a", "x-b")(REQ, None) == "B"
    assert header("x-a")(REQ, None) is None
    assert body("a", "b")(REQ, data) == "ab"
    assert body("n")(REQ, data) == "5"
    assert body("flag")(REQ, data) is None
    assert constant("c")(REQ, data) == "c"
    assert joined(header("x-b"), body("n"), ":")(REQ, data) == "B:5"
    assert joined(header("x-b"), body("missing"))(REQ, data) == "B"
    assert joined(header("x-b"), body("missing"), both=True)(REQ, data) is None
    assert joined(body("missing"), header("x-b"))(REQ, data) is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b'{"a": 1}', {"a": 1}),
        ('{"a": 1}', {"a": 1}),
        (b"[1]", None),
        (b"\xff", None),
        (b"[" * 100_000, None),
        (b"", None),
    ],
)
def test_json_object_never_raises(raw: str | bytes, expected: object) -> None:
    assert json_object(raw) == expected
