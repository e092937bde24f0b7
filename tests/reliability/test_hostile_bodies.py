"""Signed bodies relay cannot process, for every provider that signs (or does not need to
sign) the body: 100,000-deep nesting, a 10,000-digit integer, ``NaN``/``Infinity``,
duplicate keys, text that is not JSON. Each is acknowledged (200: the provider delivered it),
stored as ``unprocessable`` with the reason, and never forwarded, never a 500. Schemes whose
credential or replay timestamp lives inside the body cannot be verified from such a body and
refuse it (401) instead."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from relay.providers import names
from tests.reliability.hostile_kit import signed, stored_status
from tests.reliability.kit import db_rows
from tests.reliability.shared import SharedRelay

#: The credential is inside the body (the signer writes it there, re-serialising the rest).
CREDENTIAL_IN_BODY = frozenset({"mailgun", "microsoft-graph"})
BODIES = {
    "nested-100k": (b"[" * 100_000 + b"]" * 100_000, "nested deeper"),
    "integer-10k-digits": (b'{"n": ' + b"9" * 10_000 + b"}", "more than 4300"),
    "nan": (b'{"type": "x", "n": NaN}', "NaN"),
    "infinity": (b'{"type": "x", "n": Infinity}', "Infinity"),
    "duplicate-keys": (b'{"type": "a", "type": "b"}', "duplicate JSON key"),
    "not-json": (b"this is not json {", "invalid JSON"),
}


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=30.0) as c:
        yield c


def _deliveries(shared: SharedRelay, event_id: str) -> int:
    rows = db_rows(shared.db, "SELECT count(*) FROM deliveries WHERE event_id = ?", (event_id,))
    return int(rows[0][0])


@pytest.mark.parametrize("case", sorted(BODIES))
@pytest.mark.parametrize("provider", names())
def test_signed_unprocessable_body_is_stored_with_its_reason_for_every_provider(
    shared_relay: SharedRelay, client: httpx.Client, provider: str, case: str
) -> None:
    body, reason = BODIES[case]
    if provider in CREDENTIAL_IN_BODY:  # no credential can be in such a body: sent as is
        s = signed(shared_relay, provider)
        reply = client.post(s.url, content=body, headers=s.headers)
        assert reply.status_code == 401, reply.text
        return
    options = {"body_hash": "true"} if provider == "twilio" else None  # JSON, not a form
    s = signed(
        shared_relay, provider, payload=body, content_type="application/json", options=options
    )
    reply = client.post(s.url, content=s.body, headers=s.headers)
    if provider == "linear":  # its replay timestamp is inside the unreadable body
        assert reply.status_code == 401, reply.text
        assert reply.json()["error"] in ("missing_timestamp", "invalid_timestamp")
        return
    assert reply.status_code == 200, reply.text
    status, error = stored_status(shared_relay, reply)
    assert status == "unprocessable"
    assert error is not None
    assert reason in error
    assert _deliveries(shared_relay, reply.json()["id"]) == 0
    logged = [
        json.loads(line)
        for line in shared_relay.relay.output().splitlines()
        if line.startswith("{") and reply.json()["id"] in line
    ]
    assert any(
        e["event"] == "relay.hook.received" and e["status"] == "unprocessable" for e in logged
    )


# A number too large for a float would be infinity, which is not JSON: such a body is stored
# as unprocessable, never forwarded (a route variable would reach the runner as ``Infinity``).
OVERFLOWS = {
    "1e400": b'{"type": "ping", "id": "evt_big", "n": 1e400}',
    "-1e400": b'{"type": "ping", "id": "evt_small", "n": -1e400}',
}


@pytest.mark.parametrize("case", sorted(OVERFLOWS))
def test_signed_number_too_large_for_a_float_is_stored_unprocessable(
    shared_relay: SharedRelay, client: httpx.Client, case: str
) -> None:
    s = signed(shared_relay, "stripe", payload=OVERFLOWS[case], content_type="application/json")
    reply = client.post(s.url, content=s.body, headers=s.headers)
    assert reply.status_code == 200, reply.text
    assert stored_status(shared_relay, reply)[0] == "unprocessable"
