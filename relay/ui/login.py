"""``/ui/login`` and ``/ui/logout``: the admin token in, a session cookie out; logging out
ends the session in the store (``?everywhere=1``: every session).

Failed logins are throttled per client address (``LoginThrottle``: 5 a minute, then wrong
tokens get 429; the right one always logs in) and logged without what was typed. ``next``
only ever leads to a page under ``/ui/``.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from relay.logs import get_logger
from relay.ui.templating import Templates
from relay.web.auth import SESSION_KEY, client_ip
from relay.web.deps import AdminDeps, actor
from relay.web.session import token_matches

__all__ = ["login_routes", "safe_next"]

_MAX_FORM = 8 * 1024


def safe_next(value: str | None) -> str:
    """A local page under /ui/ to go to after logging in (anything else: the events)."""
    if not value or not value.startswith("/ui") or value.startswith("//") or "\\" in value:
        return "/ui/"
    if any(ord(c) < 0x20 for c in value):
        return "/ui/"
    return value


def login_routes(deps: AdminDeps, templates: Templates) -> list[Route]:
    log = get_logger()

    def page(request: Request, error: str | None, status: int, next_page: str) -> Response:
        return templates.render(
            "login.html",
            status,
            error=error,
            next_page=next_page,
            csrf="",
            nav=False,
            title="Log in",
            logged_in=False,
            path="/ui/login",
        )

    async def show(request: Request) -> Response:
        if not deps.admin_token:
            return RedirectResponse("/ui/", status_code=303)
        return page(request, None, 200, safe_next(request.query_params.get("next")))

    async def submit(request: Request) -> Response:
        if not deps.admin_token:
            return RedirectResponse("/ui/", status_code=303)
        ip = client_ip(request.scope)
        raw = await request.body()
        form = dict(parse_qsl(raw[:_MAX_FORM].decode("utf-8", "replace")))
        next_page = safe_next(form.get("next"))
        token = form.get("token", "")
        if not token or not token_matches(token, deps.admin_token):
            wait = deps.throttle.retry_after(ip)
            if wait is not None:  # only failures are throttled: the right token always logs in
                log.warning("relay.admin.login_throttled", client_ip=ip)
                response = page(request, "Too many failed attempts: wait a minute.", 429, "/ui/")
                response.headers["retry-after"] = str(int(wait + 0.999))
                return response
            deps.throttle.failed(ip)
            log.warning("relay.admin.login_failed", client_ip=ip)
            return page(request, "That is not the admin token.", 401, next_page)
        deps.throttle.succeeded(ip)
        log.info("relay.admin.login", client_ip=ip)
        response = RedirectResponse(next_page, status_code=303)
        deps.sessions.set_cookie(
            response, await deps.sessions.start(), secure=request.url.scheme == "https"
        )
        return response

    async def logout(request: Request) -> Response:
        """End this session (its cookie stops working at once, on every instance); with
        ``?everywhere=1``, end every session."""
        sid = request.scope.get("state", {}).get(SESSION_KEY)
        everywhere = request.query_params.get("everywhere", "") in ("1", "true")
        if everywhere:
            ended = await deps.sessions.end_all()
            log.info("relay.admin.logout", everywhere=True, sessions=ended, actor=actor(request))
        elif isinstance(sid, str):
            await deps.sessions.end(sid)
            log.info("relay.admin.logout", everywhere=False, sessions=1, actor=actor(request))
        response = RedirectResponse("/ui/login", status_code=303)
        deps.sessions.clear_cookie(response, secure=request.url.scheme == "https")
        return response

    return [
        Route("/ui/login", show, methods=["GET"]),
        Route("/ui/login", submit, methods=["POST"]),
        Route("/ui/logout", logout, methods=["POST"]),
    ]
