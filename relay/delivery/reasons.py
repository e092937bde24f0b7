"""Why a run failed, in one line: what the function's error says, not "the run failed"."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from relay._text import first_line, shorten

__all__ = ["run_failure_reason"]

_MAX = 300
_TRACEBACK = "Traceback (most recent call last)"
_ERROR_KEYS = ("error", "message", "detail", "exception")


def _error_text(result: Any) -> str:
    if isinstance(result, str):
        return result
    if isinstance(result, Mapping):
        for key in _ERROR_KEYS:
            value = result.get(key)
            if isinstance(value, str) and value.strip():
                return value
            if isinstance(value, Mapping):
                return _error_text(value)
    return ""


def _exception_line(text: str) -> str:
    """The line that names the exception: the first, or a traceback's last (the raise)."""
    line = first_line(text)
    if not line.startswith(_TRACEBACK):
        return line
    lines = [x for x in text.splitlines() if x.strip()]
    for candidate in reversed(lines):
        if not candidate[:1].isspace():
            return candidate.strip()
    return line


def run_failure_reason(result: Any) -> str:
    """``run failed: RuntimeError: amount 99900 needs manual review`` from a failed run's
    result (the Functions API puts the function's error text there), at most 300 characters
    cut at a word; ``run failed (no error given)`` when the result says nothing."""
    line = _exception_line(_error_text(result))
    if not line:
        return "run failed (no error given)"
    return shorten(f"run failed: {line}", _MAX)
