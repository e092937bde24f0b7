"""Hostile input at the HTTP level, over raw sockets against a real ``relay serve``: lying
or oversized lengths, stalled bodies, oversized and malformed heads, and slowloris. Each is
answered with the right code (never a 500) and nothing is stored."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from pathlib import Path

import httpx
import pytest

from relay.providers import names
from relay.providers.registry import get_spec
from tests.helpers import github_headers, issue_opened, write_config
from tests.reliability.kit import RelayProcess, db_rows
from tests.reliability.raw_http import exchange, head, status_of
from tests.reliability.shared import RECEIVE_TIMEOUT, SharedRelay

SIGNED = {"X-Hub-Signature-256": "sha256=" + "0" * 64, "X-GitHub-Event": "issues"}
SMALLEST = "meta"  # the source with the smallest body limit (3 MiB), for the streamed cases
#: A deadline's answer may come this much later than the deadline (a busy 2-core machine).
SLACK = 8.0


def _events(shared: SharedRelay) -> int:
    return int(db_rows(shared.db, "SELECT count(*) FROM events")[0][0])


@pytest.mark.parametrize("source", names())
async def test_declared_length_over_the_limit_is_413_before_any_body_is_sent(
    shared_relay: SharedRelay, source: str
) -> None:
    before = _events(shared_relay)
    headers = {**SIGNED, "Content-Length": str(get_spec(source).max_body_bytes + 1)}
    reply = await exchange(shared_relay.relay.port, head("POST", f"/hooks/{source}", headers))
    assert reply.status == 413
    assert reply.closed
    assert _events(shared_relay) == before


async def test_chunked_body_past_the_limit_is_413(shared_relay: SharedRelay) -> None:
    chunk = b"10000\r\n" + b"a" * 0x10000 + b"\r\n"  # 64 KiB chunks
    headers = {**SIGNED, "Transfer-Encoding": "chunked"}
    # Just past the limit, read while sending (a whole oversized body sent before reading:
    # test_client_sending_a_whole_oversized_body_before_reading_still_gets_the_413).
    count = get_spec(SMALLEST).max_body_bytes // 0x10000 + 1
    parts = [head("POST", f"/hooks/{SMALLEST}", headers), *([chunk] * count)]
    reply = await exchange(shared_relay.relay.port, *parts)
    assert reply.status == 413


@pytest.mark.parametrize(
    ("framing", "first"),
    [
        ({"Content-Length": "100"}, b'{"partial'),
        ({"Transfer-Encoding": "chunked"}, b'9\r\n{"partial\r\n'),
    ],
    ids=["content-length", "chunked"],
)
async def test_body_that_stalls_is_closed_by_the_receive_deadline_with_408(
    shared_relay: SharedRelay, framing: dict[str, str], first: bytes
) -> None:
    before = _events(shared_relay)
    request = head("POST", "/hooks/github", {**SIGNED, **framing})
    reply = await exchange(shared_relay.relay.port, request + first, within=RECEIVE_TIMEOUT + SLACK)
    assert reply.status == 408
    assert reply.closed
    assert reply.elapsed >= RECEIVE_TIMEOUT * 0.9
    assert _events(shared_relay) == before


@pytest.mark.parametrize(
    "headers",
    [
        [("X-Big", "a" * 100_000)],
        [(f"X-Many-{i}", "b") for i in range(10_000)],
    ],
    ids=["one-100k-header", "10k-headers"],
)
async def test_oversized_request_head_is_431(
    shared_relay: SharedRelay, headers: list[tuple[str, str]]
) -> None:
    reply = await exchange(shared_relay.relay.port, head("POST", "/hooks/github", headers))
    assert reply.status in (431, 400)
    assert reply.closed


@pytest.mark.parametrize("path", ["/hooks/github", "/api/events", "/ui/login", "/nowhere"])
async def test_oversized_head_is_431_on_every_path(shared_relay: SharedRelay, path: str) -> None:
    reply = await exchange(shared_relay.relay.port, head("POST", path, {"X-Big": "a" * 100_000}))
    assert reply.status in (431, 400)
    assert reply.closed


@pytest.mark.parametrize("path", ["/hooks/github", "/api/events"])
async def test_oversized_request_line_is_refused(shared_relay: SharedRelay, path: str) -> None:
    long_path = f"{path}?q={'a' * 100_000}"
    reply = await exchange(shared_relay.relay.port, head("GET", long_path, {}))
    assert reply.status in (414, 431, 400)
    assert reply.closed


async def test_a_head_just_under_the_cap_is_answered_normally(shared_relay: SharedRelay) -> None:
    body = issue_opened(901)
    headers = {**github_headers(body, delivery="big-head"), "X-Pad": "p" * 60_000}
    headers["Content-Length"] = str(len(body))
    reply = await exchange(shared_relay.relay.port, head("POST", "/hooks/github", headers) + body)
    assert reply.status == 200, reply.data[:300]


@pytest.mark.parametrize(
    "raw",
    [
        b"HELLO\r\n\r\n",
        b"POST /hooks/github HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        b"POST /hooks/github HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
        b"POST /hooks/github HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
        b"POST /hooks/github HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
        b"POST /hooks/github HTTP/1.1\r\nHost: x\r\nX-Nul: a\x00b\r\n\r\n",
        b"POST /hooks/github HTTP/1.1\r\nHost: x\r\nBad Header: v\r\n\r\n",
        b"POST /hooks/github HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"POST /hooks/github HTTP/9.9\r\nHost: x\r\n\r\n",
    ],
    ids=[
        "garbage-request-line",
        "content-length-and-chunked",
        "two-content-lengths",
        "negative-content-length",
        "non-numeric-content-length",
        "nul-in-header",
        "space-in-header-name",
        "bad-chunk-size",
        "unknown-http-version",
    ],
)
async def test_malformed_request_is_400_and_closed(shared_relay: SharedRelay, raw: bytes) -> None:
    before = _events(shared_relay)
    reply = await exchange(shared_relay.relay.port, raw)
    assert reply.status in (400, 505)
    assert reply.closed
    assert _events(shared_relay) == before


async def test_connection_that_sends_nothing_is_closed_by_the_deadline(
    shared_relay: SharedRelay,
) -> None:
    reply = await exchange(shared_relay.relay.port, within=RECEIVE_TIMEOUT + SLACK)
    assert reply.closed
    assert reply.status is None


async def _trickle(port: int, until: float) -> float | None:
    """Open a connection and send a header byte every 0.25 s; when the server closed it,
    seconds after the start (None: still open at ``until``)."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(b"POST /hooks/github HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        while loop.time() < until:
            try:
                writer.write(b"a")
                await writer.drain()
                if await asyncio.wait_for(reader.read(1024), timeout=0.25) == b"":
                    return loop.time() - started
            except TimeoutError:
                continue
            except (ConnectionError, OSError):
                return loop.time() - started
        return None
    finally:
        writer.close()


async def test_slowloris_connections_are_closed_while_webhooks_keep_being_answered(
    shared_relay: SharedRelay, figures: object
) -> None:
    port = shared_relay.relay.port
    loop = asyncio.get_running_loop()
    until = loop.time() + RECEIVE_TIMEOUT + 20.0
    trickles = [asyncio.create_task(_trickle(port, until)) for _ in range(300)]
    latencies: list[float] = []
    async with httpx.AsyncClient(timeout=30.0) as client:
        for n in range(20):
            body = issue_opened(700 + n)
            started = time.monotonic()
            reply = await client.post(
                shared_relay.hook("github"),
                content=body,
                headers=github_headers(body, delivery=f"slowloris-{n}"),
            )
            latencies.append(time.monotonic() - started)
            assert reply.status_code == 200
            await asyncio.sleep(0.1)
    closed_after = await asyncio.gather(*trickles)

    assert None not in closed_after  # every trickling connection was closed by relay
    assert max(c for c in closed_after if c is not None) < RECEIVE_TIMEOUT + SLACK
    assert callable(figures)
    latencies.sort()
    figures(
        "slowloris (300 trickling connections)",
        {
            "closed by relay": len(closed_after),
            "latest close s": round(max(c for c in closed_after if c is not None), 2),
            "webhooks answered 200": len(latencies),
            "webhook latency p50 s": round(latencies[len(latencies) // 2], 3),
            "webhook latency max s": round(latencies[-1], 3),
        },
    )


def _send_all_then_read(port: int, request: bytes) -> tuple[bytes, str | None]:
    """What a plain client does: the whole request first, then the answer (its error, if
    the connection was reset before the answer could be read)."""
    with socket.create_connection(("127.0.0.1", port), timeout=20) as sock:
        with contextlib.suppress(OSError):  # relay stopped reading: its answer may be there
            sock.sendall(request)
        data = b""
        try:
            while chunk := sock.recv(65536):
                data += chunk
        except OSError as exc:
            return data, type(exc).__name__
    return data, None


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
async def test_client_sending_a_whole_oversized_body_before_reading_still_gets_the_413(
    shared_relay: SharedRelay, framing: str
) -> None:
    size = 4 * get_spec(SMALLEST).max_body_bytes  # four times the limit, all sent before reading
    if framing == "chunked":
        chunk = b"10000\r\n" + b"a" * 0x10000 + b"\r\n"
        headers = {**SIGNED, "Transfer-Encoding": "chunked"}
        body = chunk * (size // 0x10000) + b"0\r\n\r\n"
    else:
        headers = {**SIGNED, "Content-Length": str(size)}
        body = b"a" * size
    request = head("POST", f"/hooks/{SMALLEST}", headers) + body
    data, error = await asyncio.to_thread(_send_all_then_read, shared_relay.relay.port, request)
    assert error is None
    assert status_of(data) == 413
    assert b"body_too_large" in data


async def _disconnect_mid_body(port: int) -> None:
    _, writer = await asyncio.open_connection("127.0.0.1", port)
    headers = {**SIGNED, "Content-Type": "application/json", "Content-Length": "1000"}
    writer.write(head("POST", "/hooks/github", headers) + b'{"action": "op')
    await writer.drain()
    await asyncio.sleep(0.2)  # relay is reading the body now
    writer.close()
    with contextlib.suppress(ConnectionError):
        await writer.wait_closed()


async def test_clients_that_disconnect_mid_body_get_one_log_line_and_no_traceback(
    tmp_path: Path,
) -> None:
    # a relay of its own: the shared one may have logged a disconnect this minute already
    relay = RelayProcess(write_config(tmp_path / "relay.yaml"), tmp_path / "relay.db", tmp_path)
    relay.start()
    try:
        for _ in range(5):
            await _disconnect_mid_body(relay.port)
        for _ in range(200):  # up to 20 s for the line
            if "client_disconnected" in relay.output():
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(0.5)  # the later ones: logged by now if they were to be
        async with httpx.AsyncClient(timeout=30.0) as client:  # and relay answers as ever
            body = issue_opened(4242)
            reply = await client.post(
                f"{relay.url}/hooks/github",
                content=body,
                headers=github_headers(body, delivery="dc"),
            )
    finally:
        relay.kill()
    assert reply.status_code == 200
    output = relay.output()
    assert "Traceback" not in output
    assert "ClientDisconnect" not in output
    assert "Exception in ASGI application" not in output
    lines = [x for x in output.splitlines() if "relay.hook.client_disconnected" in x]
    assert 1 <= len(lines) <= 2  # once a minute per client (five may straddle a minute)
    assert db_rows(relay.db, "SELECT count(*) FROM events")[0][0] == 1
