"""The receive deadline in process: a body that stalls is answered 408 and nothing is
stored; the HTTP protocol's header deadline refuses nonsense settings. (Real sockets, the
header deadline and slowloris: tests/reliability/test_hostile_transport.py.)"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from relay.http.protocol import header_deadline_protocol
from relay.store.log_queries import EventQuery
from tests.harness import running_relay
from tests.helpers import github_headers, issue_opened, write_config


async def test_a_body_that_stalls_past_the_receive_timeout_is_408(tmp_path: Path) -> None:
    body = issue_opened(1)

    async def stalls() -> AsyncIterator[bytes]:
        yield body[:10]
        await asyncio.sleep(30)
        yield body[10:]

    config = write_config(tmp_path / "relay.yaml")
    async with running_relay(config, receive_timeout=0.2) as relay:
        reply = await relay.client.post(
            "/hooks/github", content=stalls(), headers=github_headers(body)
        )
        assert reply.status_code == 408
        assert reply.json()["error"] == "body_timeout"
        assert reply.headers["connection"] == "close"
        assert await relay.store.query_events(EventQuery()) == []


async def test_a_body_within_the_receive_timeout_is_taken(tmp_path: Path) -> None:
    body = issue_opened(2)

    async def slowly() -> AsyncIterator[bytes]:
        for i in range(0, len(body), 16):
            await asyncio.sleep(0.01)
            yield body[i : i + 16]

    config = write_config(tmp_path / "relay.yaml")
    async with running_relay(config, receive_timeout=5.0) as relay:
        reply = await relay.client.post(
            "/hooks/github", content=slowly(), headers=github_headers(body)
        )
        assert reply.status_code == 200


@pytest.mark.parametrize(("seconds", "size"), [(0.0, 1024), (-1.0, 1024), (1.0, 0)])
def test_the_header_deadline_needs_positive_settings(seconds: float, size: int) -> None:
    with pytest.raises(ValueError, match="positive"):
        header_deadline_protocol(seconds, size)


def test_the_protocol_class_carries_its_settings() -> None:
    protocol = header_deadline_protocol(3.5, 4096)
    assert (protocol.header_timeout, protocol.max_header_bytes) == (3.5, 4096)
