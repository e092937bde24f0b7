"""Mapping an event to function variables with JMESPath expressions, compiled at load."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jmespath
import jmespath.exceptions
from jmespath.parser import ParsedResult

__all__ = ["MappingError", "VariableMapping", "compile_variables", "default_variables"]


class MappingError(ValueError):
    """A variable that cannot be compiled (``path`` locates it) or resolved."""

    def __init__(self, message: str, path: tuple[str | int, ...] = ()) -> None:
        super().__init__(message)
        self.path = path


@dataclass(frozen=True, slots=True)
class VariableMapping:
    expressions: Mapping[str, ParsedResult]

    def apply(self, context: Mapping[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for name, expression in self.expressions.items():
            try:
                result[name] = expression.search(context)
            except jmespath.exceptions.JMESPathError as exc:
                raise MappingError(f"variable {name!r}: {exc}") from exc
        return result


def compile_variables(spec: Mapping[str, Any]) -> VariableMapping:
    expressions: dict[str, ParsedResult] = {}
    for name, expression in spec.items():
        if not isinstance(expression, str) or not expression.strip():
            raise MappingError(f"variable {name!r} needs a JMESPath expression string", (name,))
        try:
            expressions[name] = jmespath.compile(expression)
        except jmespath.exceptions.ParseError as exc:
            raise MappingError(f"variable {name!r}: invalid expression: {exc}", (name,)) from exc
    return VariableMapping(expressions)


def default_variables(context: Mapping[str, Any]) -> dict[str, Any]:
    """The docs' webhook-handler convention: ``run(event_type, data)``."""
    return {"event_type": context.get("event_type"), "data": context.get("body")}
