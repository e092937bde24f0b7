"""The JSON API's reads: events, deliveries, targets, stats and the config in force.

Lists are pages, newest first: ``?limit=`` (1-500, default 50) and ``?cursor=`` (the
``next_cursor`` of the page before) with filters; ``{"items": [...], "next_cursor": ...}``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from relay._json import dumps_bytes
from relay.admin import endpoints
from relay.store.log_queries import DeliveryQuery
from relay.views import queries
from relay.views.filters import (
    EventFilter,
    FilterError,
    parse_cursor,
    parse_delivery_statuses,
    parse_event_status,
    parse_limit,
    parse_time,
)
from relay.views.models import plain
from relay.web.deps import AdminDeps
from relay.web.errors import ApiError

__all__ = ["json_model", "read_routes"]

Handler = Callable[[Request], Awaitable[Response]]
_MAX_TEXT = 200
_STATS_WINDOW = 24 * 3600.0  # what /api/stats covers without ?since=


def json_model(model: object, status: int = 200) -> Response:
    """A view (``relay.views.models``), or a list of them, as JSON (``plain``); text from a
    body may hold a lone surrogate, which goes out as its ``\\uXXXX`` escape
    (``relay._json``), never as bytes that are not UTF-8."""
    return Response(dumps_bytes(plain(model)), status, media_type="application/json")


def _text(request: Request, name: str) -> str | None:
    value = request.query_params.get(name)
    if value is None or value == "":
        return None
    if len(value) > _MAX_TEXT:
        raise FilterError("bad_filter", f"{name}: at most {_MAX_TEXT} characters")
    return value


def _guard(handler: Handler) -> Handler:
    async def guarded(request: Request) -> Response:
        try:
            return await handler(request)
        except FilterError as exc:
            raise ApiError(400, exc.code, exc.detail) from None

    return guarded


def read_routes(deps: AdminDeps) -> list[Route]:
    async def events(request: Request) -> Response:
        now = deps.clock.now()
        f = EventFilter(
            source=_text(request, "source"),
            status=parse_event_status(_text(request, "status")),
            route=_text(request, "route"),
            since=parse_time(_text(request, "since"), now),
            until=parse_time(_text(request, "until"), now, "until"),
            text=_text(request, "q"),
            body=_text(request, "body"),
        )
        cursor = parse_cursor(_text(request, "cursor"), ("evt", "rej"))
        limit = parse_limit(_text(request, "limit"))
        page = await queries.list_events(deps.store, f, cursor, limit, deps.redactor())
        return json_model(page)

    async def event(request: Request) -> Response:
        event_id = request.path_params["event_id"]
        found = await queries.event_detail(deps.store, event_id, deps.redactor())
        if found is None:
            raise ApiError(404, "not_found", "no event with this id")
        return json_model(found)

    async def deliveries(request: Request) -> Response:
        now = deps.clock.now()
        event_id = _text(request, "event_id")
        query = DeliveryQuery(
            statuses=parse_delivery_statuses(request.query_params.getlist("status")),
            route=_text(request, "route"),
            target=_text(request, "target"),
            event_ids=() if event_id is None else (event_id,),
            since=parse_time(_text(request, "since"), now),
            until=parse_time(_text(request, "until"), now, "until"),
            reason=_text(request, "reason"),
            before=parse_cursor(_text(request, "cursor"), ("dlv",)),
            limit=parse_limit(_text(request, "limit")),
        )
        return json_model(await queries.list_deliveries(deps.store, query, deps.redactor()))

    async def delivery(request: Request) -> Response:
        delivery_id = request.path_params["delivery_id"]
        found = await queries.delivery_detail(deps.store, delivery_id, deps.redactor())
        if found is None:
            raise ApiError(404, "not_found", "no delivery with this id")
        return json_model(found)

    async def targets(request: Request) -> Response:
        found = await queries.list_targets(deps.store, deps.configured_targets())
        return json_model(list(found))

    async def stats(request: Request) -> Response:
        now = deps.clock.now()
        since = parse_time(_text(request, "since"), now)
        if since is None:  # absent, empty or blank: the last day
            since = now - _STATS_WINDOW
        until = parse_time(_text(request, "until"), now, "until")
        return json_model(await queries.stats(deps.store, since, until))

    async def config(request: Request) -> Response:
        return json_model(deps.config_status())

    return [
        endpoints.LIST_EVENTS.route(_guard(events)),
        endpoints.GET_EVENT.route(_guard(event)),
        endpoints.LIST_DELIVERIES.route(_guard(deliveries)),
        endpoints.GET_DELIVERY.route(_guard(delivery)),
        endpoints.LIST_TARGETS.route(_guard(targets)),
        endpoints.GET_STATS.route(_guard(stats)),
        endpoints.GET_CONFIG.route(_guard(config)),
    ]
