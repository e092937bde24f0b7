"""Text that UTF-8 can carry, from any JSON string.

A JSON string may hold a lone surrogate (``"\\ud800"``): Python decodes it into a ``str``
that UTF-8 cannot encode, so SQLite, PostgreSQL (asyncpg) and a UTF-8 log stream refuse it.
What relay derives from a body as text (event type, ids, dedupe keys, errors) goes through
``utf8_text``: each lone surrogate becomes its escape, the six characters ``\\ud800``, as the
body spells it; any other text is returned as it is.
"""

from __future__ import annotations

__all__ = ["utf8_optional", "utf8_text"]


def utf8_text(text: str) -> str:
    """``text`` with each lone surrogate written as its ``\\uXXXX`` escape."""
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


def utf8_optional(text: str | None) -> str | None:
    """``utf8_text`` for a value that may be missing."""
    return None if text is None else utf8_text(text)
