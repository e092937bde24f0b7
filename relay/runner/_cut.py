"""``cut_after_start``: close a request's connection without an answer.

ASGI has no message for "drop the connection". Under uvicorn, ``send`` is a method of the
request's cycle object, whose ``transport`` is the connection: ``RunnerApp`` (app.py) keeps
that cycle in the scope, and ``cut`` closes its transport, then waits (a few loop turns) until
uvicorn has seen the connection go, so it sends nothing more (no 500, no end of a stream).
Under another server (or an in-process test transport), ``cut`` raises ``ConnectionCut``: the
server then answers 500 if nothing was sent yet, or closes the connection mid-answer.
"""

from __future__ import annotations

import asyncio
from collections.abc import MutableMapping
from typing import Any

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

__all__ = ["ConnectionCut", "Silence", "cut", "keep_connection"]

_KEY = "relay.runner.connection"
_LOOP_TURNS = 100


class ConnectionCut(Exception):
    """The connection could not be closed from here: the server is left to end it."""


def keep_connection(scope: MutableMapping[str, Any], send: Send) -> None:
    """Remember uvicorn's request cycle (``send``'s owner) in ``scope``, when there is one."""
    cycle = getattr(send, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if transport is not None and callable(getattr(transport, "close", None)):
        scope[_KEY] = cycle


async def cut(scope: Scope) -> None:
    """Close the connection of ``scope``'s request now; raises ``ConnectionCut`` if it can't."""
    cycle = scope.get(_KEY)
    if cycle is None:
        raise ConnectionCut
    cycle.transport.close()
    for _ in range(_LOOP_TURNS):  # connection_lost runs on a later turn of the loop
        if getattr(cycle, "disconnected", True):
            return
        await asyncio.sleep(0)


class Silence(Response):
    """A response that sends nothing (the connection is gone)."""

    def __init__(self) -> None:
        self.status_code = 499  # never sent
        self.background = None
        self.body = b""
        self.raw_headers = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        return None
