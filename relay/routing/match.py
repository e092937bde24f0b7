"""Declarative match patterns, compiled once at load time.

A pattern mirrors the event: ``{event_type: issues, body: {action: opened}}``. Keys of a
mapping must all match (AND); a list means any of its items; a scalar means equality; a
mapping with a single operator key (``prefix``, ``numeric``, ``not``, ...) is an operator.
At the top level, a dotted key (``body.issue.state``) is a path, and ``when:`` is a JMESPath
expression over the whole event. A value test applied to a list in the event matches when
any element matches. Every matcher explains a mismatch: where, what was found, what was
expected.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jmespath.exceptions

from relay.routing.expressions import (
    ExpressionSyntaxError,
    compile_expression,
    is_truthy,
    render_value,
)
from relay.routing.operators import MISSING, OPERATORS, Test, equals_test, show, suggest_operator
from relay.routing.problems import CompileError, Problem, SpecPath

__all__ = ["MISSING", "TOP_LEVEL_KEYS", "MatchError", "Matcher", "compile_match"]

TOP_LEVEL_KEYS = ("event_type", "event_id", "source", "client_ip", "body", "headers", "query")
_PATH_KEYS = ("body", "headers", "query")  # may be dotted: body.issue.number
_STRUCTURAL = ("anything_but", "not", "any", "all")
OPERATOR_NAMES = [*OPERATORS, *_STRUCTURAL]
_ELEMENTWISE = frozenset(OPERATORS) - {"equals", "exists"}


class MatchError(CompileError):
    """A ``match`` value that cannot be compiled; ``problems`` are located inside it."""


@dataclass(frozen=True, slots=True)
class Matcher:
    test: Test
    conditions: tuple[Test, ...] = ()  # the top-level conditions ``test`` requires all of

    def explain(self, context: Mapping[str, Any]) -> str | None:
        """None when ``context`` matches, else the first failing condition."""
        return self.test(context, "")

    def differences(self, context: Mapping[str, Any]) -> tuple[int, list[str]]:
        """How many top-level conditions hold, and why each of the others does not."""
        reasons = [r for r in (c(context, "") for c in self.conditions) if r is not None]
        return len(self.conditions) - len(reasons), reasons

    def matches(self, context: Mapping[str, Any]) -> bool:
        return self.test(context, "") is None


def _never(value: Any, where: str) -> str | None:
    return "not compiled"


def _child(where: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{where}[{key}]"
    return f"{where}.{key}" if where else key


def _lookup(container: Any, key: str) -> Any:
    if isinstance(container, Mapping):
        return container.get(key, MISSING)
    return MISSING


def _each(test: Test) -> Test:
    """Apply ``test`` to the value, or to each element when the value is a list (any)."""

    def each(value: Any, where: str) -> str | None:
        if not isinstance(value, list):
            return test(value, where)
        if not value:
            return f"{where} is an empty list"
        first: str | None = None
        for i, item in enumerate(value):
            reason = test(item, _child(where, i))
            if reason is None:
                return None
            first = first or reason
        return f"no element of {where} matches: {first}"

    return each


def _any_of(options: list[Test]) -> Test:
    def any_of(value: Any, where: str) -> str | None:
        reasons = []
        for option in options:
            reason = option(value, where)
            if reason is None:
                return None
            reasons.append(reason)
        if len(reasons) == 1:
            return reasons[0]
        return f"none of {len(reasons)} options: " + "; ".join(reasons[:3])

    return any_of


def _all_of(parts: list[Test]) -> Test:
    def all_of(value: Any, where: str) -> str | None:
        for part in parts:
            reason = part(value, where)
            if reason is not None:
                return reason
        return None

    return all_of


class _Compiler:
    """Compiles one ``match`` value, collecting every problem instead of stopping."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(
        self, path: SpecPath, message: str, offset: int | None = None, at_key: bool = False
    ) -> Test:
        self.problems.append(Problem(path, message, offset, at_key))
        return _never

    # the whole event ---------------------------------------------------------------------

    def root(self, spec: Any, path: SpecPath) -> Test:
        return _all_of(self.conditions(spec, path))

    def conditions(self, spec: Any, path: SpecPath) -> list[Test]:
        if not isinstance(spec, dict):
            return [self.add(path, f"expected a mapping of conditions, not {show(spec)}")]
        return [self.root_key(str(key), value, (*path, str(key))) for key, value in spec.items()]

    def root_key(self, key: str, value: Any, path: SpecPath) -> Test:
        if key == "when":
            return self.when(value, path)
        if key in ("any", "all"):
            items = self.items(key, value, path)
            tests = [self.root(item, (*path, i)) for i, item in enumerate(items)]
            return _any_of(tests) if key == "any" else _all_of(tests)
        if key == "not":
            inner = self.root(value, path)

            def negated(context: Any, where: str) -> str | None:
                if inner(context, where) is None:
                    return f"the event matches the 'not' condition {show(value)}"
                return None

            return negated
        head, _, rest = key.partition(".")
        if head not in TOP_LEVEL_KEYS or (rest and head not in _PATH_KEYS):
            known = ", ".join((*TOP_LEVEL_KEYS, "any", "all", "not", "when"))
            close = difflib.get_close_matches(head, TOP_LEVEL_KEYS, n=1)
            extra = f" (did you mean {close[0]!r}?)" if close and close[0] != head else ""
            self.problems.append(
                Problem(path, f"unknown match key {key!r}{extra}: use one of {known}", at_key=True)
            )
            return _never
        steps = [head, *(part for part in rest.split(".") if rest)]
        if any(not step for step in steps):
            return self.add(path, f"invalid path {key!r}: empty segment", at_key=True)
        if head == "headers":
            steps = [step.lower() if i == 1 else step for i, step in enumerate(steps)]
            value = _lower_keys(value) if len(steps) == 1 else value
        test = self.value(value, path)
        where = ".".join(steps)

        def lookup(context: Any, _: str) -> str | None:
            found: Any = context
            for step in steps:
                found = _lookup(found, step)
            return test(found, where)

        return lookup

    def when(self, value: Any, path: SpecPath) -> Test:
        if not isinstance(value, str):
            return self.add(path, f"when takes a JMESPath expression string, not {show(value)}")
        try:
            expression = compile_expression(value)
        except ExpressionSyntaxError as exc:
            return self.add(path, f"when: {exc}", exc.offset)

        def when(context: Any, _: str) -> str | None:
            try:
                result = expression.search(context)
            except jmespath.exceptions.JMESPathError as exc:
                return f"when: {value!r} failed: {str(exc).splitlines()[0]}"
            if is_truthy(result):
                return None
            return f"when: {value!r} evaluated to {render_value(result)}"

        return when

    # a value in the event ----------------------------------------------------------------

    def items(self, name: str, value: Any, path: SpecPath) -> list[Any]:
        if not isinstance(value, list) or not value:
            self.add(path, f"{name} takes a non-empty list of conditions, not {show(value)}")
            return []
        return value

    def value(self, pattern: Any, path: SpecPath) -> Test:
        if isinstance(pattern, list):
            if not pattern:
                return self.add(path, "an empty list matches nothing")
            return _any_of([self.value(item, (*path, i)) for i, item in enumerate(pattern)])
        if isinstance(pattern, dict):
            if not pattern:
                return self.add(path, "an empty mapping matches nothing; remove it")
            if len(pattern) == 1:
                ((key, operand),) = pattern.items()
                operator = self.operator(str(key), operand, (*path, str(key)))
                if operator is not None:
                    return operator
            return _each(self.fields(pattern, path))
        if pattern is None or isinstance(pattern, str | int | float | bool):
            return _each(equals_test(pattern))
        return self.add(path, f"unsupported pattern value {show(pattern)}")

    def fields(self, pattern: dict[str, Any], path: SpecPath) -> Test:
        fields = [(str(k), self.value(v, (*path, str(k)))) for k, v in pattern.items()]

        def all_fields(value: Any, where: str) -> str | None:
            if not isinstance(value, Mapping):
                return f"{where} is {show(value)}, expected an object"
            for key, test in fields:
                reason = test(_lookup(value, key), _child(where, key))
                if reason is not None:
                    return reason
            return None

        return all_fields

    def operator(self, key: str, operand: Any, path: SpecPath) -> Test | None:
        """The operator ``{key: operand}``, or None when ``key`` is a field name."""
        factory = OPERATORS.get(key)
        if factory is not None:
            try:
                test = factory(operand, path)
            except CompileError as exc:
                self.problems.extend(exc.problems)
                return _never
            return _each(test) if key in _ELEMENTWISE else test
        if key == "any":
            return _any_of(
                [self.value(p, (*path, i)) for i, p in enumerate(self.items(key, operand, path))]
            )
        if key == "all":
            return _all_of(
                [self.value(p, (*path, i)) for i, p in enumerate(self.items(key, operand, path))]
            )
        if key in ("not", "anything_but"):
            return self.negation(key, operand, path)
        hint = suggest_operator(key, OPERATOR_NAMES)
        if hint is not None:
            self.problems.append(
                Problem(
                    path,
                    f"unknown operator {key!r} (did you mean {hint!r}?); to match a field "
                    f"named {key!r}, write the path as a dotted key: {_dotted(path)}: ...",
                    at_key=True,
                )
            )
            return _never
        return None

    def negation(self, key: str, operand: Any, path: SpecPath) -> Test:
        if operand == [] or operand == {}:
            return self.add(path, f"{key} takes a value, a list or a condition")
        inner = self.value(operand, path)
        require_present = key == "anything_but"

        def negated(value: Any, where: str) -> str | None:
            if require_present and value is MISSING:
                return f"{where} is missing"
            if inner(value, where) is None:
                return f"{where} is {show(value)}, excluded by {key}: {show(operand)}"
            return None

        return negated


def _dotted(path: SpecPath) -> str:
    """The dotted top-level key that reaches ``path`` (after any ``any``/``all`` index)."""
    tail: list[str] = []
    for part in reversed(path):
        if isinstance(part, int):
            break
        tail.insert(0, part)
    return ".".join(tail)


def _lower_keys(value: Any) -> Any:
    """Header names in a ``headers:`` pattern, lower-cased (through lists and combinators)."""
    if isinstance(value, list):
        return [_lower_keys(item) for item in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        ((key, inner),) = value.items()
        if key in ("any", "all", "not"):
            return {key: _lower_keys(inner)}
        if key in OPERATOR_NAMES:
            return value
    return {str(k).lower(): v for k, v in value.items()}


def compile_match(spec: Mapping[str, Any]) -> Matcher:
    """Compile a route's ``match`` mapping; raises ``MatchError`` with every problem."""
    compiler = _Compiler()
    conditions = compiler.conditions(dict(spec), ())
    if compiler.problems:
        raise MatchError(compiler.problems)
    return Matcher(_all_of(conditions), tuple(conditions))
