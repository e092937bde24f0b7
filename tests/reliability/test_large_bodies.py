"""Body limits per provider on a real ``relay serve`` (sources without ``max_body_bytes``):
a signed GitHub push of several MiB, well under GitHub's documented 25 MB, is stored and
routed, where relay used to answer 413 above 1 MiB and so lose the event at the source; a
body over GitHub's 25 MB is refused before it is read; a provider that documents no maximum
takes the general default (10 MiB) and no more; huge JSON integers are kept exactly."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import httpx
import pytest

from relay.providers.body_limits import DEFAULT_MAX_BODY_BYTES
from relay.providers.registry import get_spec
from tests.helpers import github_headers, write_config
from tests.reliability.hostile_kit import signed, stored_status
from tests.reliability.kit import RelayProcess, db_rows
from tests.reliability.raw_http import RawReply, exchange, head
from tests.reliability.shared import SharedRelay


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=120.0) as c:
        yield c


def _issue_of_size(size: int, number: int = 77) -> bytes:
    payload = {
        "action": "opened",
        "issue": {"number": number, "title": "Large", "body": "x" * size},
        "repository": {"full_name": "octo/repo"},
    }
    return json.dumps(payload).encode()


def _declared(shared: SharedRelay, path: str, headers: dict[str, str]) -> RawReply:
    """Only the request's head, declaring a length: the answer comes before any body."""
    headers = {k: v for k, v in headers.items() if k.lower() != "content-length"} | {
        "Content-Length": headers.get("Content-Length", "0")
    }
    return asyncio.run(exchange(shared.relay.port, head("POST", path, headers)))


def test_a_signed_github_body_of_several_mib_is_stored_and_routed(
    shared_relay: SharedRelay, client: httpx.Client
) -> None:
    body = _issue_of_size(6 * 1024 * 1024)
    headers = github_headers(body, delivery="large-6mib")
    reply = client.post(shared_relay.hook("github"), content=body, headers=headers)
    assert reply.status_code == 200, reply.text
    assert stored_status(shared_relay, reply) == ("routed", None)
    ((size,),) = db_rows(
        shared_relay.db, "SELECT length(body) FROM events WHERE id = ?", (reply.json()["id"],)
    )
    assert size == len(body)


def test_a_body_over_githubs_documented_maximum_is_refused_before_it_is_read(
    shared_relay: SharedRelay, client: httpx.Client
) -> None:
    limit = get_spec("github").max_body_bytes
    headers = {**github_headers(b"{}", delivery="large-over"), "Content-Length": str(limit + 1)}
    reply = _declared(shared_relay, "/hooks/github", headers)
    assert reply.status == 413
    assert str(limit).encode() in reply.data


def test_a_provider_without_a_documented_maximum_takes_the_general_default(
    shared_relay: SharedRelay, client: httpx.Client
) -> None:
    s = signed(shared_relay, "stripe")
    over = {**s.headers, "Content-Length": str(DEFAULT_MAX_BODY_BYTES + 1)}
    refused = _declared(shared_relay, "/hooks/stripe", over)
    assert refused.status == 413
    assert str(DEFAULT_MAX_BODY_BYTES).encode() in refused.data
    payload = json.dumps({"id": "evt_large", "type": "ping", "pad": "y" * 3_000_000}).encode()
    s = signed(shared_relay, "stripe", payload=payload, content_type="application/json")
    reply = client.post(s.url, content=s.body, headers=s.headers)
    assert reply.status_code == 200, reply.text


def test_a_4000_digit_integer_is_kept_and_forwarded_exactly(
    shared_relay: SharedRelay, client: httpx.Client
) -> None:
    number = int("7" * 4000)
    payload = {
        "action": "opened",
        "issue": {"number": number, "title": "Big"},
        "repository": {"full_name": "octo/repo"},
    }
    body = json.dumps(payload).encode()
    reply = client.post(
        shared_relay.hook("github"), content=body, headers=github_headers(body, delivery="int-4k")
    )
    assert reply.status_code == 200, reply.text
    assert stored_status(shared_relay, reply) == ("routed", None)
    ((variables,),) = db_rows(
        shared_relay.db,
        "SELECT variables FROM deliveries WHERE event_id = ?",
        (reply.json()["id"],),
    )
    assert json.loads(variables)["number"] == number


def test_an_integer_over_4300_digits_is_stored_unprocessable_with_the_limit(
    shared_relay: SharedRelay, client: httpx.Client
) -> None:
    body = b'{"action": "opened", "issue": {"number": ' + b"7" * 4301 + b"}}"
    reply = client.post(
        shared_relay.hook("github"), content=body, headers=github_headers(body, delivery="int-5k")
    )
    assert reply.status_code == 200, reply.text
    status, error = stored_status(shared_relay, reply)
    assert status == "unprocessable"
    assert error == "JSON integer with 4301 digits: more than 4300 are not accepted"


async def test_bodies_held_at_once_are_bounded_over_all_connections(tmp_path: Path) -> None:
    """With ``--body-memory 3000000``: a client holding 2.5 MB of a 20 MB GitHub body open
    (under GitHub's 25 MiB, so no 413) leaves room for no second megabyte: another request's
    body gets 503 ``busy`` with Retry-After until the first connection is gone."""
    relay = RelayProcess(write_config(tmp_path / "relay.yaml"), tmp_path / "relay.db", tmp_path)
    relay.extra = ("--body-memory", "3000000")
    relay.start()
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", relay.port)
        declared = {**github_headers(b"{}", delivery="held"), "Content-Length": "20000000"}
        writer.write(head("POST", "/hooks/github", declared) + b" " * 2_500_000)
        await writer.drain()
        second = b'{"pad": "' + b"z" * 1_000_000 + b'"}'  # unsigned: 401 once there is room
        async with httpx.AsyncClient(timeout=30) as client:

            async def post() -> httpx.Response:
                return await client.post(
                    f"{relay.url}/hooks/github", content=second, headers=github_headers(b"x")
                )

            busy = await _first(post, lambda r: r.status_code == 503)
            assert busy.json()["error"] == "busy"
            assert busy.headers["retry-after"] == "1"
            writer.close()
            await reader.read()  # the held connection is gone: its bytes are given back
            freed = await _first(post, lambda r: r.status_code != 503)
            assert freed.status_code == 401
    finally:
        relay.kill()
    assert "relay.hook.bodies_busy" in relay.output()


async def _first(
    send: Callable[[], Awaitable[httpx.Response]], wanted: Callable[[httpx.Response], bool]
) -> httpx.Response:
    """The first answer ``wanted`` of a bounded number of tries (relay reads the held body
    while the tries go on)."""
    for _ in range(200):
        reply = await send()
        if wanted(reply):
            return reply
        await asyncio.sleep(0.05)
    raise AssertionError(f"no wanted answer; the last was {reply.status_code}")
