"""Who may use the admin surfaces (``/api``, ``/ui``, ``/metrics``): plain ASGI middleware.

Open to all: ``/hooks/*`` (providers sign their requests), ``/healthz``, ``/readyz``, the
login page, the page's static files and ``/`` (a redirect to ``/ui/``). Everything else
needs, with ``RELAY_ADMIN_TOKEN``
set, either ``Authorization: Bearer <token>`` (scripts; no CSRF token needed) or the session
cookie the login page sets (the page; state-changing requests also carry the session's CSRF
token in ``X-CSRF-Token``). Wrong tokens count toward the per-address login throttle, which
answers wrong tokens 429 once it is full and never refuses the right one. The address is the
TCP peer's: uvicorn rewrites it from ``X-Forwarded-For`` only for the proxies given to
``relay serve --forwarded-allow-ips`` (none by default).

Without a token, only loopback clients are answered, and only when the ``Host`` they asked
for is a loopback name (so a web page cannot reach relay by rebinding its DNS name to
127.0.0.1); a state-changing request from a browser must come from relay's own origin. In a
container (``loopback=False``) nobody is answered without a token: there loopback is the
container, or with host networking every process on the host (relay/exposure.py).

The middleware puts who is acting in ``scope["state"]["admin_actor"]`` for audit entries:
``api-token``, ``ui`` or ``loopback``.
"""

from __future__ import annotations

import ipaddress
from http.cookies import SimpleCookie
from urllib.parse import quote, urlsplit

from starlette.datastructures import Headers
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from relay.logs import get_logger
from relay.store.base import StoreUnavailable
from relay.web.session import COOKIE, CSRF_HEADER, LoginThrottle, Sessions, token_matches

__all__ = [
    "ACTOR_KEY",
    "SESSION_KEY",
    "AdminAuth",
    "client_ip",
    "is_loopback_host",
    "is_public",
]

ACTOR_KEY = "admin_actor"
SESSION_KEY = "admin_session"  # the session id of a request made with the session cookie
_SAFE = frozenset({"GET", "HEAD", "OPTIONS"})
_PUBLIC_PATHS = frozenset({"/", "/healthz", "/readyz", "/ui/login"})  # "/": a redirect
_PUBLIC_PREFIXES = ("/hooks/", "/ui/static/")


def is_public(path: str) -> bool:
    return path in _PUBLIC_PATHS or path.startswith(_PUBLIC_PREFIXES)


def client_ip(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


def _loopback_address(value: str) -> bool:
    try:
        return ipaddress.ip_address(value.strip("[]")).is_loopback
    except ValueError:
        return False


def is_loopback_host(host: str) -> bool:
    """Whether a ``Host`` header names this machine's loopback (with or without a port)."""
    name = urlsplit(f"//{host}").hostname or ""
    return name == "localhost" or name.endswith(".localhost") or _loopback_address(name)


class AdminAuth:
    def __init__(
        self,
        app: ASGIApp,
        *,
        token: str | None,
        sessions: Sessions,
        throttle: LoginThrottle,
        loopback: bool = True,
    ) -> None:
        self.app = app
        self._token = token or None
        self._loopback_allowed = loopback
        self._sessions = sessions
        self._throttle = throttle
        self._log = get_logger()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or is_public(scope["path"]):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        try:
            refusal, actor = await self._check(scope, headers)
        except StoreUnavailable:  # a session cannot be told ended or not: refuse, for now
            refusal, actor = _error(503, "store_unavailable", "retry", **{"retry-after": "5"}), ""
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        scope.setdefault("state", {})[ACTOR_KEY] = actor
        await self.app(scope, receive, send)

    async def _check(self, scope: Scope, headers: Headers) -> tuple[Response | None, str]:
        method = scope["method"]
        ip = client_ip(scope)
        scheme, _, given = headers.get("authorization", "").partition(" ")
        if self._token is not None and scheme.lower() == "bearer":
            # the right token always passes: only failures are throttled (a typo made five
            # times must not lock the admin out), and per client address
            if given.strip() and token_matches(given.strip(), self._token):
                self._throttle.succeeded(ip)
                return None, "api-token"
            wait = self._throttle.retry_after(ip)
            if wait is not None:
                return _too_many(wait), ""
            self._throttle.failed(ip)
            self._log.warning("relay.admin.auth_failed", client_ip=ip, path=scope["path"])
            return _unauthorized("the bearer token is not the admin token"), ""
        cookie = _cookie(headers)
        sid = None if cookie is None else await self._sessions.active(cookie)
        if sid is not None:
            if method not in _SAFE and not self._sessions.csrf_ok(sid, headers.get(CSRF_HEADER)):
                self._log.warning("relay.admin.csrf_failed", client_ip=ip, path=scope["path"])
                return _error(403, "csrf_failed", "send the page's X-CSRF-Token header"), ""
            scope.setdefault("state", {})[SESSION_KEY] = sid
            return None, "ui"
        if self._token is None and not self._loopback_allowed:
            detail = "set RELAY_ADMIN_TOKEN: in a container the admin surfaces need a token"
            return _error(403, "admin_token_required", detail), ""
        if self._token is None:
            return self._loopback(scope, headers, ip)
        if method in ("GET", "HEAD") and scope["path"].startswith("/ui"):
            target = "/ui/login?next=" + quote(scope["path"], safe="/")
            return RedirectResponse(target, status_code=303), ""
        return _unauthorized("send Authorization: Bearer <admin token>, or log in at /ui/"), ""

    def _loopback(self, scope: Scope, headers: Headers, ip: str) -> tuple[Response | None, str]:
        if not _loopback_address(ip):
            detail = "without RELAY_ADMIN_TOKEN only loopback clients are answered"
            return _error(403, "admin_loopback_only", detail), ""
        host = headers.get("host", "")
        if not is_loopback_host(host):
            detail = "without RELAY_ADMIN_TOKEN, use a loopback address (127.0.0.1, localhost)"
            return _error(403, "admin_loopback_only", detail), ""
        if scope["method"] not in _SAFE:
            origin = headers.get("origin")
            cross = headers.get("sec-fetch-site") == "cross-site"
            if cross or (origin is not None and urlsplit(origin).netloc != host):
                return _error(403, "cross_origin", "a state change must come from relay's page"), ""
        return None, "loopback"


def _cookie(headers: Headers) -> str | None:
    raw = headers.get("cookie")
    if not raw:
        return None
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(raw)
    except Exception:  # a malformed Cookie header is no session
        return None
    morsel = jar.get(COOKIE)
    return None if morsel is None else morsel.value


def _error(status: int, code: str, detail: str, **headers: str) -> Response:
    return JSONResponse({"error": code, "detail": detail}, status_code=status, headers=headers)


def _unauthorized(detail: str) -> Response:
    return _error(401, "unauthorized", detail, **{"www-authenticate": "Bearer"})


def _too_many(wait: float) -> Response:
    return _error(
        429,
        "too_many_attempts",
        "too many failed logins from this address; wait and try again",
        **{"retry-after": str(int(wait + 0.999))},
    )
