"""Linear: the replay window lives in the signed body (``webhookTimestamp``, ms)."""

from __future__ import annotations

import json

import pytest

from relay.devtools.signing import sign
from tests.unit.providers.cases import build, reason_of, request

SECRET = "lin_wh_5ca1ab1e0ddba11"
NOW = 1_700_000_000.0


def _signed(body: bytes) -> dict[str, str]:
    return sign("linear", SECRET, body, NOW)


def _body(timestamp: object, **extra: object) -> bytes:
    return json.dumps(
        {"action": "create", "type": "Issue", "webhookTimestamp": timestamp, **extra}
    ).encode()


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (json.dumps({"action": "create", "type": "Issue"}).encode(), "missing_timestamp"),
        (_body(None), "missing_timestamp"),
        (b"not json at all", "missing_timestamp"),
        (b"[1, 2]", "missing_timestamp"),
        (b"\xff\xfe", "missing_timestamp"),
        (_body("1700000000000"), "invalid_timestamp"),
        (_body(1700000000000.5), "invalid_timestamp"),
        (_body(True), "invalid_timestamp"),
        (_body(-1), "invalid_timestamp"),
        (_body(10**20), "invalid_timestamp"),
        (_body([1700000000000]), "invalid_timestamp"),
        (_body(int(NOW * 1000) - 60_001), "timestamp_too_old"),
        (_body(int(NOW * 1000) + 60_001), "timestamp_in_future"),
        (_body(1700000000), "timestamp_too_old"),  # seconds, not milliseconds
    ],
)
def test_checks_the_body_timestamp_of_a_signed_body(body: bytes, reason: str) -> None:
    assert reason_of(build("linear", SECRET), request(body, _signed(body))) == reason


def test_the_body_is_not_read_before_the_signature_matched() -> None:
    signed = _body(int(NOW * 1000))
    forged = _body("garbage")
    assert reason_of(build("linear", SECRET), request(forged, _signed(signed))) == (
        "signature_mismatch"
    )


def test_accepts_a_fresh_body_and_names_the_event() -> None:
    body = _body(int(NOW * 1000) - 59_000, data={"id": "2174add1"})
    headers = {**_signed(body), "linear-delivery": "234d1a4e-b617-4388-90fe-adc3633d6b72"}
    provider = build("linear", SECRET)
    req = request(body, headers)
    provider.verify(req, NOW)
    parsed = json.loads(body)
    assert provider.event_type(req, parsed) == "Issue.create"
    assert provider.event_id(req, parsed) == "234d1a4e-b617-4388-90fe-adc3633d6b72"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"type": "Comment", "action": "update"}, "Comment.update"),
        ({"type": "Issue"}, "Issue"),
        ({"action": "create"}, None),
        ({"type": "Issue", "action": ["x"]}, "Issue"),
        ("Issue", None),
    ],
)
def test_event_type_joins_type_and_action(body: object, expected: str | None) -> None:
    assert build("linear", SECRET).event_type(request(b"", {}), body) == expected
