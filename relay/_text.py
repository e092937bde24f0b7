"""Short text for tables: cut at a word boundary, never in the middle of a word."""

from __future__ import annotations

__all__ = ["first_line", "shorten"]

_ELLIPSIS = "…"


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
