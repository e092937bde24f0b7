from __future__ import annotations

import json
from typing import Any

import pytest

from relay.providers._schemes import SchemeProvider
from relay.providers.twitter import SCHEME, SPEC, crc_response
from tests.unit.providers._kit import (
    NOW,
    b64,
    config_key,
    handshake_reason,
    hmac_sha256,
    reason_of,
    request,
)

SECRET = "consumer-secret-xyz"
BODY = json.dumps({"for_user_id": "2244994945", "tweet_create_events": [{"id_str": "1"}]}).encode()
HEADER = "x-twitter-webhooks-signature"


def sign(body: bytes, secret: str = SECRET) -> dict[str, str]:
    return {HEADER: "sha256=" + b64(hmac_sha256(secret, body))}


def provider(*secrets: str) -> SchemeProvider:
    built: SchemeProvider = SCHEME.build(list(secrets or (SECRET,)), {})
    return built


def test_accepts_a_signed_event() -> None:
    provider().verify(request(BODY, sign(BODY)), NOW)


def test_rejects_tamper_wrong_secret_and_accepts_rotation() -> None:
    tampered = BODY.replace(b"2244994945", b"2244994946")
    assert reason_of(provider(), request(tampered, sign(BODY))) == "signature_mismatch"
    assert reason_of(provider("other"), request(BODY, sign(BODY))) == "signature_mismatch"
    provider("other", SECRET).verify(request(BODY, sign(BODY)), NOW)


def test_rejects_missing_and_malformed_signatures() -> None:
    assert reason_of(provider(), request(BODY, {})) == "missing_signature"
    hex_digest = "sha256=" + hmac_sha256(SECRET, BODY).hex()
    for value in ("", "sha256=", hex_digest, b64(hmac_sha256(SECRET, BODY)), "sha256=%%%"):
        assert reason_of(provider(), request(BODY, {HEADER: value})) == "malformed_signature"


def test_answers_the_crc_check_with_the_first_secret() -> None:
    req = request(method="GET", query={"crc_token": "challenge-123"})
    reply = provider(SECRET, "older").handshake(req, NOW)
    assert reply is not None
    assert (reply.status_code, reply.media_type) == (200, "application/json")
    expected = "sha256=" + b64(hmac_sha256(SECRET, b"challenge-123"))
    assert json.loads(reply.body) == {"response_token": expected}
    assert crc_response(SECRET.encode(), "challenge-123") == expected


@pytest.mark.parametrize("token", ["", "a\nb", "x" * 5000])
def test_refuses_unusable_crc_tokens(token: str) -> None:
    req = request(method="GET", query={"crc_token": token})
    assert handshake_reason(provider(), req) == "malformed_challenge"


def test_other_requests_are_not_handshakes() -> None:
    assert provider().handshake(request(method="GET"), NOW) is None
    assert provider().handshake(request(BODY, sign(BODY), query={"crc_token": "x"}), NOW) is None


@pytest.mark.parametrize(
    ("body", "event_type"),
    [
        (json.loads(BODY), "tweet_create_events"),
        ({"for_user_id": "1", "direct_message_events": [], "users": {}}, "direct_message_events"),
        ({"for_user_id": "1"}, None),
        ([], None),
        (None, None),
    ],
)
def test_event_type(body: Any, event_type: str | None) -> None:
    assert provider().event_type(request(), body) == event_type
    assert provider().event_id(request(), body) is None


def test_rejects_bad_config() -> None:
    assert config_key(SPEC.build, [], {}) == "secrets"
    assert config_key(SPEC.build, [SECRET], {"tolerance": 5}) == "tolerance"


def test_spec() -> None:
    assert SPEC.name == "twitter"
    assert SPEC.allows_get
    assert SECRET not in repr(provider())
