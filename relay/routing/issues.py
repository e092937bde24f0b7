"""Located problems in the config file, and the map from document paths to positions.

``ConfigIssue`` is one problem at ``FILE:LINE:COL``; ``ConfigErrors`` carries every problem
of an unusable file. ``SourceMap`` locates values, mapping keys, and characters inside string
scalars (for a caret under the character at fault). Character positions are exact for plain
and quoted single-line scalars and for literal blocks (``|``); other forms fall back to where
the scalar starts. Values changed by ``${VAR}`` interpolation have no span, so problems in
them are placed at the scalar.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from relay.routing.problems import Problem

__all__ = ["ConfigErrors", "ConfigIssue", "ScalarSpan", "SourceMap", "offset_position"]

Path = tuple[str | int, ...]
_Pos = tuple[int, int]


@dataclass(frozen=True, slots=True)
class ScalarSpan:
    line: int  # 1-based, where the scalar (or its quote or block indicator) starts
    col: int  # 1-based
    style: str | None  # None (plain), "'", '"', "|" or ">"
    raw: str  # the scalar's text in the file, quotes and indicators included
    value: str  # its value (recorded only when interpolation left it unchanged)


def _quoted_offset(span: ScalarSpan, offset: int) -> int | None:
    """Offset in ``raw`` of value character ``offset`` (single-line quoted scalars)."""
    i, seen = 1, 0  # after the opening quote
    raw = span.raw
    while seen < offset and i < len(raw):
        if span.style == "'" and raw.startswith("''", i):
            i += 2
        elif span.style == '"' and raw[i] == "\\" and i + 1 < len(raw):
            i += {"x": 4, "u": 6, "U": 10}.get(raw[i + 1], 2)
        else:
            i += 1
        seen += 1
    return i if seen == offset else None


def _block_position(span: ScalarSpan, offset: int) -> tuple[int, int] | None:
    lines = span.raw.split("\n")
    content = [line for line in lines[1:] if line.strip()]
    if not content:
        return None
    indent = min(len(line) - len(line.lstrip(" ")) for line in content)
    if offset == len(span.value) and span.value.endswith("\n"):
        offset -= 1  # the end of the expression: after its last character, not on a new line
    before = span.value[:offset]
    row = before.count("\n")
    col = len(before) - (before.rfind("\n") + 1)
    if 1 + row >= len(lines):
        return None
    return span.line + 1 + row, indent + col + 1


def offset_position(span: ScalarSpan, offset: int) -> tuple[int, int]:
    """(line, col) of character ``offset`` of the scalar's value."""
    start = (span.line, span.col)
    if not 0 <= offset <= len(span.value):
        return start
    if span.style == "|":
        return _block_position(span, offset) or start
    if "\n" in span.raw or span.style == ">":
        return start
    if span.style is None:
        return span.line, span.col + offset
    at = _quoted_offset(span, offset)
    return start if at is None else (span.line, span.col + at)


@dataclass(frozen=True)
class ConfigIssue:
    path: Path  # location in the document, e.g. ("routes", 0, "match")
    line: int  # 1-based
    col: int  # 1-based
    message: str
    severity: Literal["error", "warning"] = "error"

    def format(self, file: str) -> str:
        kind = "warning: " if self.severity == "warning" else ""
        return f"{file}:{self.line}:{self.col}: {kind}{self.message}"


class ConfigErrors(Exception):
    """The document is unusable. ``issues`` holds every error found, and any warnings.

    ``text`` is the file's text when it was read (to show the lines at fault).
    """

    def __init__(self, file: str, issues: list[ConfigIssue], text: str | None = None) -> None:
        self.file = file
        self.issues = issues
        self.text = text
        super().__init__("\n".join(issue.format(file) for issue in issues))


@dataclass(frozen=True)
class SourceMap:
    """Where things are in the file: values, mapping keys, and characters inside scalars."""

    values: Mapping[Path, _Pos]
    keys: Mapping[Path, _Pos]
    spans: Mapping[Path, ScalarSpan]

    def __call__(self, path: Path) -> tuple[int, int]:
        """(line, col) of the deepest existing node on ``path``."""
        for end in range(len(path), -1, -1):
            found = self.values.get(tuple(path[:end]))
            if found is not None:
                return found
        return 1, 1

    def problem(self, base: Path, problem: Problem) -> ConfigIssue:
        """A compile problem of the value at ``base`` as an issue at its exact position."""
        path = (*base, *problem.path)
        line, col = self(path)
        if problem.at_key and path in self.keys:
            line, col = self.keys[path]
        elif problem.offset is not None and path in self.spans:
            line, col = offset_position(self.spans[path], problem.offset)
        return ConfigIssue(path, line, col, problem.message)
