"""Declarative match patterns, compiled once at load time.

A pattern mirrors the event: ``{event_type: issues, body: {action: opened}}``. Keys of a
mapping must all match (AND); a list means any of its items; a scalar means equality; a
mapping with a single operator key (``prefix``, ``exists``, ...) is an operator. Every
matcher explains a mismatch: the path, what was expected and what was found.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["MISSING", "MatchError", "Matcher", "compile_match"]

TOP_LEVEL_KEYS = ("event_type", "event_id", "source", "body", "headers", "query")


class _Missing:
    def __repr__(self) -> str:
        return "<missing>"


MISSING: Any = _Missing()


class MatchError(ValueError):
    """A pattern that cannot be compiled; ``path`` locates it inside ``match``."""

    def __init__(self, message: str, path: tuple[str | int, ...]) -> None:
        super().__init__(message)
        self.path = path


# A test returns None when it matches, else the reason it does not.
Test = Callable[[Any], str | None]


@dataclass(frozen=True, slots=True)
class Matcher:
    test: Test

    def explain(self, context: Mapping[str, Any]) -> str | None:
        """None when ``context`` matches, else the first failing condition."""
        return self.test(context)

    def matches(self, context: Mapping[str, Any]) -> bool:
        return self.test(context) is None


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _dotted(path: tuple[str | int, ...]) -> str:
    return ".".join(str(p) for p in path) or "(event)"


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _equals(expected: Any, where: str) -> Test:
    def test(value: Any) -> str | None:
        if value is MISSING:
            return f"{where} is missing (expected {_show(expected)})"
        if _is_number(expected) and _is_number(value):
            ok = (
                math.isclose(float(expected), float(value))
                if isinstance(expected, float) or isinstance(value, float)
                else expected == value
            )
        else:
            ok = type(value) is type(expected) and value == expected
        return None if ok else f"{where} is {_show(value)}, expected {_show(expected)}"

    return test


def _prefix(expected: Any, where: str, path: tuple[str | int, ...]) -> Test:
    if not isinstance(expected, str):
        raise MatchError("prefix takes a string", path)

    def test(value: Any) -> str | None:
        if isinstance(value, str) and value.startswith(expected):
            return None
        return f"{where} is {_show(value)}, expected a string starting with {_show(expected)}"

    return test


def _suffix(expected: Any, where: str, path: tuple[str | int, ...]) -> Test:
    if not isinstance(expected, str):
        raise MatchError("suffix takes a string", path)

    def test(value: Any) -> str | None:
        if isinstance(value, str) and value.endswith(expected):
            return None
        return f"{where} is {_show(value)}, expected a string ending with {_show(expected)}"

    return test


def _exists(expected: Any, where: str, path: tuple[str | int, ...]) -> Test:
    if not isinstance(expected, bool):
        raise MatchError("exists takes true or false", path)

    def test(value: Any) -> str | None:
        present = value is not MISSING
        if present == expected:
            return None
        return f"{where} is {'present' if present else 'missing'}"

    return test


def _anything_but(expected: Any, where: str, path: tuple[str | int, ...]) -> Test:
    excluded = expected if isinstance(expected, list) else [expected]
    tests = [_equals(item, where) for item in excluded]

    def test(value: Any) -> str | None:
        if value is MISSING:
            return f"{where} is missing"
        for inner in tests:
            if inner(value) is None:
                return f"{where} is {_show(value)}, which is excluded"
        return None

    return test


OPERATORS: dict[str, Callable[[Any, str, tuple[str | int, ...]], Test]] = {
    "prefix": _prefix,
    "suffix": _suffix,
    "exists": _exists,
    "anything_but": _anything_but,
}


def _lookup(container: Any, key: str) -> Any:
    if isinstance(container, Mapping):
        return container.get(key, MISSING)
    return MISSING


def _compile(pattern: Any, path: tuple[str | int, ...], data_path: tuple[str | int, ...]) -> Test:
    where = _dotted(data_path)
    if isinstance(pattern, list):
        if not pattern:
            raise MatchError("an empty list matches nothing", path)
        options = [_compile(item, (*path, i), data_path) for i, item in enumerate(pattern)]

        def any_of(value: Any) -> str | None:
            reasons = []
            for option in options:
                reason = option(value)
                if reason is None:
                    return None
                reasons.append(reason)
            return (
                reasons[0]
                if len(reasons) == 1
                else f"none of {len(reasons)} options: " + ("; ".join(reasons[:3]))
            )

        return any_of
    if isinstance(pattern, dict):
        if len(pattern) == 1:
            (key,) = pattern
            if key in OPERATORS:
                return OPERATORS[key](pattern[key], where, (*path, key))
        if not pattern:
            raise MatchError("an empty mapping matches nothing; remove it", path)
        fields = [
            (str(key), _compile(sub, (*path, str(key)), (*data_path, str(key))))
            for key, sub in pattern.items()
        ]

        def all_of(value: Any) -> str | None:
            if not isinstance(value, Mapping):
                return f"{where} is {_show(value)}, expected an object"
            for key, test in fields:
                reason = test(_lookup(value, key))
                if reason is not None:
                    return reason
            return None

        return all_of
    if pattern is None or isinstance(pattern, str | int | float | bool):
        return _equals(pattern, where)
    raise MatchError(f"unsupported pattern value {_show(pattern)}", path)


def compile_match(spec: Mapping[str, Any]) -> Matcher:
    """Compile a route's ``match`` mapping; raises ``MatchError`` with a located path."""
    fields: list[tuple[str, Test]] = []
    for key, pattern in spec.items():
        if key not in TOP_LEVEL_KEYS:
            raise MatchError(
                f"unknown match key {key!r}: use one of {', '.join(TOP_LEVEL_KEYS)}", (key,)
            )
        if key in ("headers", "query") and isinstance(pattern, dict):
            pattern = {
                str(k).lower() if key == "headers" else str(k): v for k, v in pattern.items()
            }
        fields.append((key, _compile(pattern, (key,), (key,))))

    def test(context: Any) -> str | None:
        for key, inner in fields:
            reason = inner(_lookup(context, key))
            if reason is not None:
                return reason
        return None

    return Matcher(test)
