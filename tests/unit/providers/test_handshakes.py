"""The handshakes of Zoom (signed), Dropbox (GET challenge) and Notion (unsigned token)."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from relay.devtools.signing import sign
from relay.providers.base import VerificationError
from tests.unit.providers.cases import build, reason_of, request

NOW = 1_700_000_000.0
ZOOM_SECRET = "zoom-secret-token"
ZOOM_VALIDATION = json.dumps(
    {
        "payload": {"plainToken": "qgg8vlvZRS6UYooatFL8Aw"},
        "event_ts": 1654503849680,
        "event": "endpoint.url_validation",
    }
).encode()


def test_zoom_answers_url_validation_with_the_hmac_of_the_plain_token() -> None:
    provider = build("zoom", ZOOM_SECRET)
    req = request(ZOOM_VALIDATION, sign("zoom", ZOOM_SECRET, ZOOM_VALIDATION, NOW))
    reply = provider.handshake(req, NOW)
    assert reply is not None
    assert reply.status_code == 200
    assert reply.media_type == "application/json"
    expected = hmac.new(ZOOM_SECRET.encode(), b"qgg8vlvZRS6UYooatFL8Aw", hashlib.sha256)
    assert json.loads(reply.body) == {
        "plainToken": "qgg8vlvZRS6UYooatFL8Aw",
        "encryptedToken": expected.hexdigest(),
    }


def test_zoom_answers_with_the_first_secret_during_rotation() -> None:
    provider = build("zoom", "current-secret", ZOOM_SECRET)
    req = request(ZOOM_VALIDATION, sign("zoom", ZOOM_SECRET, ZOOM_VALIDATION, NOW))
    reply = provider.handshake(req, NOW)
    assert reply is not None
    expected = hmac.new(b"current-secret", b"qgg8vlvZRS6UYooatFL8Aw", hashlib.sha256)
    assert json.loads(reply.body)["encryptedToken"] == expected.hexdigest()


@pytest.mark.parametrize(
    ("secret", "t", "reason"),
    [
        ("wrong-secret", NOW, "signature_mismatch"),
        (ZOOM_SECRET, NOW - 301, "timestamp_too_old"),
        (ZOOM_SECRET, NOW + 301, "timestamp_in_future"),
    ],
)
def test_zoom_refuses_a_validation_that_fails_verification(
    secret: str, t: float, reason: str
) -> None:
    req = request(ZOOM_VALIDATION, sign("zoom", secret, ZOOM_VALIDATION, t))
    with pytest.raises(VerificationError) as info:
        build("zoom", ZOOM_SECRET).handshake(req, NOW)
    assert info.value.reason == reason


def test_zoom_refuses_an_unsigned_validation() -> None:
    with pytest.raises(VerificationError) as info:
        build("zoom", ZOOM_SECRET).handshake(request(ZOOM_VALIDATION, {}), NOW)
    assert info.value.reason == "missing_signature"


@pytest.mark.parametrize(
    "payload",
    [{"plainToken": ""}, {"plainToken": 5}, {}, "token", None],
)
def test_zoom_validation_without_a_usable_token_is_no_handshake(payload: object) -> None:
    body = json.dumps({"event": "endpoint.url_validation", "payload": payload}).encode()
    provider = build("zoom", ZOOM_SECRET)
    req = request(body, sign("zoom", ZOOM_SECRET, body, NOW))
    assert provider.handshake(req, NOW) is None
    provider.verify(req, NOW)


def test_zoom_token_with_a_lone_surrogate_does_not_raise() -> None:
    body = b'{"event":"endpoint.url_validation","payload":{"plainToken":"\\ud800x"}}'
    req = request(body, sign("zoom", ZOOM_SECRET, body, NOW))
    reply = build("zoom", ZOOM_SECRET).handshake(req, NOW)
    assert reply is not None
    assert json.loads(reply.body)["plainToken"] == "\ud800x"


def test_dropbox_echoes_the_get_challenge_as_unsniffable_text() -> None:
    req = request(b"", {}, method="GET", query={"challenge": "Pd4ZeRF3v8uTRdYh9jg2E0UNUl1wQPdh"})
    reply = build("dropbox").handshake(req, NOW)
    assert reply is not None
    assert reply.status_code == 200
    assert reply.media_type == "text/plain"
    assert reply.body == b"Pd4ZeRF3v8uTRdYh9jg2E0UNUl1wQPdh"
    assert dict(reply.headers) == {"X-Content-Type-Options": "nosniff"}


def test_dropbox_get_without_challenge_and_post_with_one_are_no_handshake() -> None:
    provider = build("dropbox")
    assert provider.handshake(request(b"", {}, method="GET"), NOW) is None
    post = request(b"{}", {}, query={"challenge": "abc"})
    assert provider.handshake(post, NOW) is None
    assert reason_of(provider, post) == "missing_signature"


@pytest.mark.parametrize("challenge", ["", "a\nb", "<script>\x00", "x" * 5000])
def test_dropbox_refuses_to_echo_odd_challenges(challenge: str) -> None:
    req = request(b"", {}, method="GET", query={"challenge": challenge})
    with pytest.raises(VerificationError) as info:
        build("dropbox").handshake(req, NOW)
    assert info.value.reason == "malformed_challenge"


NOTION_VERIFICATION = b'{"verification_token":"secret_tMrlL1qK5vuQAh1b6cZGhFChZTSYJlce98V0pYn7yBl"}'


def test_notion_answers_the_unsigned_verification_request_with_an_empty_object() -> None:
    reply = build("notion").handshake(request(NOTION_VERIFICATION, {}), NOW)
    assert reply is not None
    assert reply.status_code == 200
    assert reply.media_type == "application/json"
    assert reply.body == b"{}"


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        (NOTION_VERIFICATION, {"x-notion-signature": "sha256=" + "0" * 64}),
        (b'{"type":"page.created"}', {}),
        (b'{"verification_token": 5}', {}),
        (b"verification_token", {}),
        (b"[" * 100_000 + b'"verification_token"', {}),
        (b"\xff verification_token \xfe", {}),
    ],
)
def test_notion_anything_else_is_no_handshake_and_must_verify(
    body: bytes, headers: dict[str, str]
) -> None:
    provider = build("notion")
    req = request(body, headers)
    assert provider.handshake(req, NOW) is None
    assert reason_of(provider, req) in ("missing_signature", "signature_mismatch")
