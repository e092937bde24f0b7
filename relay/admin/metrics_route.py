"""``GET /metrics``: Prometheus text, gauges read from the store and the worker first."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from relay.admin.endpoints import GET_METRICS
from relay.metrics.exposition import CONTENT_TYPE
from relay.web.deps import AdminDeps

__all__ = ["metrics_route"]


def metrics_route(deps: AdminDeps) -> Route:
    async def endpoint(request: Request) -> Response:
        await deps.metrics.refresh(
            store=deps.store,
            targets=deps.config.table.targets,
            worker=deps.worker,
            config=deps.config,
            now=deps.clock.now(),
        )
        return PlainTextResponse(deps.metrics.render(), headers={"content-type": CONTENT_TYPE})

    return GET_METRICS.route(endpoint)
