"""``AiohttpTransport.post``, the path ``send_run`` takes on relay's own client: the same
request on the wire, the same answer, the same trace events and the same httpx exceptions as
a request through httpx (``test_transport.py``), against real servers on loopback sockets."""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import socket
import struct
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any

import httpx
import pytest

from relay.clock import SystemClock
from relay.delivery._transport import (
    CONNECTING,
    SENDING,
    AiohttpTransport,
    DeliveryClient,
    DirectAnswer,
    RunAnswer,
)
from relay.delivery.retry import Outcome
from relay.delivery.sender import SendProgress, send_run
from relay.targets import Target
from tests.unit.delivery.test_transport import (
    BODY,
    Seen,
    Trace,
    _closed_port,
    replying,
    response,
    serving,
    silent,
    two_chunks,
)

HEADERS = [("Content-Type", "application/json"), ("x-notte-api-key", "k"), ("User-Agent", "r/1")]


@contextlib.asynccontextmanager
async def transport(**options: Any) -> AsyncIterator[AiohttpTransport]:
    t = AiohttpTransport(**options)
    try:
        yield t
    finally:
        await t.aclose()


async def post(
    t: AiohttpTransport,
    url: str,
    *,
    trace: Callable[[str, Mapping[str, Any]], Awaitable[None]] | None = None,
    content: bytes = BODY,
    path: str = "/functions/fn/runs/start",
    **timeouts: float,
) -> tuple[RunAnswer, bytes]:
    answer = await t.post(
        httpx.URL(url + path),
        HEADERS,
        content,
        timeouts={"connect": 5.0, "read": 5.0, "write": 5.0, "pool": 5.0, **timeouts},
        trace=trace,
    )
    try:
        return answer, await answer.aread()
    finally:
        await answer.aclose()


async def test_request_goes_out_with_the_given_headers_and_body() -> None:
    async with serving(replying(response())) as server, transport() as t:
        await post(t, server.url, path="/functions/a%2Fb%20c/runs/start")
    [seen] = server.requests
    assert seen.head.startswith("POST /functions/a%2Fb%20c/runs/start HTTP/1.1\r\n")
    assert seen.body == BODY
    assert sorted(seen.header_names()) == sorted(
        ["host", "content-length", "content-type", "x-notte-api-key", "user-agent"]
    )
    assert "user-agent: r/1\r\n" in seen.head.lower()


async def test_answer_status_headers_and_body_arrive() -> None:
    raw = response("201 Made Up", b'{"ok": true}', {"x-run": "r1", "Retry-After": "3"})
    async with serving(replying(raw)) as server, transport() as t:
        answer, body = await post(t, server.url)
    assert isinstance(answer, DirectAnswer)
    assert answer.status_code == 201
    assert answer.headers.get("retry-after") == "3"  # any case
    assert answer.headers["X-Run"] == "r1"
    assert body == b'{"ok": true}'


async def test_compressed_answer_is_decoded() -> None:
    raw = response(body=gzip.compress(b'{"ok": 1}'), headers={"content-encoding": "gzip"})
    async with serving(replying(raw)) as server, transport() as t:
        answer, body = await post(t, server.url)
    assert isinstance(answer, httpx.Response)
    assert body == b'{"ok": 1}'


async def test_streamed_answer_arrives_in_pieces_as_sent() -> None:
    async with serving(two_chunks) as server, transport() as t:
        answer = await t.post(httpx.URL(server.url + "/s"), HEADERS, BODY, timeouts={})
        pieces = [piece async for piece in answer.aiter_bytes()]
        await answer.aclose()
    assert pieces == [b"data: one\n\n", b"data: two\n\n"]


async def test_connections_are_kept_alive_and_a_closed_one_is_replaced() -> None:
    async with serving(replying(response())) as server, transport() as t:
        for _ in range(3):
            await post(t, server.url)
    assert (server.connections, len(server.requests)) == (1, 3)
    async with serving(replying(response(), keep=False)) as server, transport() as t:
        answers = [(await post(t, server.url))[0] for _ in range(4)]
    assert [a.status_code for a in answers] == [200] * 4
    assert (server.connections, len(server.requests)) == (4, 4)


async def test_trace_tells_connecting_then_sending_before_any_byte_is_written() -> None:
    arrived_before: list[int] = []
    events: list[str] = []
    async with serving(replying(response())) as server, transport() as t:

        async def slow_trace(name: str, info: Mapping[str, Any]) -> None:
            events.append(name)
            if name == SENDING:  # bytes written before this would arrive during the sleep
                await asyncio.sleep(0.1)
                arrived_before.append(len(server.requests))

        await post(t, server.url, trace=slow_trace)
    assert events == [CONNECTING, SENDING]
    assert arrived_before == [0]


async def test_connection_refused_is_connect_error_and_nothing_was_sent() -> None:
    trace = Trace()
    async with transport() as t:
        with pytest.raises(httpx.ConnectError):
            await post(t, f"http://127.0.0.1:{_closed_port()}", trace=trace)
    assert trace.events == [CONNECTING]


async def test_no_free_connection_within_the_pool_timeout_is_pool_timeout() -> None:
    async with serving(silent) as server, transport(limits=httpx.Limits(max_connections=1)) as t:
        hold = asyncio.create_task(post(t, server.url))
        await asyncio.sleep(0.1)
        trace = Trace()
        with pytest.raises(httpx.PoolTimeout):
            await post(t, server.url, trace=trace, pool=0.2)
        hold.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await hold
    assert not trace.sent


async def test_unsupported_scheme_is_refused() -> None:
    async with transport() as t:
        with pytest.raises(httpx.UnsupportedProtocol):
            await post(t, "ftp://127.0.0.1")


async def test_no_answer_within_the_read_timeout_is_read_timeout() -> None:
    trace = Trace()
    async with serving(silent) as server, transport() as t:
        with pytest.raises(httpx.ReadTimeout):
            await post(t, server.url, trace=trace, read=0.2)
    assert trace.sent


async def test_hang_up_and_reset_after_the_request_are_protocol_and_read_errors() -> None:
    async def hang_up(writer: asyncio.StreamWriter, seen: Seen) -> bool:
        return False

    async def reset(writer: asyncio.StreamWriter, seen: Seen) -> bool:
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        return False

    async with serving(hang_up) as server, transport() as t:
        with pytest.raises(httpx.RemoteProtocolError):
            await post(t, server.url)
    assert len(server.requests) == 1  # sent once: a request that may have arrived
    async with serving(reset) as server, transport() as t:
        with pytest.raises(httpx.ReadError):
            await post(t, server.url)


async def test_body_cut_short_is_remote_protocol_error_while_reading() -> None:
    raw = b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nonly part of it"
    async with serving(replying(raw, keep=False)) as server, transport() as t:
        with pytest.raises(httpx.RemoteProtocolError):
            await post(t, server.url)


# the client: when send_run takes this path ----------------------------------------------------


def test_a_client_with_other_transports_mounted_sends_everything_through_httpx() -> None:
    assert DeliveryClient(transport=AiohttpTransport()).direct is not None
    mounts = {"https://": httpx.AsyncHTTPTransport()}
    assert DeliveryClient(transport=AiohttpTransport(), mounts=mounts).direct is None
    assert (
        DeliveryClient(transport=httpx.MockTransport(lambda r: httpx.Response(200))).direct is None
    )


@pytest.mark.parametrize("stream", [False, True])
async def test_send_run_reads_the_same_result_either_way(stream: bool) -> None:
    answer = (
        b'{"function_id":"fn","function_run_id":"run-1","session_id":"s-1",'
        b'"status":"closed","result":{"n":1}}'
    )
    if stream:
        sse = b'data: {"type":"log","message":"hi"}\n\ndata: {"type":"result","message":%s}\n\n'
        quoted = httpx.Response(200, json=answer.decode()).content
        raw = response(body=sse % quoted, headers={"content-type": "text/event-stream"})
    else:
        raw = response(body=answer, headers={"content-type": "application/json"})
    results = []
    async with serving(replying(raw)) as server:
        target = Target("t", server.url, "key-1", timeout=5.0, connect_timeout=5.0)
        for client in (
            DeliveryClient(transport=AiohttpTransport()),
            httpx.AsyncClient(transport=AiohttpTransport()),
        ):
            async with client:
                progress = SendProgress()
                sent = await send_run(
                    client,
                    target,
                    function_id="fn",
                    variables={"a": 1},
                    stream=stream,
                    clock=SystemClock(),
                    progress=progress,
                )
                results.append((sent.outcome, sent.function_run_id, sent.result, sent.logs))
                assert progress.stage == "sent"
    assert results[0] == results[1]
    assert results[0][:3] == (Outcome.SUCCEEDED, "run-1", {"n": 1})
    heads = [seen.head.lower() for seen in server.requests]
    assert all("x-notte-api-key: key-1\r\n" in head for head in heads)
    assert all("authorization: bearer key-1\r\n" in head for head in heads)
    assert server.requests[0].body == server.requests[1].body
