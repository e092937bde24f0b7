"""``HookShortcut``: ``/hooks/{source}`` goes straight to its endpoint.

A webhook needs none of what the admin surfaces stack in front of the router (authentication,
the admin body cap, the exception middleware, route matching, Starlette's ``Request``), and
every microsecond of the receive path is paid by every provider's delivery. Anything else,
including a path under a ``root_path`` or a method the hook route does not take, goes the
usual way; errors still reach ``ServerErrorMiddleware``, which sits outside.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Final

from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["HOOK_METHODS", "HookShortcut"]

_PREFIX: Final = "/hooks/"
#: The methods the ``/hooks/{source}`` route answers (HEAD comes with GET).
HOOK_METHODS: Final = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"})


class HookShortcut:
    def __init__(
        self, app: ASGIApp, hooks: Callable[[str, Scope, Receive, Send], Awaitable[None]]
    ) -> None:
        self.app = app
        self._hooks = hooks

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not scope.get("root_path"):
            path: str = scope["path"]
            if path.startswith(_PREFIX) and scope["method"] in HOOK_METHODS:
                source = path[len(_PREFIX) :]
                if source and "/" not in source:
                    await self._hooks(source, scope, receive, send)
                    return
        await self.app(scope, receive, send)
