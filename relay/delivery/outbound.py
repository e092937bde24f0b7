"""What relay sends its outbound HTTP requests with: the ``Sender`` protocol, its answers
and failures, and ``FakeSender``, an in-memory sender for tests (like httpx's
``MockTransport``).

relay sends with ``AiohttpSender`` (relay/delivery/aiohttp_sender.py). A sender tells how far
a request got through ``progress``: ``CONNECTING`` while it gets a connection (nothing of the
request was sent), ``SENDING`` just before the first byte of the request is written (from
then on the request may reach the server). Its failures say the same: ``NotSent`` (nothing
was written: connection refused, TLS, no free connection in time, unsupported URL),
``AnswerTimeout`` (sent, no answer in time) and ``AnswerLost`` (sent, the connection broke or
the answer was malformed).
"""

from __future__ import annotations

import inspect
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit

__all__ = [
    "CONNECTING",
    "SENDING",
    "Answer",
    "AnswerLost",
    "AnswerTimeout",
    "FakeSender",
    "Headers",
    "NotSent",
    "Progress",
    "Reply",
    "Request",
    "SendError",
    "Sender",
    "Timeouts",
    "Url",
]

CONNECTING = "connecting"
SENDING = "sending"
Progress = Callable[[str], Awaitable[None]]  # told, and awaited, at each stage


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Seconds (None: no bound): ``connect`` (name resolution, TCP, TLS), ``read`` (each
    wait for answer bytes once the request is written), ``write`` (writing a big body),
    ``pool`` (waiting for a turn under the sender's connection cap)."""

    connect: float | None = 10.0
    read: float | None = 30.0
    write: float | None = 30.0
    pool: float | None = 30.0


class SendError(Exception):
    """A request that got no answer; ``sent``: whether it may have reached the server."""

    sent = True


class NotSent(SendError):
    """Nothing of the request was written."""

    sent = False


class AnswerTimeout(SendError, TimeoutError):
    """The request was (or was being) written; no answer came in time."""


class AnswerLost(SendError):
    """The request was (or was being) written; the connection broke or the answer was
    malformed."""


class Answer(Protocol):
    """An answer whose body is read once: whole (``read``) or as it arrives (``chunks``);
    ``close`` frees the connection (kept alive when the body was read to its end). A failure
    while reading the body is an ``AnswerTimeout`` or ``AnswerLost``."""

    @property
    def status_code(self) -> int: ...

    @property
    def headers(self) -> Mapping[str, str]: ...  # case-insensitive

    async def read(self) -> bytes: ...

    def chunks(self) -> AsyncIterator[bytes]: ...

    async def close(self) -> None: ...


class Sender(Protocol):
    """Sends requests as given: no redirects followed, no cookies kept, no default headers
    (``Host`` and ``Content-Length`` are added); an answer compressed unasked is decoded."""

    async def send(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes = b"",
        *,
        timeouts: Timeouts,
        progress: Progress | None = None,
    ) -> Answer: ...

    async def aclose(self) -> None: ...


class Headers(Mapping[str, str]):
    """Header names in any case (the last of repeated names wins)."""

    __slots__ = ("_items",)

    def __init__(self, items: Mapping[str, str] | Iterable[tuple[str, str]] = ()) -> None:
        pairs = items.items() if isinstance(items, Mapping) else items
        self._items = {name.lower(): (name, value) for name, value in pairs}

    def __getitem__(self, name: str) -> str:
        return self._items[name.lower()][1]

    def __iter__(self) -> Iterator[str]:
        return (name for name, _ in self._items.values())

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._items

    def __repr__(self) -> str:
        return f"Headers({dict(self.items())!r})"


# the fake ------------------------------------------------------------------------------------


class Url(str):
    """A URL as sent, with its ``path`` (decoded) and ``raw_path`` (percent-escapes kept)."""

    __slots__ = ()

    @property
    def raw_path(self) -> str:
        return urlsplit(self).path

    @property
    def path(self) -> str:
        return unquote(self.raw_path)


@dataclass(frozen=True, slots=True)
class Request:
    """A request as ``FakeSender`` hands it to its handler."""

    method: str
    url: Url
    headers: Headers
    content: bytes
    timeouts: Timeouts
    progress: Progress | None = None  # a handler may tell it, as a real sender would

    def json(self) -> Any:
        return json.loads(self.content)


@dataclass(slots=True)
class Reply:
    """What a ``FakeSender`` handler answers: ``json`` (sent as JSON), ``content``, ``text``
    (sent as UTF-8), or ``chunks`` (each arriving as one piece), optionally followed by
    ``error`` (raised while the body is read, e.g. ``AnswerLost``: the stream was cut)."""

    status_code: int = 200
    json: Any = None
    content: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    text: str | None = None
    chunks: Iterable[bytes] | None = None
    error: SendError | None = None

    def answer(self) -> _FakeAnswer:
        headers = Headers(self.headers)
        pieces: list[bytes]
        if self.chunks is not None:
            pieces = list(self.chunks)
        elif self.json is not None:
            pieces = [json.dumps(self.json, separators=(",", ":"), ensure_ascii=False).encode()]
            if "content-type" not in headers:
                headers = Headers([*headers.items(), ("content-type", "application/json")])
        else:
            content = self.content if self.text is None else self.text.encode()
            pieces = [content] if content else []
        return _FakeAnswer(self.status_code, headers, pieces, self.error)


class _FakeAnswer:
    def __init__(
        self, status_code: int, headers: Headers, pieces: list[bytes], error: SendError | None
    ) -> None:
        self.status_code = status_code
        self.headers = headers
        self._pieces = pieces
        self._error = error
        self.closed = False

    async def chunks(self) -> AsyncIterator[bytes]:
        for piece in self._pieces:
            yield piece
        if self._error is not None:
            raise self._error

    async def read(self) -> bytes:
        return b"".join([piece async for piece in self.chunks()])

    async def close(self) -> None:
        self.closed = True


Handler = Callable[[Request], Reply | Awaitable[Reply]]


class FakeSender:
    """A ``Sender`` that answers each request with ``handler(request)`` (a ``Reply``, or
    awaitable one); a handler raises ``NotSent``, ``AnswerTimeout`` or ``AnswerLost`` to
    fail the exchange. It tells no progress of its own (like a request whose fate is
    unknown; a handler may tell it through ``request.progress``) and records nothing (a
    handler keeps what it needs). ``aclose`` marks it closed; a closed fake refuses
    requests."""

    def __init__(self, handler: Handler) -> None:
        self._handler = handler
        self.closed = False

    async def send(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes = b"",
        *,
        timeouts: Timeouts,
        progress: Progress | None = None,
    ) -> Answer:
        if self.closed:
            raise RuntimeError("the sender is closed")
        reply = self._handler(Request(method, Url(url), Headers(headers), body, timeouts, progress))
        if inspect.isawaitable(reply):
            reply = await reply
        return reply.answer()

    async def aclose(self) -> None:
        self.closed = True

    async def __aenter__(self) -> FakeSender:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
