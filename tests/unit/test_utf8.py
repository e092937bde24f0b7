from __future__ import annotations

import pytest

from relay._utf8 import utf8_optional, utf8_text


@pytest.mark.parametrize("text", ["", "plain", "é ü \U0001f600", "\u2028", "back\\slash"])
def test_text_that_utf8_carries_is_unchanged(text: str) -> None:
    assert utf8_text(text) is text


def test_a_lone_surrogate_becomes_its_escape() -> None:
    assert utf8_text("a\ud800b\udfffé") == "a\\ud800b\\udfffé"
    utf8_text("\ud800").encode("utf-8")  # now encodable


def test_missing_stays_missing() -> None:
    assert utf8_optional(None) is None
    assert utf8_optional("\udc00") == "\\udc00"
