"""The pages: events (live), one event, dead letters, the runs going on (with Stop), targets
and the config in force.

Each page is rendered on the server from the same views as the JSON API; ``app.js`` polls
the API for live updates and sends the actions (with the session's CSRF token)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from relay.store.base import DeliveryStatus
from relay.store.log_queries import DeliveryQuery
from relay.ui.templating import STATIC_DIR, Templates
from relay.views import queries
from relay.views.filters import (
    EVENT_STATUSES,
    EventFilter,
    FilterError,
    parse_cursor,
    parse_event_status,
    parse_time,
)
from relay.web.auth import SESSION_KEY
from relay.web.deps import AdminDeps
from relay.web.errors import ApiError

__all__ = ["page_routes"]

_SINCE_CHOICES = ("15m", "1h", "24h", "7d")
_PAGE = 50
_EVENT_FILTERS = ("source", "status", "route", "since", "q", "body")


def page_routes(deps: AdminDeps, templates: Templates) -> list[BaseRoute]:
    def context(request: Request, **extra: Any) -> dict[str, Any]:
        sid = request.scope.get("state", {}).get(SESSION_KEY)  # set by AdminAuth
        return {
            "csrf": deps.sessions.csrf(sid) if sid else "",
            "logged_in": sid is not None,
            "nav": True,
            "path": request.url.path,
            **extra,
        }

    def arg(request: Request, name: str) -> str:
        return request.query_params.get(name, "")[:200]

    async def events(request: Request) -> Response:
        now = deps.clock.now()
        try:
            f = EventFilter(
                source=arg(request, "source") or None,
                status=parse_event_status(arg(request, "status") or None),
                route=arg(request, "route") or None,
                since=parse_time(arg(request, "since") or None, now),
                text=arg(request, "q") or None,
                body=arg(request, "body") or None,
            )
            cursor = parse_cursor(arg(request, "cursor") or None, ("evt", "rej"))
        except FilterError as exc:
            raise ApiError(400, exc.code, exc.detail) from None
        page = await queries.list_events(deps.store, f, cursor, _PAGE, deps.redactor())
        table = deps.config.table
        return templates.render(
            "events.html",
            **context(
                request,
                page=page,
                title="Events",
                filters={
                    k: arg(request, k) for k in ("source", "status", "route", "since", "q", "body")
                },
                sources=sorted(table.sources),
                routes=sorted({r.name for rs in table.routes.values() for r in rs}),
                statuses=EVENT_STATUSES,
                since_choices=_SINCE_CHOICES,
            ),
        )

    async def event(request: Request) -> Response:
        found = await queries.event_detail(
            deps.store, request.path_params["event_id"], deps.redactor()
        )
        if found is None:
            return templates.render(
                "missing.html", 404, **context(request, title="Not found", what="event")
            )
        return templates.render("event.html", **context(request, event=found, title=found.id))

    async def dead_letters(request: Request) -> Response:
        now = deps.clock.now()
        try:
            since = parse_time(arg(request, "since") or None, now)
        except FilterError as exc:
            raise ApiError(400, exc.code, exc.detail) from None
        query = DeliveryQuery(
            statuses=queries.DEAD_LETTERS,
            route=arg(request, "route") or None,
            since=since,
            reason=arg(request, "reason") or None,
            limit=200,
        )
        page = await queries.list_deliveries(deps.store, query, deps.redactor())
        table = deps.config.table
        return templates.render(
            "dead_letters.html",
            **context(
                request,
                page=page,
                title="Dead letters",
                filters={k: arg(request, k) for k in ("route", "since", "reason")},
                routes=sorted({r.name for rs in table.routes.values() for r in rs}),
                since_choices=_SINCE_CHOICES,
            ),
        )

    async def runs(request: Request) -> Response:
        query = DeliveryQuery(
            statuses=(DeliveryStatus.RUNNING, DeliveryStatus.IN_FLIGHT),
            route=arg(request, "route") or None,
            limit=200,
        )
        page = await queries.list_deliveries(deps.store, query, deps.redactor())
        return templates.render(
            "runs.html", **context(request, page=page, title="Runs", now=deps.clock.now())
        )

    async def targets(request: Request) -> Response:
        found = await queries.list_targets(deps.store, deps.configured_targets())
        stats = await queries.stats(deps.store, deps.clock.now() - 86400, None)
        return templates.render(
            "targets.html",
            **context(
                request,
                targets=found,
                config=deps.config_status(),
                stats=stats,
                title="Targets",
            ),
        )

    return [
        Route("/ui/", events, methods=["GET"]),
        Route("/ui/events/{event_id}", event, methods=["GET"]),
        Route("/ui/dead-letters", dead_letters, methods=["GET"]),
        Route("/ui/runs", runs, methods=["GET"]),
        Route("/ui/targets", targets, methods=["GET"]),
        Mount("/ui/static", app=StaticFiles(directory=STATIC_DIR), name="ui-static"),
    ]
