"""How far a request got, on real sockets through relay's delivery sender (aiohttp): the
difference between "the run may have started" and "nothing was sent", which
decides release versus review on shutdown."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest

from relay.clock import SystemClock
from relay.delivery.outbound import FakeSender, Reply, Request
from relay.delivery.retry import Outcome
from relay.delivery.sender import (
    SendProgress,
    SendStage,
    delivery_client,
    request_headers,
    send_run,
)
from relay.targets import Target


@contextlib.asynccontextmanager
async def silent_server() -> AsyncIterator[int]:
    """Accepts connections and reads, but never writes a byte (no TLS, no HTTP answer)."""
    readers: list[asyncio.StreamWriter] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        readers.append(writer)
        with contextlib.suppress(Exception):
            while await reader.read(65536):
                pass

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        for writer in readers:
            writer.close()
        server.close()
        await server.wait_closed()


async def _cut_after(url: str, seconds: float) -> SendProgress:
    progress = SendProgress()
    target = Target(name="t", base_url=url, api_key="k", timeout=30, connect_timeout=30)
    async with delivery_client() as client:
        task = asyncio.create_task(
            send_run(
                client,
                target,
                function_id="fn",
                variables={},
                stream=True,
                clock=SystemClock(),
                progress=progress,
            )
        )
        await asyncio.sleep(seconds)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    return progress


async def test_cut_during_the_tls_handshake_has_sent_nothing() -> None:
    async with silent_server() as port:
        progress = await _cut_after(f"https://127.0.0.1:{port}", 0.3)
    assert progress.stage is SendStage.CONNECTING
    assert not progress.may_have_been_sent


async def test_cut_while_waiting_for_the_answer_may_have_started_the_run() -> None:
    async with silent_server() as port:
        progress = await _cut_after(f"http://127.0.0.1:{port}", 0.3)
    assert progress.stage is SendStage.SENT
    assert progress.may_have_been_sent


async def test_tls_handshake_that_never_completes_is_retryable() -> None:
    async with silent_server() as port:
        target = Target(
            name="t",
            base_url=f"https://127.0.0.1:{port}",
            api_key="k",
            timeout=0.2,
            connect_timeout=0.2,
        )
        async with delivery_client() as client:
            result = await send_run(
                client, target, function_id="fn", variables={}, stream=True, clock=SystemClock()
            )
    assert result.outcome is Outcome.RETRYABLE
    assert result.error is not None
    assert result.error.startswith("not sent")


async def test_connection_refused_is_retryable() -> None:
    async with silent_server() as port:
        pass  # closed: nothing listens on the port any more
    target = Target(name="t", base_url=f"http://127.0.0.1:{port}", api_key="k")
    async with delivery_client() as client:
        result = await send_run(
            client, target, function_id="fn", variables={}, stream=True, clock=SystemClock()
        )
    assert result.outcome is Outcome.RETRYABLE


@pytest.mark.parametrize("code", [301, 302, 307, 308])
async def test_redirect_is_final_never_followed(code: int) -> None:
    def redirect(request: Request) -> Reply:
        return Reply(code, headers={"location": "https://elsewhere.test/"})

    target = Target(name="t", base_url="https://api.notte.test", api_key="k")
    async with FakeSender(redirect) as client:
        result = await send_run(
            client, target, function_id="fn", variables={}, stream=False, clock=SystemClock()
        )
    assert result.outcome is Outcome.FATAL
    assert result.status_code == code


def test_pool_never_caps_connections_below_the_targets_concurrency() -> None:
    # no cap at all: each target's max_concurrency caps what is in flight
    assert delivery_client().max_connections is None


def test_idempotency_header_only_when_the_target_names_one() -> None:
    plain = Target(name="t", base_url="http://x", api_key="k")
    keyed = Target(name="t", base_url="http://x", api_key="k", idempotency_header="Idem-Key")
    assert request_headers(plain, "dlv_1") == {}
    assert request_headers(keyed, "dlv_1") == {"Idem-Key": "dlv_1"}
