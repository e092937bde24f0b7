"""Problems found while compiling routing rules, located inside the ``match`` / ``variables``
/ ``dedupe`` value they came from.

Compilers collect every problem they find and raise them together; the loader turns each one
into a ``FILE:LINE:COL`` issue, at the exact character when ``offset`` is known.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["CompileError", "Problem", "SpecPath"]

SpecPath = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class Problem:
    """``path`` is relative to the compiled value; ``offset`` a character in its scalar."""

    path: SpecPath
    message: str
    offset: int | None = None  # position inside the scalar at ``path`` (for a caret)
    at_key: bool = False  # locate the mapping key at ``path`` rather than its value

    def under(self, *prefix: str | int) -> Problem:
        return Problem((*prefix, *self.path), self.message, self.offset, self.at_key)


class CompileError(ValueError):
    """Rules that cannot be compiled; ``problems`` holds every problem found."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        if not problems:
            raise ValueError("CompileError needs at least one problem")
        self.problems = tuple(problems)
        super().__init__("; ".join(p.message for p in self.problems))

    @property
    def path(self) -> SpecPath:
        return self.problems[0].path
