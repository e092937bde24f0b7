"""Mapping an event to function variables, compiled at load.

Each variable is one of:

* ``"body.issue.number"``: a JMESPath expression over ``{body, headers, query, event_type,
  event_id, source, client_ip, received_at}`` (null when it finds nothing);
* ``{path, type, default, required}``: the same with a type (``string``, ``integer``,
  ``number``, ``boolean``, ``object``, ``array``; numeric and ``true``/``false`` strings from
  form bodies are converted), a default for when it finds nothing, or ``required: true``;
* ``{template: "..."}``: text with ``{{ expression }}`` placeholders (``relay.routing.templates``),
  optionally ``required: true`` (every placeholder must find something);
* ``{value: ...}``: a literal.

A variable that cannot be resolved (required and missing, or not convertible to its type)
raises ``MappingError``: that delivery is recorded as ``mapping_failed`` with the reason.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import jmespath.exceptions

from relay.routing.expressions import (
    Expression,
    ExpressionSyntaxError,
    compile_expression,
    render_value,
)
from relay.routing.operators import show
from relay.routing.problems import CompileError, Problem, SpecPath
from relay.routing.templates import Template, compile_template

__all__ = [
    "TYPES",
    "MappingError",
    "VariableMapping",
    "VariablesError",
    "compile_variables",
    "convert",
    "default_variables",
]

TYPES = ("string", "integer", "number", "boolean", "object", "array")
_FORMS = {
    "path": ("path", "type", "default", "required"),
    "template": ("template", "required"),
    "value": ("value",),
}
_ALL_KEYS = sorted({key for keys in _FORMS.values() for key in keys})
_INTEGER = re.compile(r"[-+]?\d+")
_DECIMAL = re.compile(r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?")


class MappingError(ValueError):
    """A variable that cannot be resolved for an event (the delivery is ``mapping_failed``)."""

    def __init__(self, message: str, path: SpecPath = ()) -> None:
        super().__init__(message)
        self.path = path


class VariablesError(CompileError):
    """A ``variables`` value that cannot be compiled; ``problems`` are located inside it."""


class _Unresolved(Exception):
    pass


Resolver = Callable[[Mapping[str, Any]], Any]


@dataclass(frozen=True, slots=True)
class VariableMapping:
    resolvers: Mapping[str, Resolver]

    def apply(self, context: Mapping[str, Any]) -> dict[str, Any]:
        """Every variable's value; raises ``MappingError`` naming every one that failed."""
        result: dict[str, Any] = {}
        failures: list[str] = []
        for name, resolve in self.resolvers.items():
            try:
                result[name] = resolve(context)
            except _Unresolved as exc:
                failures.append(f"variable {name!r}: {exc}")
            except jmespath.exceptions.JMESPathError as exc:
                failures.append(f"variable {name!r}: {str(exc).splitlines()[0]}")
        if failures:
            raise MappingError("; ".join(failures))
        return result


def _number(value: Any) -> int | float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, str):
        text = value.strip()
        if _INTEGER.fullmatch(text):
            return int(text)
        if _DECIMAL.fullmatch(text):
            number = float(text)
            return number if math.isfinite(number) else None
    return None


def convert(value: Any, kind: str) -> Any:
    """``value`` as ``kind``; raises ``ValueError`` saying why it cannot be."""
    if kind == "string":
        if isinstance(value, str):
            return value
        if isinstance(value, bool | int | float):
            return render_value(value)
    elif kind == "integer":
        number = _number(value)
        if isinstance(number, int):
            return number
        if isinstance(number, float) and number.is_integer():
            return int(number)
    elif kind == "number":
        number = _number(value)
        if number is not None:
            return number
    elif kind == "boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
    elif (kind == "object" and isinstance(value, dict)) or (
        kind == "array" and isinstance(value, list)
    ):
        return value
    article = "an" if kind[0] in "aeiou" else "a"
    raise ValueError(f"{show(value)} is not {article} {kind}")


def _path_resolver(
    expression: Expression, kind: str | None, default: Any, has_default: bool, required: bool
) -> Resolver:
    def resolve(context: Mapping[str, Any]) -> Any:
        value = expression.search(context)
        if value is None:
            if has_default:
                return default
            if required:
                raise _Unresolved(f"required, but {expression.text} found nothing")
            return None
        if kind is None:
            return value
        try:
            return convert(value, kind)
        except ValueError as exc:
            raise _Unresolved(f"{expression.text}: {exc}") from None

    return resolve


def _template_resolver(template: Template, required: bool) -> Resolver:
    def resolve(context: Mapping[str, Any]) -> Any:
        text, empty = template.render(context)
        if required and empty:
            raise _Unresolved(f"required, but {{{{ {empty[0]} }}}} found nothing")
        return text

    return resolve


def _literal(value: Any) -> Resolver:
    return lambda context: value


class _Compiler:
    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(
        self, path: SpecPath, message: str, offset: int | None = None, key: bool = False
    ) -> None:
        self.problems.append(Problem(path, message, offset, key))

    def expression(self, text: Any, path: SpecPath, what: str) -> Expression | None:
        if not isinstance(text, str):
            self.add(path, f"{what} takes a JMESPath expression string, not {show(text)}")
            return None
        try:
            return compile_expression(text)
        except ExpressionSyntaxError as exc:
            self.add(path, f"{what}: {exc}", exc.offset)
            return None

    def flag(self, spec: Mapping[str, Any], path: SpecPath) -> bool:
        required = spec.get("required", False)
        if not isinstance(required, bool):
            self.add((*path, "required"), f"required takes true or false, not {show(required)}")
            return False
        return required

    def variable(self, name: str, spec: Any, path: SpecPath) -> Resolver | None:
        if isinstance(spec, str):
            expression = self.expression(spec, path, f"variable {name!r}")
            return (
                None if expression is None else _path_resolver(expression, None, None, False, False)
            )
        if not isinstance(spec, dict):
            self.add(
                path,
                f"variable {name!r} takes a JMESPath expression, or a mapping with "
                f"path, template or value, not {show(spec)}",
            )
            return None
        forms = [form for form in _FORMS if form in spec]
        unknown = [str(key) for key in spec if key not in _ALL_KEYS]
        for key in unknown:
            close = difflib.get_close_matches(key, _ALL_KEYS, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            self.add((*path, key), f"variable {name!r}: unknown key {key!r}{hint}", key=True)
        if unknown and not forms:
            return None
        if len(forms) != 1:
            which = "one of" if not forms else "only one of"
            self.add(path, f"variable {name!r} needs {which} path, template or value")
            return None
        (form,) = forms
        for key in spec:
            if key in _ALL_KEYS and key not in _FORMS[form]:
                self.add(
                    (*path, str(key)),
                    f"variable {name!r}: {key!r} does not go with {form!r}",
                    key=True,
                )
        if form == "value":
            return _literal(spec["value"])
        if form == "template":
            return self.template(name, spec, path)
        return self.path(name, spec, path)

    def template(self, name: str, spec: Mapping[str, Any], path: SpecPath) -> Resolver | None:
        text, at = spec["template"], (*path, "template")
        required = self.flag(spec, path)
        if not isinstance(text, str):
            self.add(at, f"variable {name!r}: template takes a string, not {show(text)}")
            return None
        try:
            return _template_resolver(compile_template(text), required)
        except ExpressionSyntaxError as exc:
            self.add(at, f"variable {name!r}: template: {exc}", exc.offset)
            return None

    def path(self, name: str, spec: Mapping[str, Any], path: SpecPath) -> Resolver | None:
        expression = self.expression(spec["path"], (*path, "path"), f"variable {name!r}")
        kind = spec.get("type")
        if kind is not None and kind not in TYPES:
            close = difflib.get_close_matches(str(kind), TYPES, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            self.add(
                (*path, "type"),
                f"variable {name!r}: unknown type {show(kind)}{hint}: use {', '.join(TYPES)}",
            )
            kind = None
        required = self.flag(spec, path)
        has_default, default = "default" in spec, spec.get("default")
        if has_default and required:
            self.add(
                (*path, "required"),
                f"variable {name!r} has a default, so it is never missing: "
                "drop required or the default",
                key=True,
            )
        if has_default and kind is not None and default is not None:
            try:
                default = convert(default, kind)
            except ValueError as exc:
                self.add((*path, "default"), f"variable {name!r}: default {exc}")
        if expression is None:
            return None
        return _path_resolver(expression, kind, default, has_default, required)


def compile_variables(spec: Mapping[str, Any]) -> VariableMapping:
    """Compile a route's ``variables``; raises ``VariablesError`` with every problem."""
    compiler = _Compiler()
    resolvers: dict[str, Resolver] = {}
    for name, item in spec.items():
        resolver = compiler.variable(str(name), item, (str(name),))
        if resolver is not None:
            resolvers[str(name)] = resolver
    if compiler.problems:
        raise VariablesError(compiler.problems)
    return VariableMapping(resolvers)


def default_variables(context: Mapping[str, Any]) -> dict[str, Any]:
    """The docs' webhook-handler convention: ``run(event_type, data)``."""
    return {"event_type": context.get("event_type"), "data": context.get("body")}
