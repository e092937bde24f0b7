"""``POST /api/config/reload``: reload the routing file now.

Like every admin endpoint it is behind ``AdminAuth`` (relay/web/auth.py): the admin token
as a bearer token or the page's session, or a loopback client when no token is set. The
answer is the reload's result: 200 when the file is valid (``changed`` says whether new rules
are in force), 422 with the located errors when it is refused and the old rules stay.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from relay.admin.endpoints import RELOAD_CONFIG
from relay.routing.reloader import ReloadResult
from relay.web.session import token_matches

__all__ = ["authorized", "reload_route"]


def authorized(header: str | None, token: str) -> bool:
    """Whether ``Authorization`` carries ``Bearer <token>``, compared in constant time."""
    scheme, _, given = (header or "").partition(" ")
    if scheme.lower() != "bearer" or not given.strip():
        return False
    return token_matches(given.strip(), token)


def reload_route(reload: Callable[[str], Awaitable[ReloadResult]]) -> Route:
    async def endpoint(request: Request) -> Response:
        result = await reload("admin")
        return JSONResponse(result.as_json(), status_code=200 if result.ok else 422)

    return RELOAD_CONFIG.route(endpoint)
