"""relay's sender (``AiohttpSender``), against real servers on loopback sockets: what goes
out, what comes back, the progress it tells, and which failure each becomes (``NotSent`` only
when nothing of the request was written)."""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import gzip
import ipaddress
import json
import socket
import ssl
import struct
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from relay.clock import SystemClock
from relay.delivery.aiohttp_sender import AiohttpSender
from relay.delivery.outbound import (
    CONNECTING,
    SENDING,
    Answer,
    AnswerLost,
    AnswerTimeout,
    NotSent,
    Progress,
    Timeouts,
)
from relay.delivery.retry import Outcome
from relay.delivery.sender import SendProgress, send_run
from relay.targets import Target

BODY = b'{"workflow_id":"fn","variables":{},"stream":true}'
SSE_TYPE = {"content-type": "text/event-stream"}


@dataclass
class Seen:
    head: str
    body: bytes

    @property
    def path(self) -> str:
        return self.head.split("\r\n", 1)[0].split(" ")[1]

    def header_names(self) -> list[str]:
        return [line.split(":", 1)[0].lower() for line in self.head.split("\r\n")[1:] if line]


Serve = Callable[[asyncio.StreamWriter, Seen], Awaitable[bool]]  # True: keep the connection


@dataclass
class Server:
    port: int = 0
    connections: int = 0
    ended: int = 0  # connections whose client went away (or that the server closed)
    ended_one: asyncio.Event = field(default_factory=asyncio.Event)
    requests: list[Seen] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


async def _read(reader: asyncio.StreamReader) -> Seen | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
        return None
    text = head.decode("latin-1")
    length = 0
    for line in text.split("\r\n")[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value)
    body = await reader.readexactly(length) if length else b""
    return Seen(text, body)


@contextlib.asynccontextmanager
async def serving(answer: Serve, *, read: bool = True) -> AsyncIterator[Server]:
    """An HTTP/1.1 server that reads each request whole (unless ``read`` is False: it then
    never reads a byte) and lets ``answer`` reply."""
    server = Server()
    writers: list[asyncio.StreamWriter] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        server.connections += 1
        writers.append(writer)
        try:
            if not read:
                await asyncio.sleep(3600)
            while (seen := await _read(reader)) is not None:
                server.requests.append(seen)
                if not await answer(writer, seen):
                    break
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            server.ended += 1
            server.ended_one.set()
            writer.close()

    listener = await asyncio.start_server(handle, "127.0.0.1", 0)
    server.port = listener.sockets[0].getsockname()[1]
    try:
        yield server
    finally:
        for writer in writers:
            writer.close()
        listener.close()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(1):
                await listener.wait_closed()


def response(
    status: str = "200 OK", body: bytes = b"{}", headers: Mapping[str, str] | None = None
) -> bytes:
    lines = [f"HTTP/1.1 {status}", f"content-length: {len(body)}"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def replying(raw: bytes, keep: bool = True) -> Serve:
    async def answer(writer: asyncio.StreamWriter, seen: Seen) -> bool:
        writer.write(raw)
        await writer.drain()
        return keep

    return answer


async def silent(writer: asyncio.StreamWriter, seen: Seen) -> bool:
    await asyncio.sleep(3600)
    return False


class Trace:
    def __init__(self) -> None:
        self.events: list[str] = []

    async def __call__(self, name: str) -> None:
        self.events.append(name)

    @property
    def sent(self) -> bool:
        return SENDING in self.events


HEADERS = {"content-type": "application/json", "x-notte-api-key": "k", "User-Agent": "r/1"}


@contextlib.asynccontextmanager
async def sender(**options: Any) -> AsyncIterator[AiohttpSender]:
    async with AiohttpSender(**options) as s:
        yield s


async def exchange(
    s: AiohttpSender,
    url: str,
    *,
    trace: Progress | None = None,
    content: bytes = BODY,
    path: str = "/functions/fn/runs/start",
    **timeouts: float,
) -> tuple[Answer, bytes]:
    """POST ``content``; the answer and its body, read whole."""
    answer = await s.send(
        "POST",
        url + path,
        HEADERS,
        content,
        timeouts=Timeouts(**{"connect": 5.0, "read": 5.0, "write": 5.0, "pool": 5.0, **timeouts}),
        progress=trace,
    )
    try:
        return answer, await answer.read()
    finally:
        await answer.close()


# what goes out and what comes back ---------------------------------------------------------


async def test_request_goes_out_with_exactly_the_given_headers_and_body() -> None:
    async with serving(replying(response())) as server, sender() as s:
        await exchange(s, server.url, path="/functions/a%2Fb%20c/runs/start")
    [seen] = server.requests
    assert seen.head.startswith("POST /functions/a%2Fb%20c/runs/start HTTP/1.1\r\n")
    assert seen.body == BODY
    assert sorted(seen.header_names()) == sorted(
        ["host", "content-length", "content-type", "x-notte-api-key", "user-agent"]
    )
    assert "user-agent: r/1\r\n" in seen.head.lower()


async def test_answer_status_headers_and_body_arrive() -> None:
    raw = response("201 Made Up", b'{"ok": true}', {"x-run": "r1", "Retry-After": "3"})
    async with serving(replying(raw)) as server, sender() as s:
        answer, body = await exchange(s, server.url)
    assert answer.status_code == 201
    assert answer.headers.get("retry-after") == "3"  # any case
    assert answer.headers["X-Run"] == "r1"
    assert body == b'{"ok": true}'


async def test_compressed_answer_is_decoded() -> None:
    raw = response(body=gzip.compress(b'{"ok": 1}'), headers={"content-encoding": "gzip"})
    async with serving(replying(raw)) as server, sender() as s:
        _, body = await exchange(s, server.url)
    assert body == b'{"ok": 1}'


async def two_chunks(writer: asyncio.StreamWriter, seen: Seen) -> bool:
    """An event stream answered in two chunks, 50 ms apart."""
    writer.write(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n")
    for part in (b"data: one\n\n", b"data: two\n\n"):
        writer.write(b"%x\r\n%s\r\n" % (len(part), part))
        await writer.drain()
        await asyncio.sleep(0.05)
    writer.write(b"0\r\n\r\n")
    return True


async def test_streamed_answer_arrives_in_pieces_as_sent() -> None:
    async with serving(two_chunks) as server, sender() as s:
        answer = await s.send("POST", server.url + "/s", HEADERS, BODY, timeouts=Timeouts())
        pieces = [piece async for piece in answer.chunks()]
        await answer.close()
    assert pieces == [b"data: one\n\n", b"data: two\n\n"]


async def test_redirect_is_returned_not_followed() -> None:
    raw = response("302 Found", b"", {"location": "http://127.0.0.1:1/elsewhere"})
    async with serving(replying(raw)) as server, sender() as s:
        answer, _ = await exchange(s, server.url)
    assert answer.status_code == 302
    assert len(server.requests) == 1


async def test_connections_are_kept_alive_between_requests() -> None:
    async with serving(replying(response())) as server, sender() as s:
        for _ in range(3):
            await exchange(s, server.url)
    assert server.connections == 1
    assert len(server.requests) == 3


async def test_cookies_set_by_one_answer_are_not_sent_with_the_next() -> None:
    raw = response(headers={"set-cookie": "session=abc; Path=/"})
    async with serving(replying(raw)) as server, sender() as s:
        await exchange(s, server.url)
        await exchange(s, server.url)
    assert len(server.requests) == 2
    assert all("cookie" not in seen.header_names() for seen in server.requests)


async def test_connection_closed_by_the_server_after_an_answer_is_not_reused_for_the_next() -> None:
    # The server closes after each answer without saying so (no "connection: close"): the
    # next request is sent once, on a new connection.
    async with serving(replying(response(), keep=False)) as server, sender() as s:
        answers = [(await exchange(s, server.url))[0] for _ in range(5)]
    assert [a.status_code for a in answers] == [200] * 5
    assert len(server.requests) == 5
    assert server.connections == 5


async def test_progress_tells_connecting_then_sending_in_order() -> None:
    trace = Trace()
    async with serving(replying(response())) as server, sender() as s:
        await exchange(s, server.url, trace=trace)
        await exchange(s, server.url, trace=trace)  # on the kept-alive connection
    assert trace.events == [CONNECTING, SENDING] * 2


@pytest.mark.parametrize("content", [BODY, b"", b"x" * (200 << 10)])
async def test_sending_is_told_before_any_byte_of_the_request_is_written(content: bytes) -> None:
    arrived_before: list[int] = []
    async with serving(replying(response())) as server, sender() as s:

        async def slow_trace(name: str) -> None:
            if name == SENDING:  # bytes written before this would arrive during the sleep
                await asyncio.sleep(0.1)
                arrived_before.append(len(server.requests))

        answer, _ = await exchange(s, server.url, trace=slow_trace, content=content)
    assert answer.status_code == 200
    assert arrived_before == [0]
    assert len(server.requests) == 1
    assert server.requests[0].body == content


async def test_closing_the_sender_closes_its_connections() -> None:
    async with serving(replying(response())) as server:
        async with sender() as s:
            await exchange(s, server.url)
            await asyncio.sleep(0.05)
            assert server.ended == 0  # kept alive
        async with asyncio.timeout(5):
            await server.ended_one.wait()
        with pytest.raises(RuntimeError):
            await exchange(s, server.url)


def _certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (and its key)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@contextlib.asynccontextmanager
async def tls_server(directory: Path) -> AsyncIterator[tuple[int, ssl.SSLContext]]:
    """An HTTPS server answering 200; the client context that trusts its certificate."""
    cert, key = _certificate(directory)
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert, key)

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, ssl.SSLError):
            while await _read(reader) is not None:
                writer.write(response(body=b'{"tls": true}'))
                await writer.drain()
        writer.close()

    listener = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=server_context)
    try:
        yield listener.sockets[0].getsockname()[1], ssl.create_default_context(cafile=cert)
    finally:
        listener.close()


async def test_https_with_a_trusted_certificate_is_answered(tmp_path: Path) -> None:
    async with tls_server(tmp_path) as (port, trusting), sender(ssl_context=trusting) as s:
        _, body = await exchange(s, f"https://127.0.0.1:{port}")
    assert body == b'{"tls": true}'


async def test_https_trusts_the_bundle_named_by_ssl_cert_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with tls_server(tmp_path) as (port, _):
        monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "cert.pem"))
        async with sender() as s:
            _, body = await exchange(s, f"https://127.0.0.1:{port}")
    assert body == b'{"tls": true}'


async def test_https_with_an_unknown_certificate_is_refused_before_sending(
    tmp_path: Path,
) -> None:
    trace = Trace()
    async with tls_server(tmp_path) as (port, _), sender() as s:
        with pytest.raises(NotSent):
            await exchange(s, f"https://127.0.0.1:{port}", trace=trace)
    assert trace.events == [CONNECTING]


# failures before anything was sent ---------------------------------------------------------


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


async def test_connection_refused_is_not_sent() -> None:
    trace = Trace()
    async with sender() as s:
        with pytest.raises(NotSent):
            await exchange(s, f"http://127.0.0.1:{_closed_port()}", trace=trace)
    assert trace.events == [CONNECTING]


async def test_tls_handshake_beyond_the_connect_timeout_is_not_sent() -> None:
    trace = Trace()
    async with serving(silent, read=False) as server, sender() as s:
        url = f"https://127.0.0.1:{server.port}"
        with pytest.raises(NotSent):
            await exchange(s, url, trace=trace, connect=0.2)
    assert not trace.sent


async def test_no_free_connection_within_the_pool_timeout_is_not_sent() -> None:
    async with serving(silent) as server, sender(max_connections=1) as s:
        hold = asyncio.create_task(exchange(s, server.url))
        await asyncio.sleep(0.1)
        trace = Trace()
        with pytest.raises(NotSent):
            await exchange(s, server.url, trace=trace, pool=0.2)
        hold.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await hold
    assert not trace.sent
    assert len(server.requests) == 1


async def test_unsupported_scheme_is_refused() -> None:
    async with sender() as s:
        with pytest.raises(NotSent):
            await exchange(s, "ftp://127.0.0.1")


# failures after the request may have arrived -----------------------------------------------


async def test_no_answer_within_the_read_timeout_is_answer_timeout() -> None:
    trace = Trace()
    async with serving(silent) as server, sender() as s:
        with pytest.raises(AnswerTimeout):
            await exchange(s, server.url, trace=trace, read=0.2)
    assert trace.sent
    assert len(server.requests) == 1


async def test_body_stalled_beyond_the_read_timeout_is_answer_timeout_while_reading() -> None:
    async def stall(writer: asyncio.StreamWriter, seen: Seen) -> bool:
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\npartial")
        await writer.drain()
        await asyncio.sleep(3600)
        return False

    async with serving(stall) as server, sender() as s:
        answer = await s.send(
            "POST", server.url, HEADERS, BODY, timeouts=Timeouts(connect=5.0, read=0.2)
        )
        with pytest.raises(AnswerTimeout):
            await answer.read()
        await answer.close()


async def test_server_that_never_reads_the_body_is_a_write_timeout() -> None:
    async with serving(silent, read=False) as server, sender() as s:
        with pytest.raises(AnswerTimeout, match="writing the request body"):
            await exchange(s, server.url, content=b"x" * (64 << 20), write=0.3)


async def test_hang_up_without_an_answer_is_answer_lost() -> None:
    async def hang_up(writer: asyncio.StreamWriter, seen: Seen) -> bool:
        return False

    trace = Trace()
    async with serving(hang_up) as server, sender() as s:
        with pytest.raises(AnswerLost):
            await exchange(s, server.url, trace=trace)
    assert trace.sent
    assert len(server.requests) == 1  # sent once: a request that may have arrived is not resent


async def test_reset_after_the_request_is_answer_lost() -> None:
    async def reset(writer: asyncio.StreamWriter, seen: Seen) -> bool:
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        return False

    async with serving(reset) as server, sender() as s:
        with pytest.raises(AnswerLost):
            await exchange(s, server.url)
    assert len(server.requests) == 1


async def test_body_cut_short_is_answer_lost() -> None:
    raw = b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nonly part of it"
    async with serving(replying(raw, keep=False)) as server, sender() as s:
        with pytest.raises(AnswerLost):
            await exchange(s, server.url)


async def test_malformed_answer_is_answer_lost() -> None:
    async with serving(replying(b"NOT HTTP AT ALL\r\n\r\n", keep=False)) as server, sender() as s:
        with pytest.raises(AnswerLost):
            await exchange(s, server.url)


# send_run over the real sender ---------------------------------------------------------------


@pytest.mark.parametrize("stream", [False, True])
async def test_send_run_reads_the_result_streamed_or_not(stream: bool) -> None:
    answer = (
        b'{"function_id":"fn","function_run_id":"run-1","session_id":"s-1",'
        b'"status":"closed","result":{"n":1}}'
    )
    if stream:
        sse = b'data: {"type":"log","message":"hi"}\n\ndata: {"type":"result","message":%s}\n\n'
        raw = response(body=sse % json.dumps(answer.decode()).encode(), headers=SSE_TYPE)
    else:
        raw = response(body=answer, headers={"content-type": "application/json"})
    async with serving(replying(raw)) as server, sender() as s:
        target = Target("t", server.url, "key-1", timeout=5.0, connect_timeout=5.0)
        progress = SendProgress()
        sent = await send_run(
            s,
            target,
            function_id="fn",
            variables={"a": 1},
            stream=stream,
            clock=SystemClock(),
            progress=progress,
        )
    assert (sent.outcome, sent.function_run_id, sent.result) == (
        Outcome.SUCCEEDED,
        "run-1",
        {"n": 1},
    )
    assert sent.logs == (("hi",) if stream else ())
    assert progress.stage == "sent"
    [seen] = server.requests
    assert "x-notte-api-key: key-1\r\n" in seen.head.lower()
    assert "authorization: bearer key-1\r\n" in seen.head.lower()
    assert json.loads(seen.body) == {"workflow_id": "fn", "variables": {"a": 1}, "stream": stream}
