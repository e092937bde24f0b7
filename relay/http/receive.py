"""``/hooks/{source}``: verify, parse, route and store an incoming webhook, then answer."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from starlette.datastructures import QueryParams
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from relay._json import dumps_bytes
from relay.clock import Clock
from relay.faults import Faults
from relay.http.handed_secrets import HandedSecrets
from relay.http.hook_log import HookObserver
from relay.http.readiness import WriteHealth
from relay.http.routed import TooLarge, build_deliveries, route_event
from relay.ids import new_id
from relay.logs import get_logger
from relay.providers.base import VerificationError, WebhookRequest
from relay.redact import at_rest_headers, at_rest_query
from relay.routing.table import CompiledSource, RoutingTable
from relay.store.base import (
    DeliveryStatus,
    EventStatus,
    NewDelivery,
    NewEvent,
    Store,
    StoreUnavailable,
)
from relay.tracing import SERVER, Span, Tracing
from relay.web.body import BodiesBusy, BodyBudget, BodyTimeout, BodyTooLarge, receive_body

__all__ = ["HookEndpoint", "build_deliveries"]

_REJECT_MEDIA = ("multipart/form-data",)
DEFAULT_BODY_MEMORY = 256 * 1024 * 1024  # webhook bodies held at once (503 beyond)


def _json(content: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    """Starlette's ``JSONResponse``, encoded by orjson (every webhook's answer is one)."""
    return Response(dumps_bytes(content), status, headers, "application/json")


def _error(status: int, error: str, detail: str, **headers: str) -> Response:
    return _json({"error": error, "detail": detail}, status, headers)


class HookEndpoint:
    """The ASGI endpoint for ``/hooks/{source}``."""

    def __init__(
        self,
        *,
        table: Callable[[], RoutingTable],
        store: Store,
        clock: Clock,
        on_stored: Callable[[list[NewDelivery]], None],
        handed: HandedSecrets | None = None,
        observer: HookObserver | None = None,
        health: WriteHealth | None = None,
        receive_timeout: float | None = None,
        faults: Faults | None = None,
        body_memory: int = DEFAULT_BODY_MEMORY,
        tracing: Tracing | None = None,
    ) -> None:
        self._tracing = tracing or Tracing.off()
        self._budget = BodyBudget(body_memory)
        self._observer = observer
        self._health = health
        self._receive_timeout = receive_timeout
        self._faults = faults or Faults()
        self._handed = handed
        self._table = table
        self._store = store
        self._clock = clock
        self._on_stored = on_stored
        self._log = get_logger()

    async def handle(self, request: Request) -> Response:
        """The route's endpoint: what ``HookShortcut`` does not take (under a root path)."""
        return await self._respond(request.path_params["source"], request.scope, request.receive)

    async def asgi(self, name: str, scope: Scope, receive: Receive, send: Send) -> None:
        """The ASGI entry for ``HookShortcut``: no Starlette ``Request`` on the way."""
        response = await self._respond(name, scope, receive)
        await response(scope, receive, send)

    async def _respond(self, name: str, scope: Scope, receive: Receive) -> Response:
        table = self._table()
        source = table.sources.get(name)
        if source is None:
            return _error(404, "unknown_source", f"no source named {name[:64]!r}")
        method: str = scope["method"]
        if method != "POST" and not (method == "GET" and source.spec.allows_get):
            allow = "GET, POST" if source.spec.allows_get else "POST"
            return _error(405, "method_not_allowed", f"use {allow}", allow=allow)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        if not self._tracing.enabled:
            return await self._receive(table, source, scope, receive, headers, None)
        # relay.receive: verify, route and store as its children; continues the sender's trace
        with self._tracing.span(
            "relay.receive",
            kind=SERVER,
            parent=headers,
            attributes={"relay.source": name, "http.request.method": method},
        ) as span:
            response = await self._receive(table, source, scope, receive, headers, span)
            span.set("http.response.status_code", response.status_code)
            if response.status_code >= 500:
                span.error(f"HTTP {response.status_code}")
            return response

    async def _receive(
        self,
        table: RoutingTable,
        source: CompiledSource,
        scope: Scope,
        receive: Receive,
        headers: dict[str, str],
        span: Span | None,
    ) -> Response:
        name = source.name
        media = headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if media in _REJECT_MEDIA:
            return _error(415, "unsupported_media_type", f"{media} bodies are not accepted")
        try:
            body = await receive_body(
                receive,
                headers.get("content-length"),
                source.max_body_bytes,
                self._receive_timeout,
                self._budget,
            )
        except BodiesBusy as exc:
            self._log.warning("relay.hook.bodies_busy", source=name, limit=exc.limit)
            return _error(503, "busy", str(exc), connection="close", **{"retry-after": "1"})
        except BodyTooLarge as exc:
            self._incomplete("relay.hook.too_large", name, scope, limit=exc.limit)
            return _error(413, "body_too_large", str(exc), connection="close")
        except BodyTimeout as exc:
            self._incomplete("relay.hook.body_timeout", name, scope, seconds=exc.seconds)
            return _error(408, "body_timeout", str(exc), connection="close")
        except ClientDisconnect:  # nobody to answer: the answer below goes nowhere
            self._incomplete(
                "relay.hook.client_disconnected",
                name,
                scope,
                declared_bytes=headers.get("content-length"),
                detail="the client closed the connection before its body arrived",
            )
            return _error(400, "client_disconnected", "the body did not arrive")
        try:
            return await self._handle(table, source, scope, headers, body, span)
        finally:
            self._budget.give(len(body))

    def _incomplete(self, event: str, source: str, scope: Scope, **fields: object) -> None:
        """A request that ended before it was read: logged (a line a minute per source and
        client at most, with an observer)."""
        client = scope.get("client")
        client_ip: str | None = client[0] if client else None
        if self._observer is not None:
            self._observer.incomplete(event, source, client_ip, self._clock.now(), **fields)
        else:
            self._log.warning(event, source=source, client_ip=client_ip, **fields)

    async def _handle(
        self,
        table: RoutingTable,
        source: CompiledSource,
        scope: Scope,
        headers: dict[str, str],
        body: bytes,
        span: Span | None = None,
    ) -> Response:
        now = self._clock.now()
        tracing = self._tracing
        raw_query: str = scope["query_string"].decode("latin-1")
        query = dict(QueryParams(raw_query)) if raw_query else {}
        client = scope.get("client")
        client_ip: str | None = client[0] if client else None
        method: str = scope["method"]
        hook = WebhookRequest(
            method=method,
            path=scope["path"],
            headers=headers,
            query=query,
            body=body,
            raw_query=raw_query,
        )
        try:
            reply = source.provider.handshake(hook, now)
            if reply is None and method == "GET":
                return _error(400, "not_a_handshake", "GET is only for the provider's handshake")
            if reply is None:
                with tracing.span("relay.verify") as verifying:
                    try:
                        source.provider.verify(hook, now)
                    except VerificationError as exc:
                        verifying.error(exc.reason)
                        verifying.set("relay.reason", exc.reason)
                        raise
        except VerificationError as exc:
            if self._observer is not None:  # stores and logs it, a line per window at most
                self._observer.rejected(source.name, exc.reason, exc.detail, client_ip, now)
            else:
                self._log.warning(
                    "relay.hook.rejected", source=source.name, reason=exc.reason, detail=exc.detail
                )
            return _error(401, exc.reason, exc.detail or "signature verification failed")
        if reply is not None:
            self._log.info("relay.hook.handshake", source=source.name)
            if reply.handed_secret is not None and self._handed is not None:
                refused = await self._handed.accept(
                    source.name, source.provider, reply.handed_secret, now
                )
                if refused is not None:
                    return refused
            return Response(
                reply.body,
                status_code=reply.status_code,
                media_type=reply.media_type,
                headers=dict(reply.headers),
            )

        with tracing.span("relay.route") as routing:  # parse, evaluate, map
            routed = route_event(table, source, hook, now, client_ip, routing)
        if isinstance(routed, TooLarge):
            limit, encoding = routed.exc.limit, routed.encoding
            self._log.warning(
                "relay.hook.too_large", source=source.name, limit=limit, encoding=encoding
            )
            return _error(413, "body_too_large", str(routed.exc))
        hook, status, error = routed.hook, routed.status, routed.error
        event_type, event_id, deliveries = routed.event_type, routed.event_id, routed.deliveries
        body = hook.body
        relay_id = new_id("evt", now)
        event = NewEvent(
            id=relay_id,
            source=source.name,
            dedupe_key=event_id,
            provider_event_id=event_id,
            event_type=event_type,
            received_at=now,
            body=body,
            # credentials are masked at rest: verified already, and shown masked anyway
            headers=at_rest_headers(hook.headers),
            query=at_rest_query(hook.query),
            status=status,
            error=error,
            deliveries=tuple(deliveries),
            client_ip=client_ip,
            traceparent=None if span is None else span.traceparent,
        )
        try:
            with tracing.span("relay.store", attributes={"relay.event_id": relay_id}) as storing:
                try:
                    stored = await self._store.insert_event(event)
                except StoreUnavailable:
                    storing.error("store_unavailable")
                    raise
                storing.set("relay.duplicate", stored.duplicate)
        except StoreUnavailable as exc:
            self._log.error("relay.hook.store_unavailable", source=source.name, error=str(exc))
            if self._observer is not None:
                self._observer.store_failed(source.name, "insert_event", str(exc))
            if self._health is not None:  # /readyz: not ready until a write works again
                self._health.failed(str(exc))
            return _error(
                503,
                "store_unavailable",
                "the event could not be stored; retry",
                **{"retry-after": "5"},
            )
        if self._health is not None:
            self._health.succeeded()
        if span is not None:
            span.set("relay.event_id", stored.event_id)
            span.set("relay.duplicate", stored.duplicate)
        self._faults.hit("after_commit")
        self._log.info(
            "relay.hook.received",
            source=source.name,
            event_id=stored.event_id,
            provider_event_id=event_id,
            event_type=event_type,
            status=status.value,
            duplicate=stored.duplicate,
            routes=[d.route for d in deliveries if d.route not in stored.deduped_routes]
            if not stored.duplicate
            else [],
            deduped_routes=list(stored.deduped_routes),
            # why it is unprocessable; not why unrouted (that quotes body values): see the event
            error=error if status is EventStatus.UNPROCESSABLE else None,
        )
        if self._observer is not None:
            self._observer.received(source.name, status.value, stored.duplicate)
        if stored.conflict:
            self._log.warning(
                "relay.hook.conflict",
                source=source.name,
                event_id=stored.event_id,
                provider_event_id=event_id,
                detail="same provider event id, different body: the first is kept",
            )
            return _json({"id": stored.event_id, "duplicate": True, "conflict": True})
        if stored.duplicate:
            return _json({"id": stored.event_id, "duplicate": True})
        for d in deliveries:
            if d.status is DeliveryStatus.MAPPING_FAILED and d.route not in stored.deduped_routes:
                self._log.warning(
                    "relay.route.mapping_failed",
                    source=source.name,
                    event_id=stored.event_id,
                    route=d.route,
                    delivery_id=d.id,
                    error=d.error,
                )
                if self._observer is not None:
                    self._observer.mapping_failed(
                        source.name, d.route, stored.event_id, d.id, d.error or ""
                    )
        if deliveries:
            self._on_stored([d for d in deliveries if d.route not in stored.deduped_routes])
        return _json({"id": stored.event_id, "duplicate": stored.duplicate})
