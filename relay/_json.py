"""Compact JSON text, fast: ``orjson`` when it can encode the value, else the stdlib.

Every event is encoded several times on its way in (its headers and query for the store,
its variables, the answer, the log line); ``orjson`` does that about ten times faster than
``json.dumps``. It refuses a few values the stdlib encodes (integers beyond 64 bits, keys that
are not strings, lone surrogates): those take the stdlib path, so the result is always what
``json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=default)`` means,
except that ``NaN`` and the infinities, which JSON cannot carry, are ``null``, and that text
with a lone surrogate is written ASCII-only (the surrogate as its ``\\uXXXX`` escape), so that
the result is always valid UTF-8: a store or a log stream can take it. Parsing stays
with the stdlib: ``orjson.loads`` turns an integer beyond 64 bits into a float (digits lost).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import orjson

__all__ = ["dumps", "dumps_bytes"]


def dumps_bytes(value: Any, *, default: Callable[[Any], Any] | None = str) -> bytes:
    """UTF-8 JSON of ``value``; ``default`` converts what JSON has no type for."""
    try:
        return orjson.dumps(value, default=default)
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        # ASCII, so that a lone surrogate is an escape, not bytes that are not UTF-8
        return json.dumps(value, separators=(",", ":"), default=default).encode()


def dumps(value: Any, *, default: Callable[[Any], Any] | None = str) -> str:
    """JSON text of ``value`` (see ``dumps_bytes``)."""
    try:
        return orjson.dumps(value, default=default).decode()
    except TypeError:
        text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=default)
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: written as its escape
        return json.dumps(value, separators=(",", ":"), default=default)
    return text
