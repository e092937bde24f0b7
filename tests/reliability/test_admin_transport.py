"""Admin request bodies over raw sockets against a real ``relay serve`` (the shared one: no
admin token, so loopback clients are admitted): a declared length over the 1 MiB cap is 413
before any body is sent, a chunked body past it is 413, a body that stalls is closed by the
receive deadline with 408, each with a JSON reason, and nothing reaches a handler."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from relay.web.body_limit import MAX_ADMIN_BODY
from tests.reliability.raw_http import RawReply, exchange, head
from tests.reliability.shared import RECEIVE_TIMEOUT, SharedRelay

#: A deadline's answer may come this much later than the deadline (a busy 2-core machine).
SLACK = 8.0
JSON = {"Content-Type": "application/json"}
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
#: Admin endpoints that read a body (and one that does not), and the login form.
PATHS = [
    ("/api/deliveries/replay", JSON),
    ("/api/deliveries/dlv_nope/cancel", JSON),
    ("/api/targets/notte/pause", JSON),
    ("/api/config/reload", JSON),
    ("/ui/login", FORM),
]


def _json(reply: RawReply) -> Any:
    _, _, body = reply.data.partition(b"\r\n\r\n")
    return json.loads(body)


def _audits(shared: SharedRelay) -> int:
    from tests.reliability.kit import db_rows

    return int(db_rows(shared.db, "SELECT count(*) FROM audit")[0][0])


@pytest.mark.parametrize(("path", "media"), PATHS)
async def test_declared_admin_body_over_one_mebibyte_is_413_before_any_body_is_sent(
    shared_relay: SharedRelay, path: str, media: dict[str, str]
) -> None:
    headers = {**media, "Content-Length": str(MAX_ADMIN_BODY + 1)}
    reply = await exchange(shared_relay.relay.port, head("POST", path, headers))
    assert reply.status == 413
    assert reply.closed
    assert _json(reply)["error"] == "body_too_large"


async def test_chunked_admin_body_past_one_mebibyte_is_413(shared_relay: SharedRelay) -> None:
    chunk = b"10000\r\n" + b"a" * 0x10000 + b"\r\n"  # 64 KiB chunks
    headers = {**JSON, "Transfer-Encoding": "chunked"}
    # Just past the limit: bytes sent beyond what relay reads before it answers and closes
    # would make the kernel reset the connection, which can drop the 413 on its way.
    parts = [head("POST", "/api/deliveries/replay", headers), *([chunk] * 17)]
    reply = await exchange(shared_relay.relay.port, *parts)
    assert reply.status == 413
    assert _json(reply)["error"] == "body_too_large"


@pytest.mark.parametrize(
    ("framing", "first"),
    [
        ({"Content-Length": "100"}, b'{"dry_run": true, "all'),
        ({"Transfer-Encoding": "chunked"}, b'9\r\n{"dry_run\r\n'),
    ],
    ids=["content-length", "chunked"],
)
@pytest.mark.parametrize(("path", "media"), PATHS)
async def test_admin_body_that_stalls_is_closed_by_the_receive_deadline_with_408(
    shared_relay: SharedRelay,
    path: str,
    media: dict[str, str],
    framing: dict[str, str],
    first: bytes,
) -> None:
    before = _audits(shared_relay)
    request = head("POST", path, {**media, **framing})
    reply = await exchange(shared_relay.relay.port, request + first, within=RECEIVE_TIMEOUT + SLACK)
    assert reply.status == 408
    assert reply.closed
    assert reply.elapsed >= RECEIVE_TIMEOUT * 0.9
    assert _json(reply) == {
        "error": "body_timeout",
        "detail": f"the body was not received within {RECEIVE_TIMEOUT:g} seconds",
    }
    assert _audits(shared_relay) == before  # no handler ran: nothing paused, replayed
    log = shared_relay.relay.output()
    assert "relay.admin.body_timeout" in log
    assert first.decode() not in log  # what a stalled body held is never logged


async def test_admin_body_trickled_slower_than_the_deadline_is_408(
    shared_relay: SharedRelay,
) -> None:
    body = b'{"dry_run": true, "all": true}'
    request = head("POST", "/api/deliveries/replay", {**JSON, "Content-Length": str(len(body))})
    parts = [request, *(body[i : i + 1] for i in range(len(body)))]
    # one byte every 0.25 s: the body would take ~7.5 s, the deadline is 2 s after the head
    reply = await exchange(
        shared_relay.relay.port, *parts, pause=0.25, within=RECEIVE_TIMEOUT + SLACK
    )
    assert reply.status == 408
    assert _json(reply)["error"] == "body_timeout"


async def test_admin_bodies_sent_in_time_are_answered_normally(shared_relay: SharedRelay) -> None:
    async with httpx.AsyncClient(base_url=shared_relay.url, timeout=30.0) as client:
        dry = await client.post("/api/deliveries/replay", json={"all": True, "dry_run": True})
        assert dry.status_code == 200, dry.text
        assert dry.json()["dry_run"] is True
        missing = await client.post("/api/deliveries/dlv_nope/cancel", json={"reason": "x"})
        assert missing.status_code == 404
        assert missing.json()["error"] == "not_found"
