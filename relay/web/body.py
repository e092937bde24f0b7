"""Reading a request body without trusting it: a size cap, a receipt deadline and a budget
for the bytes of all bodies held at once. The webhook endpoint (relay/http/receive.py) and
the admin surfaces' body limit (relay/web/body_limit.py) read bodies with it."""

from __future__ import annotations

import asyncio

from starlette.requests import ClientDisconnect
from starlette.types import Receive

__all__ = ["BodiesBusy", "BodyBudget", "BodyTimeout", "BodyTooLarge", "receive_body"]


class BodyTooLarge(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(f"the body is larger than {limit} bytes")
        self.limit = limit


class BodyTimeout(Exception):
    def __init__(self, seconds: float) -> None:
        super().__init__(f"the body was not received within {seconds:g} seconds")
        self.seconds = seconds


class BodiesBusy(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(f"relay holds {limit} bytes of request bodies already; retry in a moment")
        self.limit = limit


class BodyBudget:
    """The bytes of webhook bodies held in memory at once, over all requests: a body is
    counted as it arrives, until its request is answered. Large per-source limits (GitHub's
    25 MiB) then cannot add up, over many unsigned connections, to more than ``limit``."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0

    def take(self, size: int) -> bool:
        if self.used + size > self.limit:
            return False
        self.used += size
        return True

    def give(self, size: int) -> None:
        self.used -= size


async def receive_body(
    receive: Receive,
    declared: str | None,
    limit: int,
    within: float | None = None,
    budget: BodyBudget | None = None,
) -> bytes:
    """The raw body, refusing more than ``limit`` bytes before reading them all (``declared``
    is the request's Content-Length), and a body that has not fully arrived ``within``
    seconds after its headers (``BodyTimeout``); a client gone before the end raises
    Starlette's ``ClientDisconnect``. With ``budget``, every byte read is taken from it
    (``BodiesBusy`` when it is spent); the caller gives back ``len(body)`` once done."""
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge(limit)
    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(within):
            while True:
                message = await receive()
                if message["type"] != "http.request":
                    raise ClientDisconnect()
                chunk: bytes = message.get("body", b"")
                if size + len(chunk) > limit:
                    raise BodyTooLarge(limit)
                if budget is not None and not budget.take(len(chunk)):
                    raise BodiesBusy(budget.limit)
                size += len(chunk)
                chunks.append(chunk)
                if not message.get("more_body", False):
                    break
    except BaseException as exc:
        if budget is not None:
            budget.give(size)
        if isinstance(exc, TimeoutError):
            raise BodyTimeout(within or 0.0) from None
        raise
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)
