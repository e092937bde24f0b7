"""uvicorn's httptools protocol with a header deadline and a header size cap.

uvicorn closes idle keep-alive connections, but it has no deadline for a request's headers:
a client that opens a connection and sends nothing, or trickles header bytes (slowloris),
holds it forever. Here a timer starts when a connection is made and again whenever it waits
for its next request; if the request's headers are not complete in time the connection is
closed (with a 408 when part of a request had arrived). Headers larger than the cap are
answered 431 and the connection closed. The body has its own deadline in the endpoint that
reads it (``receive_body``).

An answer given before the request's body has all arrived (a 413 for a body over the limit,
a 408 for one that stalls) is followed by a lingering close: the connection is half-closed
(the answer ends with a FIN) and what the client still sends is read and dropped, for up to
``LINGER_SECONDS``. Closing at once with unread bytes would make the kernel reset the
connection, and a client that sends its whole body before reading loses the answer.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

__all__ = [
    "LINGER_SECONDS",
    "MAX_HEADER_BYTES",
    "HeaderDeadlineProtocol",
    "header_deadline_protocol",
]

MAX_HEADER_BYTES = 64 * 1024
#: How long a connection answered before its request's body arrived reads and drops the rest.
LINGER_SECONDS = 5.0

_REASONS = {408: b"Request Timeout", 431: b"Request Header Fields Too Large"}


class _HeadTooLarge(Exception):
    """Raised from a parser callback: the parser stops and reports an error."""


class _CycleTransport:
    """The transport as a request cycle sees it: its ``close()`` goes to the protocol, which
    lingers when the request's body is still coming. Everything else is the transport's."""

    def __init__(self, transport: asyncio.Transport, protocol: HeaderDeadlineProtocol) -> None:
        self._transport = transport
        self._protocol = protocol

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)

    def is_closing(self) -> bool:
        return self._protocol.lingering or self._transport.is_closing()

    def close(self) -> None:
        self._protocol.close_after_answer()


class HeaderDeadlineProtocol(HttpToolsProtocol):
    """Use ``header_deadline_protocol(seconds, max_bytes)`` to get a configured subclass."""

    header_timeout: float = 10.0
    max_header_bytes: int = MAX_HEADER_BYTES

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_timer: asyncio.TimerHandle | None = None
        self._awaiting_headers = False
        self._header_bytes = 0  # bytes received while waiting for the head
        self._head_size = 0  # the head as parsed: URL and header lines
        self._head_too_large = False
        self.lingering = False
        self._linger_timer: asyncio.TimerHandle | None = None

    # the lingering close -----------------------------------------------------------------

    def close_after_answer(self) -> None:
        """The request cycle closes the connection after its answer: at once, unless the
        request's body is still coming (then half-close and drop the rest for a while)."""
        transport = self.transport
        cycle = self.cycle
        if self.lingering or transport.is_closing():
            return
        if cycle is None or not cycle.more_body or not transport.can_write_eof():
            transport.close()
            return
        self.lingering = True
        self._awaiting_headers = False
        self._cancel_header_timer()
        transport.write_eof()  # the answer, then a FIN
        self.flow.resume_reading()  # paused at uvicorn's high-water mark, perhaps
        self._linger_timer = self.loop.call_later(LINGER_SECONDS, transport.close)

    # the deadline ------------------------------------------------------------------------

    def _await_headers(self) -> None:
        self._cancel_header_timer()
        self._awaiting_headers = True
        self._header_bytes = 0
        self._head_size = 0
        self._header_timer = self.loop.call_later(self.header_timeout, self._headers_late)

    def _cancel_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_late(self) -> None:
        self._header_timer = None
        if not self._awaiting_headers or self.transport.is_closing():
            return
        if self._header_bytes > 0:
            self._refuse(408, "request headers not received in time")
        else:
            self.transport.close()

    def _refuse(self, status: int, message: str) -> None:
        self._awaiting_headers = False
        self._cancel_header_timer()
        body = message.encode()
        self.transport.write(
            b"HTTP/1.1 %d %s\r\ncontent-type: text/plain; charset=utf-8\r\n"
            b"content-length: %d\r\nconnection: close\r\n\r\n%s"
            % (status, _REASONS[status], len(body), body)
        )
        self.transport.close()

    # uvicorn's hooks ---------------------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._await_headers()

    def connection_lost(self, exc: Exception | None) -> None:
        self._awaiting_headers = False
        self._cancel_header_timer()
        if self._linger_timer is not None:
            self._linger_timer.cancel()
            self._linger_timer = None
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self.lingering:
            return  # the rest of a body already answered: dropped
        super().data_received(data)
        if not self._awaiting_headers or self.transport.is_closing():
            return
        self._header_bytes += len(data)  # a head still incomplete after this many bytes
        if self._header_bytes > self.max_header_bytes:
            self._refuse(431, "request headers too large")

    def _count_head(self, size: int) -> None:
        """A head that arrived whole in one read is measured as it is parsed; over the cap,
        parsing stops (the parser's error answer becomes a 431, ``send_400_response``)."""
        self._head_size += size
        if self._head_size > self.max_header_bytes:
            self._head_too_large = True
            raise _HeadTooLarge

    def on_url(self, url: bytes) -> None:
        self._count_head(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count_head(len(name) + len(value) + 4)
        super().on_header(name, value)

    def send_400_response(self, msg: str) -> None:
        if self._head_too_large:
            self._refuse(431, "request headers too large")
        else:
            super().send_400_response(msg)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._head_size = 0

    def on_headers_complete(self) -> None:
        self._awaiting_headers = False
        self._cancel_header_timer()
        super().on_headers_complete()
        self.cycle.transport = _CycleTransport(self.transport, self)  # type: ignore[assignment]

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing() and not self.pipeline and not self.lingering:
            self._await_headers()


def header_deadline_protocol(
    header_timeout: float, max_header_bytes: int = MAX_HEADER_BYTES
) -> type[HeaderDeadlineProtocol]:
    """The protocol class to pass as ``uvicorn.Config(http=...)``."""
    if header_timeout <= 0 or max_header_bytes <= 0:
        raise ValueError("header_timeout and max_header_bytes must be positive")
    return type(
        "ConfiguredHeaderDeadlineProtocol",
        (HeaderDeadlineProtocol,),
        {"header_timeout": header_timeout, "max_header_bytes": max_header_bytes},
    )
