"""Short text for tables and pages: times as people read them, text cut at a word boundary
(never in the middle of a word). Light: the CLI and the web pages both import it."""

from __future__ import annotations

from datetime import UTC, datetime

__all__ = ["TIME_FORMAT", "first_line", "milliseconds", "shorten", "when"]

#: How relay shows a moment to people, in UTC (tables, pages, ``relay show``).
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"

_ELLIPSIS = "…"


def when(ts: float | None) -> str:
    """Unix seconds as ``2024-05-01 10:00:05`` (UTC); ``-`` for none."""
    if ts is None:
        return "-"
    return datetime.fromtimestamp(ts, UTC).strftime(TIME_FORMAT)


def milliseconds(value: float | None) -> str:
    """A duration in milliseconds as ``85 ms`` or, from a second on, ``1.25 s``."""
    if value is None:
        return "-"
    return f"{value / 1000:.2f} s" if value >= 1000 else f"{value:.0f} ms"


def shorten(text: str, width: int) -> str:
    """``text`` on one line, at most ``width`` characters: whole words, then ``…`` when cut.

    A single word longer than ``width`` (an id, a URL) is the one case cut inside a word,
    since there is no boundary to cut at."""
    flat = " ".join(text.split())
    if len(flat) <= width:
        return flat
    room = max(1, width - len(_ELLIPSIS))
    cut = flat[: room + 1]
    space = cut.rfind(" ")
    if space > 0:
        return cut[:space].rstrip(" ,;:") + _ELLIPSIS
    return flat[:room] + _ELLIPSIS


def first_line(text: str) -> str:
    """The first non-blank line of ``text``, stripped ('' when there is none)."""
    for line in text.splitlines():
        if line.strip():
            return line.strip()
    return ""
