"""The admin API's routes: the JSON API under ``/api`` (reads, actions, config reload), its
OpenAPI document and ``/metrics``. relay/http/app.py mounts them, behind the admin surfaces'
auth and body limit (relay/web/)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from relay.admin.actions import action_routes
from relay.admin.api import read_routes
from relay.admin.metrics_route import metrics_route
from relay.admin.openapi import openapi_document
from relay.admin.reload import reload_route
from relay.web.deps import AdminDeps

__all__ = ["admin_routes"]


def admin_routes(deps: AdminDeps) -> list[BaseRoute]:
    document: dict[str, Any] = {}

    async def openapi(request: Request) -> Response:
        if not document:  # built on first use: nothing to pay at start
            document.update(openapi_document())
        return JSONResponse(document)

    return [
        Route("/api/openapi.json", openapi, methods=["GET"]),
        reload_route(deps.reload),
        *action_routes(deps),
        *read_routes(deps),
        metrics_route(deps),
    ]
