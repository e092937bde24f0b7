"""What keeps the runner cheap per run start, so that it is not the ceiling of a benchmark.

- ``StartRunShortcut``: ``POST /functions/{function_id}/runs/start`` goes straight to its
  handler, past Starlette's router and exception middleware; everything else (and a path
  under a ``root_path``) takes the usual way. Errors still reach ``ServerErrorMiddleware``.
  Other run paths (``runs/create``, ``runs/{run_id}``) take the router.
- ``EventStream``: a run's event stream in two writes (what is known at the start, then the
  rest once the run ended), without the task group Starlette's ``StreamingResponse`` starts
  per response. A run that has already ended is answered by a plain ``Response`` instead.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from relay.runner._cut import cut

__all__ = ["EVENT_STREAM_HEADERS", "EventStream", "StartRunShortcut"]

# The path Starlette would match for ``/functions/{function_id}/runs/start`` (``str`` param).
_START = re.compile(r"/functions/([^/]+)/runs/start")
EVENT_STREAM_HEADERS = {"Cache-Control": "no-cache"}


class StartRunShortcut:
    def __init__(self, app: ASGIApp, handler: Callable[[Request], Awaitable[Response]]) -> None:
        self.app = app
        self._handler = handler

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST" and not scope.get("root_path"):
            match = _START.fullmatch(scope["path"])
            if match is not None:
                scope["path_params"] = {"function_id": match[1]}
                response = await self._handler(Request(scope, receive, send))
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


class EventStream(Response):
    """``text/event-stream``: ``head`` at once, then what ``rest()`` gives (chunked).

    With ``cut_after_head``, the connection is closed right after ``head`` (see _cut.py).
    """

    def __init__(
        self, head: bytes, rest: Callable[[], Awaitable[bytes]], *, cut_after_head: bool = False
    ) -> None:
        # Not Response.__init__: it would render an empty body with content-length: 0.
        self.status_code = 200
        self.background = None
        self.body = b""
        self.raw_headers = [
            (b"content-type", b"text/event-stream; charset=utf-8"),
            (b"cache-control", b"no-cache"),
        ]
        self._head = head
        self._rest = rest
        self._cut = cut_after_head

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
        await send({"type": "http.response.body", "body": self._head, "more_body": True})
        if self._cut:
            await cut(scope)
            return
        tail = await self._rest()
        await send({"type": "http.response.body", "body": tail, "more_body": False})
