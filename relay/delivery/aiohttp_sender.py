"""``AiohttpSender``: relay's ``Sender`` (relay/delivery/outbound.py), one
``aiohttp.ClientSession`` opened at the first request.

- Timeouts: ``connect`` bounds name resolution, TCP and TLS; ``pool`` the wait for a turn
  under ``max_connections``; ``read`` each wait for answer bytes once the request is
  written; ``write`` writing a body bigger than one socket buffer (64 KiB), piece by piece.
- Progress: ``CONNECTING`` before the turn and the connection, ``SENDING`` from aiohttp's
  ``on_request_headers_sent`` trace, which aiohttp calls before it writes (or buffers) any
  byte of the request.
- Failures: ``NotSent`` only when ``SENDING`` was not told; after it ``AnswerTimeout`` or
  ``AnswerLost``. A request is never sent twice: a kept-alive connection that the server
  closed is found so before the request is handed to it, and replaced.
- No redirects, no cookies, no headers of aiohttp's own but ``Host`` and
  ``Content-Length``. Certificates are verified against certifi's bundle, or
  ``SSL_CERT_FILE`` / ``SSL_CERT_DIR`` (as httpx does), unless ``ssl_context`` is given.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import ssl
import types
from collections.abc import AsyncIterator, Callable, Mapping

import aiohttp
import certifi
from aiohttp.connector import Connection
from aiohttp.tracing import Trace
from yarl import URL

from relay.delivery.outbound import (
    CONNECTING,
    SENDING,
    AnswerLost,
    AnswerTimeout,
    NotSent,
    Progress,
    SendError,
    Timeouts,
)

__all__ = ["AiohttpSender"]

# Headers aiohttp would add on its own: a request carries the caller's, or none.
_NO_AUTO_HEADERS = ("Accept", "User-Agent", "Accept-Encoding", "Content-Type")
_PIECE = 0x10000  # a bigger body is written in pieces of this size, under the write timeout
_STALE_TRIES = 3  # kept-alive connections found closed, replaced, for one request


class _Connector(aiohttp.TCPConnector):
    """A connector that never hands over a kept-alive connection the server has closed: a
    server may close one right after an answer, without ``Connection: close``, and the close
    reaches the event loop a moment after the answer. One turn of the loop lets it arrive."""

    async def connect(
        self,
        req: aiohttp.ClientRequest,
        traces: list[Trace],
        timeout: aiohttp.ClientTimeout,  # noqa: ASYNC109 (aiohttp's signature)
    ) -> Connection:
        for _ in range(_STALE_TRIES):
            conn = await super().connect(req, traces, timeout)
            try:
                await asyncio.sleep(0)
            except BaseException:  # cancelled: the connection is not left taken
                conn.close()
                raise
            transport = conn.transport
            if transport is not None and not transport.is_closing():
                return conn
            conn.close()
        return await super().connect(req, traces, timeout)


class _Flight:
    """How far one request got; ``SENDING`` goes to its ``progress``."""

    __slots__ = ("progress", "sent", "write_timed_out")

    def __init__(self, progress: Progress | None) -> None:
        self.progress = progress
        self.sent = False
        self.write_timed_out = False


async def _on_headers_sent(
    session: aiohttp.ClientSession,
    context: types.SimpleNamespace,
    params: aiohttp.TraceRequestHeadersSentParams,
) -> None:
    flight: _Flight | None = context.trace_request_ctx
    if flight is None:
        return
    flight.sent = True  # before the await: no cancellation comes in between
    if flight.progress is not None:
        await flight.progress(SENDING)


def _failure(exc: BaseException, flight: _Flight) -> SendError | None:
    """relay's failure for aiohttp's (None: not a transport failure, let it through)."""
    message = str(exc) or type(exc).__name__
    if isinstance(exc, TimeoutError):  # aiohttp's connect and socket timeouts are, too
        if not flight.sent:
            return NotSent(f"connect timeout: {message}")
        if flight.write_timed_out:
            return AnswerTimeout("timed out writing the request body")
        return AnswerTimeout(f"read timeout: {message}")
    if not isinstance(exc, aiohttp.ClientError | OSError):
        return None
    if not flight.sent:
        return NotSent(message)
    return AnswerLost(f"{type(exc).__name__}: {message}")


@functools.lru_cache(maxsize=64)
def _client_timeout(connect: float | None, read: float | None) -> aiohttp.ClientTimeout:
    return aiohttp.ClientTimeout(total=None, connect=connect, sock_connect=connect, sock_read=read)


@functools.lru_cache(maxsize=1024)
def _url(url: str) -> URL:
    return URL(url, encoded=True)


def _nothing() -> None:
    pass


class _Answer:
    """An answer as aiohttp receives it; closing it frees the connection (and the turn)."""

    __slots__ = ("_flight", "_release", "_response", "headers", "status_code")

    def __init__(
        self, response: aiohttp.ClientResponse, flight: _Flight, release: Callable[[], None]
    ) -> None:
        self._response = response
        self._flight = flight
        self._release = release
        self.status_code = response.status
        self.headers: Mapping[str, str] = response.headers

    async def chunks(self) -> AsyncIterator[bytes]:
        content = self._response.content
        while True:
            try:
                chunk = await content.readany()
            except Exception as exc:
                failure = _failure(exc, self._flight)
                if failure is None:
                    raise
                raise failure from exc
            if not chunk:
                return
            yield chunk

    async def read(self) -> bytes:
        return b"".join([chunk async for chunk in self.chunks()])

    async def close(self) -> None:
        response = self._response
        if response.content.at_eof():
            response.release()  # read whole: the connection is kept alive
        else:
            response.close()  # cut short: the connection is dropped
        self._release()
        self._release = _nothing


class AiohttpSender:
    """``max_connections`` caps the requests in flight (None: no cap; relay's worker caps
    what is in flight per target); idle connections are kept ``keepalive`` seconds (0: none
    kept, None: until the server closes them)."""

    def __init__(
        self,
        *,
        max_connections: int | None = None,
        keepalive: float | None = 5.0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.max_connections = max_connections
        self._slots = asyncio.Semaphore(max_connections) if max_connections else None
        self._keepalive = keepalive
        self._ssl = ssl_context
        self._session: aiohttp.ClientSession | None = None
        self._closed = False

    def _open(self) -> aiohttp.ClientSession:
        if self._closed:
            raise RuntimeError("the sender is closed")
        context = self._ssl if self._ssl is not None else _default_ssl_context()
        if self._keepalive == 0:
            connector = _Connector(limit=0, force_close=True, ssl=context)
        else:
            connector = _Connector(
                limit=0, limit_per_host=0, keepalive_timeout=self._keepalive, ssl=context
            )
        tracing = aiohttp.TraceConfig()
        tracing.on_request_headers_sent.append(_on_headers_sent)
        self._session = aiohttp.ClientSession(
            connector=connector,
            auto_decompress=True,  # an answer compressed unasked is decoded
            cookie_jar=aiohttp.DummyCookieJar(),
            skip_auto_headers=_NO_AUTO_HEADERS,
            timeout=aiohttp.ClientTimeout(total=None),
            requote_redirect_url=False,
            trace_configs=[tracing],
        )
        return self._session

    async def _turn(self, wait: float | None) -> Callable[[], None]:
        """Wait for a turn under ``max_connections``; the function that gives it back."""
        slots = self._slots
        if slots is None:
            return _nothing
        try:
            async with asyncio.timeout(wait):
                await slots.acquire()
        except TimeoutError:
            raise NotSent("no connection free in time") from None
        return slots.release

    async def send(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes = b"",
        *,
        timeouts: Timeouts,
        progress: Progress | None = None,
    ) -> _Answer:
        if not url.startswith(("http://", "https://")):
            raise NotSent(f"unsupported URL scheme: {url.split(':', 1)[0]!r}")
        session = self._session or self._open()
        if progress is not None:
            await progress(CONNECTING)
        flight = _Flight(progress)
        release = await self._turn(timeouts.pool)
        data: bytes | AsyncIterator[bytes] | None = body or None
        deadline = asyncio.timeout(None)  # the write timeout of a body sent in pieces
        if len(body) > _PIECE:
            data = _pieces(body, deadline, timeouts.write)
            headers = {**headers, "Content-Length": str(len(body))}
        try:
            async with deadline:
                response = await session.request(
                    method,
                    _url(url),
                    headers=headers,
                    data=data,
                    allow_redirects=False,
                    timeout=_client_timeout(timeouts.connect, timeouts.read),
                    trace_request_ctx=flight,
                )
        except Exception as exc:
            release()
            flight.write_timed_out = deadline.expired()
            failure = _failure(exc, flight)
            if failure is None:
                raise
            raise failure from exc
        except BaseException:  # cancelled
            release()
            raise
        return _Answer(response, flight, release)

    async def aclose(self) -> None:
        self._closed = True
        session, self._session = self._session, None
        if session is not None:
            with contextlib.suppress(Exception):
                await session.close()

    async def __aenter__(self) -> AiohttpSender:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


async def _pieces(
    body: bytes, deadline: asyncio.Timeout, write: float | None
) -> AsyncIterator[bytes]:
    """``body`` in pieces; aiohttp asks for the next once it has written the last, so each
    piece renews the write deadline, and the deadline ends with the body."""
    loop = asyncio.get_running_loop()
    view = memoryview(body)
    for start in range(0, len(body), _PIECE):
        if write is not None:
            deadline.reschedule(loop.time() + write)
        yield bytes(view[start : start + _PIECE])
    deadline.reschedule(None)


def _default_ssl_context() -> ssl.SSLContext:
    """Certificates verified as httpx verifies them: ``SSL_CERT_FILE`` / ``SSL_CERT_DIR``,
    else certifi's bundle."""
    cafile = os.environ.get("SSL_CERT_FILE")
    capath = os.environ.get("SSL_CERT_DIR")
    if cafile or capath:
        return ssl.create_default_context(cafile=cafile or None, capath=capath or None)
    return ssl.create_default_context(cafile=certifi.where())
