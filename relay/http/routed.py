"""The routing part of receiving a webhook: parse the verified body (inflated first when it
came compressed), evaluate the routes, and build one delivery per matching route."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from jmespath.exceptions import JMESPathError

from relay._utf8 import utf8_optional
from relay.body_format import UnprocessableBody
from relay.http.decompress import CompressedTooLarge, content_encoding, decompress
from relay.ids import new_id
from relay.providers.base import WebhookRequest
from relay.routing.evaluate import RouteDecision, evaluate, event_context
from relay.routing.table import CompiledSource, RoutingTable
from relay.routing.unrouted import why_unrouted
from relay.store.base import DeliveryStatus, EventStatus, NewDelivery
from relay.tracing import Span

__all__ = ["Routed", "TooLarge", "build_deliveries", "route_event"]


@dataclass(frozen=True, slots=True)
class Routed:
    """What routing made of a verified request (``hook``: with its body inflated)."""

    hook: WebhookRequest
    status: EventStatus
    error: str | None
    event_type: str | None
    event_id: str | None
    deliveries: list[NewDelivery]


@dataclass(frozen=True, slots=True)
class TooLarge:
    """The body inflates beyond the source's limit (answered 413)."""

    exc: CompressedTooLarge
    encoding: str | None


def build_deliveries(
    decisions: list[RouteDecision], context: Mapping[str, Any], now: float
) -> list[NewDelivery]:
    """One delivery per matching route, variables resolved now (the event is immutable).

    A route whose variables cannot be resolved gets a ``mapping_failed`` delivery with the
    reason; a matching route with ``stop: true`` ends the evaluation.
    """
    deliveries: list[NewDelivery] = []
    for decision in decisions:
        if not decision.delivers:
            continue
        route, variables, error = decision.route, decision.variables, decision.error
        run_options: dict[str, Any] | None = None
        try:
            run_options = route.run.for_event(context)
        except JMESPathError as exc:
            error = error or f"callback_url: {exc}"
        status = DeliveryStatus.MAPPING_FAILED if error is not None else DeliveryStatus.PENDING
        deliveries.append(
            NewDelivery(
                id=new_id("dlv", now),
                route=route.name,
                target=route.target,
                function_id=route.function_id,
                variables=variables,
                stream=route.stream,
                max_attempts=route.retry.max_attempts,
                retry_policy=route.retry_options,
                idempotent=route.idempotent,
                status=status,
                error=error,
                dedupe_key=decision.dedupe_key,
                dedupe_window=route.dedupe_window,
                run_options=run_options,
            )
        )
    return deliveries


def route_event(
    table: RoutingTable,
    source: CompiledSource,
    hook: WebhookRequest,
    now: float,
    client_ip: str | None,
    span: Span,
) -> Routed | TooLarge:
    """Parse and route ``hook``; ``span`` (relay.route) is told the status and the routes."""
    status, error, parsed = EventStatus.UNROUTED, None, None
    encoding = content_encoding(dict(hook.headers))
    body = hook.body
    try:
        if encoding is not None:  # signed as sent: inflated only now
            body = decompress(body, encoding, source.max_body_bytes)
            hook = dataclasses.replace(hook, body=body)
        parsed = source.parse(body, hook.headers.get("content-type", ""))
    except CompressedTooLarge as exc:
        span.error("body_too_large")
        return TooLarge(exc, encoding)
    except UnprocessableBody as exc:
        status, error = EventStatus.UNPROCESSABLE, str(exc)
    event_type = event_id = None
    # text from the body (any JSON string, a lone surrogate too) as UTF-8 can carry it
    if status is not EventStatus.UNPROCESSABLE:
        event_type = utf8_optional(source.provider.event_type(hook, parsed))
    event_id = utf8_optional(source.provider.event_id(hook, parsed))
    deliveries: list[NewDelivery] = []
    if status is not EventStatus.UNPROCESSABLE:
        context = event_context(
            body=parsed,
            headers=hook.headers,
            query=hook.query,
            event_type=event_type,
            event_id=event_id,
            source=source.name,
            received_at=now,
            client_ip=client_ip,
        )
        decisions = evaluate(table, source.name, context)
        deliveries = build_deliveries(decisions, context, now)
        status = EventStatus.ROUTED if deliveries else EventStatus.UNROUTED
        if not deliveries:
            content_type = hook.headers.get("content-type", "")
            error = why_unrouted(source.name, decisions, context, content_type)
        del context
    # the parsed body (about three times the body's size) is not needed to store it
    del parsed
    span.set("relay.status", status.value)
    span.set("relay.routes", [d.route for d in deliveries])
    if status is EventStatus.UNPROCESSABLE:
        span.error("unprocessable")
    return Routed(hook, status, error, event_type, event_id, deliveries)
