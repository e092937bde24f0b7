"""Admin request bodies: a size cap and a receipt deadline before any admin handler runs.

``/hooks/*`` read their bodies with ``receive_body`` (the source's ``max_body_bytes`` and the
``--receive-timeout`` deadline). Everything else relay serves (the JSON API under ``/api/``,
the page and its ``/ui/login`` form, ``/metrics``, the health checks) goes through
``AdminBodyLimit``: it reads the whole body with the same ``receive_body`` first, then hands the
handler the bytes it buffered. So:

* a declared ``Content-Length`` over the cap is answered 413 before any of the body is read;
* a body (chunked or not) that grows past the cap is answered 413 as soon as it does;
* a body that has not fully arrived ``within`` seconds of its headers is answered 408.

Answers are JSON ``{"error": "body_too_large" | "body_timeout", "detail": ...}`` (the codes
``/hooks/*`` use) with ``Connection: close``. Nothing of the body is logged. The middleware sits
behind ``AdminAuth``: a request it refuses (401, 403, 429) is answered without its body being
waited for.
"""

from __future__ import annotations

from typing import Final

from starlette.datastructures import Headers
from starlette.requests import ClientDisconnect
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from relay.logs import get_logger
from relay.web.auth import client_ip
from relay.web.body import BodyTimeout, BodyTooLarge, receive_body

__all__ = ["MAX_ADMIN_BODY", "AdminBodyLimit", "buffered", "exempt"]

#: Largest body an admin request may carry (its JSON bodies are a few hundred bytes).
MAX_ADMIN_BODY: Final = 1024 * 1024
_HOOKS: Final = "/hooks/"


def exempt(path: str) -> bool:
    """Whether ``path`` reads its own body (the webhook endpoints: per-source limits)."""
    return path.startswith(_HOOKS)


def buffered(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that gives ``body`` as the whole request, then defers to ``receive``
    (which reports the client's disconnect)."""
    given = False

    async def replay() -> Message:
        nonlocal given
        if not given:
            given = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


class AdminBodyLimit:
    """Plain ASGI middleware: ``max_bytes`` per body, all of it ``within`` seconds (None: no
    deadline) after the request's headers."""

    def __init__(
        self, app: ASGIApp, *, max_bytes: int = MAX_ADMIN_BODY, within: float | None = None
    ) -> None:
        self.app = app
        self._max_bytes = max_bytes
        self._within = within
        self._log = get_logger()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or exempt(scope["path"]):
            await self.app(scope, receive, send)
            return
        path, ip = scope["path"], client_ip(scope)
        try:
            declared = Headers(scope=scope).get("content-length")
            body = await receive_body(receive, declared, self._max_bytes, self._within)
        except ClientDisconnect:
            return  # nobody left to answer
        except BodyTooLarge as exc:
            self._log.warning(
                "relay.admin.body_too_large", path=path, client_ip=ip, limit=exc.limit
            )
            await _refuse(413, "body_too_large", str(exc))(scope, receive, send)
            return
        except BodyTimeout as exc:
            self._log.warning(
                "relay.admin.body_timeout", path=path, client_ip=ip, seconds=exc.seconds
            )
            await _refuse(408, "body_timeout", str(exc))(scope, receive, send)
            return
        await self.app(scope, buffered(body, receive), send)


def _refuse(status: int, code: str, detail: str) -> JSONResponse:
    return JSONResponse(
        {"error": code, "detail": detail}, status_code=status, headers={"connection": "close"}
    )
