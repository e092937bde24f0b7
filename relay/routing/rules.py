"""A route's rules compiled together: its matcher, its variables and its dedupe key.

Used by the loader on the raw document (so expression errors are reported along with every
other error) and by ``compile_document``. Problem paths are relative to the route.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from relay.routing.expressions import Expression, ExpressionSyntaxError, compile_expression
from relay.routing.mapping import VariableMapping, compile_variables
from relay.routing.match import Matcher, compile_match
from relay.routing.problems import CompileError, Problem

__all__ = ["RouteRules", "compile_rules", "route_problems"]


@dataclass(frozen=True, slots=True)
class RouteRules:
    matcher: Matcher
    variables: VariableMapping | None
    dedupe_key: Expression | None


def compile_rules(
    match: Mapping[str, Any], variables: Mapping[str, Any] | None, dedupe_key: str | None
) -> RouteRules:
    """Compile everything; raises ``CompileError`` with every problem (paths from the route)."""
    problems: list[Problem] = []
    matcher = variable_mapping = expression = None
    try:
        matcher = compile_match(match)
    except CompileError as exc:
        problems.extend(p.under("match") for p in exc.problems)
    if variables is not None:
        try:
            variable_mapping = compile_variables(variables)
        except CompileError as exc:
            problems.extend(p.under("variables") for p in exc.problems)
    if dedupe_key is not None:
        try:
            expression = compile_expression(dedupe_key)
        except ExpressionSyntaxError as exc:
            problems.append(Problem(("dedupe", "key"), f"dedupe key: {exc}", exc.offset))
    if problems or matcher is None:
        raise CompileError(problems)
    return RouteRules(matcher, variable_mapping, expression)


def route_problems(route: Mapping[str, Any]) -> list[Problem]:
    """Problems in a raw (not yet validated) route's rules; shapes are pydantic's job."""
    match = route.get("match")
    variables = route.get("variables")
    dedupe = route.get("dedupe")
    key = dedupe.get("key") if isinstance(dedupe, dict) else None
    try:
        compile_rules(
            match if isinstance(match, dict) else {},
            variables if isinstance(variables, dict) else None,
            key if isinstance(key, str) else None,
        )
    except CompileError as exc:
        return list(exc.problems)
    return []
