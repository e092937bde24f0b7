"""An ``httpx.AsyncBaseTransport`` over one ``aiohttp.ClientSession``, and relay's client.

Relay keeps httpx's API (``httpx.AsyncClient``; tests use ``httpx.MockTransport``) but
sends with aiohttp, whose HTTP/1.1 client costs a fraction of httpcore's per request.

What the transport keeps from httpx/httpcore:

- Timeouts from ``request.extensions["timeout"]``: ``connect`` (name resolution, TCP and
  TLS), ``pool`` (waiting for a turn under ``max_connections``), ``read`` (each wait for
  response bytes once the request is written) and ``write`` (each wait for the socket to
  take more of a body).
- Exceptions: ``ConnectError``/``ConnectTimeout``/``PoolTimeout`` only when nothing of the
  request was written; after that ``ReadTimeout``, ``WriteTimeout``, ``RemoteProtocolError``
  or ``ReadError``.
- The ``trace`` request extension, called with httpcore-style event names, so that a caller
  can tell "getting a connection" (``connection.acquire.started``: nothing sent) from "the
  request is going out" (``http11.send_request_headers.started``: it may reach the server).
  aiohttp buffers the request line and headers and writes them together with the body's
  first bytes, from the body's ``write_with_length``: the transport's body reports the second
  event there, before any byte of the request is written. (A request without a body, or
  with ``Expect``, is reported as going out when it is handed to aiohttp.)
- No redirects, no automatic decompression (httpx decodes ``Content-Encoding`` itself), no
  cookie jar, no default headers of aiohttp's own: the request goes out with httpx's
  headers. A request is never sent twice, except one that found its kept-alive connection
  closed by the server before a byte of it was written: that one goes on a new connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from typing import Any, Protocol

import aiohttp
import httpx
from aiohttp.abc import AbstractStreamWriter
from yarl import URL

__all__ = [
    "CONNECTING",
    "SENDING",
    "AiohttpTransport",
    "DeliveryClient",
    "DirectAnswer",
    "RunAnswer",
]

Trace = Callable[[str, Mapping[str, Any]], Awaitable[None]]

# Headers that describe the body: aiohttp sets Content-Length from the bytes it sends.
_BODY_HEADERS = frozenset({"content-length", "transfer-encoding"})
# Headers aiohttp would add on its own: a request carries the caller's, or none.
_NO_AUTO_HEADERS = ("Accept", "User-Agent", "Accept-Encoding", "Content-Type")
# aiohttp's writer waits for the socket only once this much of a body is buffered.
_WRITE_BUFFER = 0x10000
# Sends of one request on kept-alive connections found closed before anything was written.
_STALE_TRIES = 3
_NOTHING: dict[str, Any] = {}
CONNECTING = "connection.acquire.started"
SENDING = "http11.send_request_headers.started"


class _Flight:
    """How far one send of a request got; events go to the request's ``trace``."""

    __slots__ = ("sent", "stale", "trace", "write_timed_out")

    def __init__(self, trace: Trace | None) -> None:
        self.trace = trace
        self.sent = False  # the request was about to be written (or was)
        self.stale = False  # the kept-alive connection was closed: nothing was written
        self.write_timed_out = False

    async def sending(self) -> None:
        self.sent = True  # before the await: no cancellation comes in between
        if self.trace is not None:
            await self.trace(SENDING, _NOTHING)


class _Body(aiohttp.BytesPayload):
    """A request body that reports the request going out, just before it is written.

    When the kept-alive connection turns out closed by the server at that moment, nothing
    was written: the send is marked stale (the transport sends it on a new connection).
    A big body's writes wait at most ``write_timeout`` for the socket (httpx's ``write``).
    """

    def __init__(self, value: bytes, write_timeout: float | None, flight: _Flight) -> None:
        super().__init__(value, content_type=None)
        self._write_timeout = write_timeout if len(value) > _WRITE_BUFFER else None
        self._flight = flight

    async def write_with_length(
        self, writer: AbstractStreamWriter, content_length: int | None
    ) -> None:
        transport = writer.transport
        if writer.output_size == 0 and (transport is None or transport.is_closing()):
            self._flight.stale = True
            raise aiohttp.ClientConnectionResetError("the connection closed before the request")
        await self._flight.sending()
        if self._write_timeout is None:  # a small body never waits for the socket
            await super().write_with_length(writer, content_length)
            return
        try:
            async with asyncio.timeout(self._write_timeout):
                await super().write_with_length(writer, content_length)
        except TimeoutError:
            self._flight.write_timed_out = True
            raise


@functools.lru_cache(maxsize=64)
def _client_timeout(connect: float | None, read: float | None) -> aiohttp.ClientTimeout:
    # ``connect`` bounds name resolution, TCP and TLS (the connector never queues);
    # ``sock_read`` each wait for response bytes once the request is written.
    return aiohttp.ClientTimeout(total=None, connect=connect, sock_connect=connect, sock_read=read)


def _mapped(exc: BaseException, flight: _Flight, request: httpx.Request | None) -> Exception | None:
    """httpx's exception for aiohttp's (None: not a transport failure, let it through)."""
    message = str(exc) or type(exc).__name__
    if flight.stale:
        return httpx.ConnectError(
            f"connection closed before the request: {message}", request=request
        )
    if isinstance(exc, aiohttp.ConnectionTimeoutError) and not flight.sent:
        return httpx.ConnectTimeout(message, request=request)
    if isinstance(exc, aiohttp.ClientConnectorError) and not flight.sent:
        return httpx.ConnectError(message, request=request)
    if isinstance(exc, TimeoutError):  # aiohttp's socket timeouts are TimeoutErrors too
        if not flight.sent:
            return httpx.ConnectTimeout(message, request=request)
        if flight.write_timed_out:
            return httpx.WriteTimeout("timed out writing the request body", request=request)
        return httpx.ReadTimeout(message, request=request)
    if not isinstance(exc, aiohttp.ClientError | OSError):
        return None
    if not flight.sent:
        return httpx.ConnectError(message, request=request)
    if isinstance(exc, aiohttp.ServerDisconnectedError | aiohttp.ClientPayloadError):
        return httpx.RemoteProtocolError(message, request=request)
    if isinstance(exc, aiohttp.ClientResponseError):  # a malformed answer
        return httpx.RemoteProtocolError(message, request=request)
    if isinstance(exc, OSError | aiohttp.ClientConnectionError):
        return httpx.ReadError(message, request=request)
    return httpx.RemoteProtocolError(message, request=request)


def _nothing() -> None:
    pass


class _ResponseStream(httpx.AsyncByteStream):
    """The response body as aiohttp receives it; closing it frees the connection."""

    def __init__(
        self,
        response: aiohttp.ClientResponse,
        flight: _Flight,
        request: httpx.Request | None,
        release: Callable[[], None],
    ) -> None:
        self._response = response
        self._flight = flight
        self._request = request
        self._release = release

    async def __aiter__(self) -> AsyncIterator[bytes]:
        content = self._response.content
        while True:
            try:
                chunk = await content.readany()
            except Exception as exc:
                mapped = _mapped(exc, self._flight, self._request)
                if mapped is None:
                    raise
                raise mapped from exc
            if not chunk:
                return
            yield chunk

    async def aclose(self) -> None:
        response = self._response
        if response.content.at_eof():
            response.release()  # read whole: the connection is kept alive
        else:
            response.close()  # cut short: the connection is dropped
        self._release()
        self._release = _nothing


class AiohttpTransport(httpx.AsyncBaseTransport):
    """httpx requests sent by one ``aiohttp.ClientSession``, opened at the first request.

    ``limits.max_connections`` caps the requests in flight, hence the connections in use
    (``None``: no cap, relay's worker caps what is in flight per target); a request waits at
    most the ``pool`` timeout for its turn. Idle connections are kept
    ``limits.keepalive_expiry`` seconds (aiohttp has no separate cap on idle connections).
    ``ssl_context`` replaces the default certificate verification.
    """

    def __init__(
        self,
        *,
        limits: httpx.Limits | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        limits = limits or httpx.Limits(max_connections=None)
        self._slots = asyncio.Semaphore(limits.max_connections) if limits.max_connections else None
        self._keepalive = limits.keepalive_expiry
        self._ssl = ssl_context
        self._session: aiohttp.ClientSession | None = None
        self._closed = False

    def _open(self) -> aiohttp.ClientSession:
        if self._closed:
            raise RuntimeError("the transport is closed")
        # Certificates verified as httpx does (certifi, or SSL_CERT_FILE / SSL_CERT_DIR).
        context = self._ssl if self._ssl is not None else httpx.create_ssl_context()
        if self._keepalive == 0:  # no connection is kept
            connector = aiohttp.TCPConnector(limit=0, force_close=True, ssl=context)
        else:  # None: kept until the server closes it
            connector = aiohttp.TCPConnector(
                limit=0, limit_per_host=0, keepalive_timeout=self._keepalive, ssl=context
            )
        self._session = aiohttp.ClientSession(
            connector=connector,
            auto_decompress=False,
            cookie_jar=aiohttp.DummyCookieJar(),
            skip_auto_headers=_NO_AUTO_HEADERS,
            timeout=aiohttp.ClientTimeout(total=None),
            requote_redirect_url=False,
        )
        return self._session

    async def _slot(self, request: httpx.Request | None, wait: float | None) -> Callable[[], None]:
        """Wait for a turn under ``max_connections``; the function that gives it back."""
        slots = self._slots
        if slots is None:
            return _nothing
        try:
            async with asyncio.timeout(wait):
                await slots.acquire()
        except TimeoutError:
            raise httpx.PoolTimeout("no connection free in time", request=request) from None
        return slots.release

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        # Without a body (or with Expect), aiohttp writes the headers before any hook of ours.
        early = not body or "expect" in request.headers
        response, flight, release = await self._start(
            request.method,
            request.url,
            _headers(request),
            body,
            early,
            request.extensions.get("timeout", _NOTHING),
            request.extensions.get("trace"),
            request,
        )
        return _httpx_response(response, _ResponseStream(response, flight, request, release))

    async def post(
        self,
        url: httpx.URL,
        headers: Iterable[tuple[str, str]],
        body: bytes,
        *,
        timeouts: Mapping[str, float | None],
        trace: Trace | None = None,
    ) -> RunAnswer:
        """POST ``body`` without building httpx's request and response (about a third of a
        run start's CPU), with what ``handle_async_request`` gives: the same connections,
        timeouts, trace events, new connection for a stale one, and httpx's exceptions.
        ``headers`` go out as given (aiohttp adds ``Host`` and ``Content-Length``). An
        answer with a ``Content-Encoding`` comes as an ``httpx.Response``, which decodes it."""
        response, flight, release = await self._start(
            "POST",
            url,
            headers,
            body,
            not body,
            timeouts,
            trace,
            None,
        )
        stream = _ResponseStream(response, flight, None, release)
        if response.headers.get("content-encoding", "identity").lower() != "identity":
            return _httpx_response(response, stream)
        return DirectAnswer(response.status, response.headers, stream)

    async def _start(
        self,
        method: str,
        url: httpx.URL,
        headers: Iterable[tuple[str, str]],
        body: bytes,
        early: bool,
        timeouts: Mapping[str, float | None],
        trace: Trace | None,
        request: httpx.Request | None,
    ) -> tuple[aiohttp.ClientResponse, _Flight, Callable[[], None]]:
        """Wait for a turn and send: the response, how far the send got, the turn's release."""
        if url.scheme not in ("http", "https"):
            raise httpx.UnsupportedProtocol(
                f"unsupported URL scheme {url.scheme!r}", request=request
            )
        session = self._session or self._open()
        if trace is not None:
            await trace(CONNECTING, _NOTHING)
        aiohttp_url = _yarl(url)
        sent_headers = [(k, v) for k, v in headers if k.lower() not in _BODY_HEADERS]
        client_timeout = _client_timeout(timeouts.get("connect"), timeouts.get("read"))
        release = await self._slot(request, timeouts.get("pool"))
        tries = 0
        while True:
            tries += 1
            flight = _Flight(trace)
            try:
                if early:
                    await flight.sending()
                response = await session.request(
                    method,
                    aiohttp_url,
                    headers=sent_headers,
                    data=_Body(body, timeouts.get("write"), flight) if body else None,
                    allow_redirects=False,
                    timeout=client_timeout,
                )
            except Exception as exc:
                if flight.stale and tries < _STALE_TRIES:
                    continue  # nothing was written: send it on another connection
                release()
                mapped = _mapped(exc, flight, request)
                if mapped is None:
                    raise
                raise mapped from exc
            except BaseException:  # cancelled
                release()
                raise
            return response, flight, release

    async def aclose(self) -> None:
        self._closed = True
        session, self._session = self._session, None
        if session is not None:
            with contextlib.suppress(Exception):
                await session.close()


def _headers(request: httpx.Request) -> list[tuple[str, str]]:
    """The request's headers as text."""
    try:
        return [
            (name.decode("ascii"), value.decode("ascii")) for name, value in request.headers.raw
        ]
    except UnicodeDecodeError:
        return list(request.headers.multi_items())


@functools.lru_cache(maxsize=1024)
def _yarl(url: httpx.URL) -> URL:
    return URL(str(url), encoded=True)


def _httpx_response(response: aiohttp.ClientResponse, stream: _ResponseStream) -> httpx.Response:
    version = response.version
    return httpx.Response(
        response.status,
        headers=list(response.raw_headers),
        stream=stream,
        extensions={
            "http_version": f"HTTP/{version.major}.{version.minor}".encode()
            if version is not None
            else b"HTTP/1.1",
            "reason_phrase": (response.reason or "").encode("latin-1", "replace"),
        },
    )


class RunAnswer(Protocol):
    """What a caller of ``AiohttpTransport.post`` reads (an ``httpx.Response`` has it all)."""

    @property
    def status_code(self) -> int: ...

    @property
    def headers(self) -> Mapping[str, str]: ...

    async def aread(self) -> bytes: ...

    def aiter_bytes(self) -> AsyncIterator[bytes]: ...

    async def aclose(self) -> None: ...


class DirectAnswer:
    """An answer read straight from aiohttp: status, headers (case-insensitive), body."""

    __slots__ = ("_stream", "headers", "status_code")

    def __init__(
        self, status_code: int, headers: Mapping[str, str], stream: _ResponseStream
    ) -> None:
        self.status_code = status_code
        self.headers = headers
        self._stream = stream

    async def aread(self) -> bytes:
        return b"".join([chunk async for chunk in self._stream])

    def aiter_bytes(self) -> AsyncIterator[bytes]:
        return self._stream.__aiter__()

    async def aclose(self) -> None:
        await self._stream.aclose()


class _NoCookies(httpx.Cookies):
    def extract_cookies(self, response: httpx.Response) -> None:
        return None  # dropped: nothing is kept from one request for the next


class DeliveryClient(httpx.AsyncClient):
    """An ``httpx.AsyncClient`` that keeps no cookies: a ``Set-Cookie`` in one run start's
    answer never rides along with the next delivery (and each answer skips httpx's
    cookie-jar work). ``direct`` is its ``AiohttpTransport`` when every request goes there
    (``send_run`` then posts with ``AiohttpTransport.post``), else None."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._no_cookies = _NoCookies()
        transport = kwargs.get("transport")
        # Its aiohttp transport, for ``post``; not when other transports are mounted for
        # some URLs: then every request goes through httpx's routing. (With a transport
        # given, httpx mounts none for HTTP_PROXY and friends.)
        self.direct = (
            transport
            if isinstance(transport, AiohttpTransport) and not kwargs.get("mounts")
            else None
        )

    @property
    def cookies(self) -> httpx.Cookies:
        return self._no_cookies

    @cookies.setter
    def cookies(self, cookies: object) -> None:
        raise TypeError("the delivery client keeps no cookies")
