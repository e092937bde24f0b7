"""Evaluating a source's routes against one event: the live path and dry runs share this.

Every enabled route is tried in file order and each match is one delivery (fan-out), until
a matching route with ``stop: true`` ends the evaluation. Each decision carries why a route
did not match, the variables it would send (or why they could not be resolved) and its
dedupe key.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jmespath.exceptions

from relay._utf8 import utf8_text
from relay.routing.expressions import render_value
from relay.routing.mapping import MappingError, default_variables
from relay.routing.table import CompiledRoute, RoutingTable

__all__ = ["MAX_DEDUPE_KEY", "RouteDecision", "evaluate", "event_context"]

MAX_DEDUPE_KEY = 512  # longer keys are stored as their SHA-256


@dataclass(frozen=True, slots=True)
class RouteDecision:
    route: CompiledRoute
    matched: bool
    reason: str | None = None  # why it did not match, or was not evaluated
    variables: dict[str, Any] | None = None
    error: str | None = None  # why the variables could not be resolved (mapping_failed)
    dedupe_key: str | None = None

    @property
    def delivers(self) -> bool:
        """Whether the live path creates a delivery (possibly a ``mapping_failed`` one)."""
        return self.matched and self.route.enabled


def event_context(
    *,
    body: Any,
    headers: Mapping[str, str],
    query: Mapping[str, str],
    event_type: str | None,
    event_id: str | None,
    source: str,
    received_at: float,
    client_ip: str | None,
) -> dict[str, Any]:
    """What match patterns, ``when:`` and variables see of an event."""
    return {
        "body": body,
        "headers": {k.lower(): v for k, v in headers.items()},
        "query": dict(query),
        "event_type": event_type,
        "event_id": event_id,
        "source": source,
        "client_ip": client_ip,
        "received_at": received_at,
    }


def _dedupe_key(route: CompiledRoute, context: Mapping[str, Any]) -> str | None:
    if route.dedupe_key is None:
        return None
    try:
        value = route.dedupe_key.search(context)
    except jmespath.exceptions.JMESPathError:
        return None
    if value is None:
        return None
    key = utf8_text(render_value(value))  # a lone surrogate from the body: escaped
    if len(key) > MAX_DEDUPE_KEY:
        return "sha256:" + hashlib.sha256(key.encode()).hexdigest()
    return key


def _decide(route: CompiledRoute, context: Mapping[str, Any]) -> RouteDecision:
    reason = route.matcher.explain(context)
    if reason is not None:
        return RouteDecision(route, False, reason)
    variables: dict[str, Any] | None = None
    error = None
    try:
        variables = (
            route.variables.apply(context)
            if route.variables is not None
            else default_variables(context)
        )
    except MappingError as exc:
        error = utf8_text(str(exc))
    return RouteDecision(route, True, None, variables, error, _dedupe_key(route, context))


def evaluate(
    table: RoutingTable,
    source: str,
    context: Mapping[str, Any],
    *,
    include_disabled: bool = False,
) -> list[RouteDecision]:
    """One decision per enabled route of ``source`` (and, for dry runs, disabled ones)."""
    decisions: list[RouteDecision] = []
    stopped_by: str | None = None
    for route in table.routes_for(source):
        if stopped_by is not None:
            reason = f"not evaluated: route {stopped_by!r} matched first and has stop: true"
            decisions.append(RouteDecision(route, False, reason))
            continue
        decision = _decide(route, context)
        decisions.append(decision)
        if decision.matched and route.stop:
            stopped_by = route.name
    if include_disabled:
        for route in table.disabled.get(source, ()):
            decision = _decide(route, context)
            would = "it would match" if decision.matched else f"and {decision.reason}"
            decisions.append(RouteDecision(route, False, f"disabled (enabled: false); {would}"))
    return decisions
