"""Slack specifics: the documented example, the official SDK, url_verification, event names."""

from __future__ import annotations

import json
import time

import pytest
from slack_sdk.signature import Clock, SignatureVerifier

from relay.body_format import parse_body
from relay.devtools.signing import sign
from relay.providers.base import VerificationError
from tests.unit.providers.cases import build, reason_of, request

# Slack's documented example ("Verifying requests from Slack"). Note the token
# (xyzz0WbapA4vBCDEFasx0q6G) and command (/webhook-collect): variants of this body quoted
# elsewhere with other values do not match the published signature.
DOC_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
DOC_TIMESTAMP = "1531420618"
DOC_BODY = (
    b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow"
    b"&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner"
    b"&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands"
    b"%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN"
    b"&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
)
DOC_SIGNATURE = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
DOC_NOW = float(DOC_TIMESTAMP) + 30
DOC_HEADERS = {
    "x-slack-signature": DOC_SIGNATURE,
    "x-slack-request-timestamp": DOC_TIMESTAMP,
    "content-type": "application/x-www-form-urlencoded",
}
SECRET = "slack-signing-secret"
NOW = 1_700_000_000.0


class FixedClock(Clock):
    def __init__(self, now: float) -> None:
        self._now = now

    def now(self) -> float:
        return self._now


def test_accepts_slacks_documented_example() -> None:
    build("slack", DOC_SECRET).verify(request(DOC_BODY, DOC_HEADERS), DOC_NOW)


def test_documented_example_fails_with_one_changed_byte_or_late() -> None:
    provider = build("slack", DOC_SECRET)
    changed = DOC_BODY.replace(b"roadrunner", b"roadrunnes")
    assert reason_of(provider, request(changed, DOC_HEADERS), DOC_NOW) == "signature_mismatch"
    late = float(DOC_TIMESTAMP) + 301
    assert reason_of(provider, request(DOC_BODY, DOC_HEADERS), late) == "timestamp_too_old"


def test_documented_slash_command_is_named_by_its_command() -> None:
    provider = build("slack", DOC_SECRET)
    parsed = parse_body(DOC_BODY, "application/x-www-form-urlencoded")
    req = request(DOC_BODY, DOC_HEADERS)
    assert provider.event_type(req, parsed) == "/webhook-collect"
    assert provider.event_id(req, parsed) is None


def test_relay_accepts_what_the_sdk_signs() -> None:
    body = b'{"type":"event_callback","event":{"type":"message"}}'
    sdk = SignatureVerifier(SECRET, clock=FixedClock(NOW))
    signature = sdk.generate_signature(timestamp=str(int(NOW)), body=body)
    assert signature is not None
    headers = {"x-slack-signature": signature, "x-slack-request-timestamp": str(int(NOW))}
    build("slack", SECRET).verify(request(body, headers), NOW)


def test_the_sdk_accepts_what_relay_signs() -> None:
    body = b"command=%2Fdeploy&text=prod"
    now = time.time()
    headers = sign("slack", SECRET, body, now)
    assert SignatureVerifier(SECRET, clock=FixedClock(now)).is_valid_request(body, headers)
    assert not SignatureVerifier("other", clock=FixedClock(now)).is_valid_request(body, headers)


def _signed(body: bytes, secret: str = SECRET) -> dict[str, str]:
    return sign("slack", secret, body, NOW)


def test_answers_a_signed_url_verification_with_the_challenge() -> None:
    body = json.dumps(
        {
            "token": "Jhj5dZrVaK7ZwHHjRyZWjbDl",
            "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
            "type": "url_verification",
        }
    ).encode()
    reply = build("slack", SECRET).handshake(request(body, _signed(body)), NOW)
    assert reply is not None
    assert reply.status_code == 200
    assert reply.media_type == "text/plain"
    assert reply.body == b"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({}, "missing_signature"),
        ({"x-slack-request-timestamp": "1700000000"}, "missing_signature"),
        ({"x-slack-signature": "v0=" + "0" * 64}, "missing_timestamp"),
        (
            {"x-slack-signature": "v0=" + "0" * 64, "x-slack-request-timestamp": "1700000000"},
            "signature_mismatch",
        ),
    ],
)
def test_refuses_an_unsigned_or_badly_signed_url_verification(
    headers: dict[str, str], reason: str
) -> None:
    body = b'{"type":"url_verification","challenge":"abc"}'
    with pytest.raises(VerificationError) as info:
        build("slack", SECRET).handshake(request(body, headers), NOW)
    assert info.value.reason == reason


def test_url_verification_signed_with_another_secret_is_refused() -> None:
    body = b'{"type":"url_verification","challenge":"abc"}'
    with pytest.raises(VerificationError) as info:
        build("slack", SECRET).handshake(request(body, _signed(body, "other")), NOW)
    assert info.value.reason == "signature_mismatch"


def test_a_stale_url_verification_is_refused() -> None:
    body = b'{"type":"url_verification","challenge":"abc"}'
    headers = sign("slack", SECRET, body, NOW - 301)
    with pytest.raises(VerificationError) as info:
        build("slack", SECRET).handshake(request(body, headers), NOW)
    assert info.value.reason == "timestamp_too_old"


@pytest.mark.parametrize(
    "body",
    [
        b'{"type":"event_callback","event":{"type":"message","text":"url_verification"}}',
        b'{"type":"url_verification"}',
        b'{"type":"url_verification","challenge":5}',
        b"url_verification, not JSON",
    ],
)
def test_a_signed_body_that_is_not_a_complete_url_verification_is_no_handshake(
    body: bytes,
) -> None:
    provider = build("slack", SECRET)
    req = request(body, _signed(body))
    assert provider.handshake(req, NOW) is None
    provider.verify(req, NOW)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"type": "event_callback", "event": {"type": "app_mention"}}, "app_mention"),
        ({"type": "event_callback", "event": "odd"}, "event_callback"),
        ({"type": "app_rate_limited", "minute_rate_limited": 1518467820}, "app_rate_limited"),
        ({"command": "/deploy", "text": "prod"}, "/deploy"),
        ({"payload": json.dumps({"type": "block_actions", "actions": []})}, "block_actions"),
        ({"payload": "{not json"}, None),
        ({"payload": json.dumps(["x"])}, None),
        ([{"type": "x"}], None),
        (None, None),
    ],
)
def test_names_events_callbacks_commands_and_interactions(
    body: object, expected: str | None
) -> None:
    assert build("slack", SECRET).event_type(request(b"", {}), body) == expected


def test_event_id_is_the_body_event_id_and_never_the_timestamp() -> None:
    provider = build("slack", SECRET)
    req = request(b"", {"x-slack-request-timestamp": "1700000000"})
    assert provider.event_id(req, {"event_id": "Ev08MFMKH6"}) == "Ev08MFMKH6"
    assert provider.event_id(req, {"command": "/x"}) is None
