"""The page's routes: login and logout, the pages under ``/ui/`` and their static files, and
``/`` and ``/ui`` leading to them. relay/http/app.py mounts them, behind the admin surfaces'
auth and body limit (relay/web/)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from relay.ui.login import login_routes
from relay.ui.pages import page_routes
from relay.ui.templating import Templates
from relay.web.deps import AdminDeps

__all__ = ["ui_routes"]


def ui_routes(deps: AdminDeps) -> list[BaseRoute]:
    templates = Templates()

    async def ui_root(request: Request) -> Response:
        return RedirectResponse("/ui/", status_code=308)

    return [
        *login_routes(deps, templates),
        Route("/ui", ui_root, methods=["GET"]),
        Route("/", ui_root, methods=["GET"]),  # a browser pointed at relay lands on the page
        *page_routes(deps, templates),
    ]
