"""``POST /api/config/reload``: reload the routing file now (admin token required).

The caller sends ``Authorization: Bearer $RELAY_ADMIN_TOKEN``; the token is compared in
constant time (digests of equal length, so not even its length leaks). Without
``RELAY_ADMIN_TOKEN`` the endpoint is disabled (403). The answer is the reload's result:
200 when the file is valid (``changed`` says whether new rules are in force), 422 with the
located errors when it is refused and the old rules stay in force.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from relay.logs import get_logger
from relay.routing.reloader import ReloadResult

__all__ = ["PATH", "authorized", "reload_route"]

PATH = "/api/config/reload"


def authorized(header: str | None, token: str) -> bool:
    """Whether ``Authorization`` carries ``Bearer <token>``, compared in constant time."""
    scheme, _, given = (header or "").partition(" ")
    if scheme.lower() != "bearer" or not given.strip():
        return False
    expected = hashlib.sha256(token.encode()).digest()
    presented = hashlib.sha256(given.strip().encode()).digest()
    return hmac.compare_digest(expected, presented)


def reload_route(
    reload: Callable[[str], Awaitable[ReloadResult]], admin_token: str | None
) -> Route:
    log = get_logger()

    async def endpoint(request: Request) -> Response:
        if not admin_token:
            detail = "set RELAY_ADMIN_TOKEN to enable the admin API"
            return JSONResponse({"error": "admin_disabled", "detail": detail}, status_code=403)
        if not authorized(request.headers.get("authorization"), admin_token):
            log.warning("relay.admin.unauthorized", path=PATH)
            return JSONResponse(
                {"error": "unauthorized", "detail": "send Authorization: Bearer <admin token>"},
                status_code=401,
                headers={"www-authenticate": "Bearer"},
            )
        result = await reload("admin")
        return JSONResponse(result.as_json(), status_code=200 if result.ok else 422)

    return Route(PATH, endpoint, methods=["POST"])
