"""Everything the admin surfaces add to the app: routes (JSON API, OpenAPI document, page,
login, metrics), the auth middleware and the JSON error handlers."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from relay.admin.actions import action_routes
from relay.admin.api import read_routes
from relay.admin.auth import AdminAuth
from relay.admin.body_limit import AdminBodyLimit
from relay.admin.deps import AdminDeps
from relay.admin.errors import ApiError, http_exception_handler
from relay.admin.login import login_routes
from relay.admin.metrics_route import metrics_route
from relay.admin.openapi import openapi_document
from relay.admin.reload import reload_route
from relay.admin.session import LoginThrottle, Sessions
from relay.ui.pages import page_routes
from relay.ui.templating import Templates

if TYPE_CHECKING:
    from relay.http.app import RelayServices

__all__ = ["admin_deps", "admin_exception_handlers", "admin_middleware", "admin_routes"]


def admin_routes(deps: AdminDeps) -> list[BaseRoute]:
    templates = Templates()
    document: dict[str, Any] = {}

    async def openapi(request: Request) -> Response:
        if not document:  # built on first use: nothing to pay at start
            document.update(openapi_document())
        return JSONResponse(document)

    async def ui_root(request: Request) -> Response:
        return RedirectResponse("/ui/", status_code=308)

    return [
        Route("/api/openapi.json", openapi, methods=["GET"]),
        reload_route(deps.reload),
        *action_routes(deps),
        *read_routes(deps),
        metrics_route(deps),
        *login_routes(deps, templates),
        Route("/ui", ui_root, methods=["GET"]),
        Route("/", ui_root, methods=["GET"]),  # a browser pointed at relay lands on the page
        *page_routes(deps, templates),
    ]


def admin_middleware(deps: AdminDeps) -> list[Middleware]:
    """Who may ask first (``AdminAuth``), then the body's size cap and receipt deadline
    (``AdminBodyLimit``: 413, 408) for everything but ``/hooks/*``."""
    return [
        Middleware(
            AdminAuth,
            token=deps.admin_token,
            sessions=deps.sessions,
            throttle=deps.throttle,
            loopback=deps.admin_loopback,
        ),
        Middleware(AdminBodyLimit, max_bytes=deps.max_body_bytes, within=deps.receive_timeout),
    ]


def admin_exception_handlers() -> dict[Any, Any]:
    return {HTTPException: http_exception_handler, ApiError: http_exception_handler}


def admin_deps(services: RelayServices) -> AdminDeps:
    """The admin surfaces' view of a running relay (``RELAY_ADMIN_TOKEN`` from its env)."""
    token = services.settings.env.get("RELAY_ADMIN_TOKEN") or None
    return AdminDeps(
        store=services.store,
        clock=services.clock,
        config=services.config,
        reload=services.reload,
        worker=services.worker,
        metrics=services.metrics,
        sessions=Sessions(token, services.clock, store=services.store),
        throttle=LoginThrottle(services.clock),
        admin_token=token,
        handed_secrets=lambda: [s for v in services.handed.known.values() for s in v],
        receive_timeout=services.settings.receive_timeout,
        admin_loopback=services.settings.admin_loopback,
    )
