"""Signed compressed bodies (``Content-Encoding: gzip|deflate``, the signature over the
compressed bytes) on a real ``relay serve``: inflated after verification and routed like any
other; a decompression bomb (200 KB inflating to 200 MiB) refused with 413 and the reason,
and never inflated past the source's limit; bytes that do not inflate stored
``unprocessable`` with the reason; a wrong signature over compressed bytes still 401."""

from __future__ import annotations

import gzip
import json
import zlib
from collections.abc import Iterator

import httpx
import pytest

from tests.helpers import github_headers
from tests.reliability.hostile_kit import stored_status
from tests.reliability.kit import db_rows
from tests.reliability.shared import SharedRelay


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=60.0) as c:
        yield c


def _issue(number: int) -> bytes:
    payload = {
        "action": "opened",
        "issue": {"number": number, "title": "Compressed " * 50},
        "repository": {"full_name": "octo/repo"},
    }
    return json.dumps(payload).encode()


def _post(
    shared: SharedRelay, client: httpx.Client, raw: bytes, encoding: str, delivery: str
) -> httpx.Response:
    headers = github_headers(raw, delivery=delivery)  # signed over the bytes sent
    headers["Content-Encoding"] = encoding
    return client.post(shared.hook("github"), content=raw, headers=headers)


@pytest.mark.parametrize(
    ("encoding", "compress"),
    [
        ("gzip", gzip.compress),
        ("deflate", zlib.compress),
        ("deflate-raw", lambda b: zlib.compress(b, wbits=-zlib.MAX_WBITS)),
    ],
)
def test_a_signed_compressed_body_is_inflated_after_verification_and_routed(
    shared_relay: SharedRelay, client: httpx.Client, encoding: str, compress: object
) -> None:
    body = _issue(4242)
    raw = compress(body)  # type: ignore[operator]
    sent = "deflate" if encoding == "deflate-raw" else encoding
    reply = _post(shared_relay, client, raw, sent, f"compressed-{encoding}")
    assert reply.status_code == 200, reply.text
    assert stored_status(shared_relay, reply) == ("routed", None)
    event_id = reply.json()["id"]
    ((stored,),) = db_rows(shared_relay.db, "SELECT body FROM events WHERE id = ?", (event_id,))
    assert bytes(stored) == body
    ((variables,),) = db_rows(
        shared_relay.db, "SELECT variables FROM deliveries WHERE event_id = ?", (event_id,)
    )
    assert json.loads(variables)["number"] == 4242


def test_a_decompression_bomb_is_refused_with_the_reason(
    shared_relay: SharedRelay, client: httpx.Client
) -> None:
    bomb = gzip.compress(b'{"a": "' + b"0" * (200 * 1024 * 1024) + b'"}', compresslevel=9)
    assert len(bomb) < 250 * 1024
    reply = _post(shared_relay, client, bomb, "gzip", "compressed-bomb")
    assert reply.status_code == 413, reply.text
    assert reply.json()["error"] == "body_too_large"
    assert "decompresses to more than" in reply.json()["detail"]
    assert shared_relay.relay.alive


def test_a_body_inflating_beyond_the_ratio_limit_is_refused(
    shared_relay: SharedRelay, client: httpx.Client
) -> None:
    """2 MiB of zeros compress to about 2 KB: more than 200 times, above the 1 MiB floor."""
    raw = gzip.compress(b'{"a": "' + b"0" * (2 * 1024 * 1024) + b'"}', compresslevel=9)
    reply = _post(shared_relay, client, raw, "gzip", "compressed-ratio")
    assert reply.status_code == 413, reply.text
    assert "times its" in reply.json()["detail"]


@pytest.mark.parametrize(
    ("raw", "encoding", "reason"),
    [
        (b"\x1f\x8b\x08\x00not really gzip", "gzip", "does not decompress"),
        (gzip.compress(b'{"action": "opened"}')[:-12], "gzip", "truncated"),
        (b'{"action": "opened"}', "br", "not supported"),
    ],
    ids=["not-gzip", "truncated", "brotli"],
)
def test_signed_bytes_that_do_not_inflate_are_stored_unprocessable(
    shared_relay: SharedRelay, client: httpx.Client, raw: bytes, encoding: str, reason: str
) -> None:
    reply = _post(shared_relay, client, raw, encoding, f"compressed-bad-{reason}")
    assert reply.status_code == 200, reply.text
    status, error = stored_status(shared_relay, reply)
    assert status == "unprocessable"
    assert error is not None
    assert reason in error


def test_a_wrong_signature_over_a_compressed_body_is_still_refused(
    shared_relay: SharedRelay, client: httpx.Client
) -> None:
    body = _issue(1)
    headers = github_headers(body, delivery="compressed-unsigned")  # over the plain bytes
    headers["Content-Encoding"] = "gzip"
    reply = client.post(shared_relay.hook("github"), content=gzip.compress(body), headers=headers)
    assert reply.status_code == 401
