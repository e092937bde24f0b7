from __future__ import annotations

import json
from typing import Any

import pytest

from relay.providers import meta, whatsapp
from relay.providers.base import VerificationError
from relay.providers.meta import MetaProvider
from tests.unit.providers._kit import (
    NOW,
    config_key,
    handshake_reason,
    hmac_sha256,
    reason_of,
    request,
)

APP_SECRET = "meta-app-secret-42"
VERIFY_TOKEN = "my-verify-token"
BODY = json.dumps(
    {
        "object": "whatsapp_business_account",
        "entry": [{"id": "102", "changes": [{"field": "messages", "value": {"x": 1}}]}],
    }
).encode()


def sign(body: bytes, secret: str = APP_SECRET) -> dict[str, str]:
    return {"X-Hub-Signature-256": "sha256=" + hmac_sha256(secret, body).hex()}


def provider(*secrets: str, build: Any = meta.build) -> MetaProvider:
    provider: MetaProvider = build(list(secrets or (APP_SECRET,)), {"verify_token": VERIFY_TOKEN})
    return provider


def subscribe(token: str | None = VERIFY_TOKEN, challenge: str | None = "1158201444") -> Any:
    query = {"hub.mode": "subscribe"}
    if token is not None:
        query["hub.verify_token"] = token
    if challenge is not None:
        query["hub.challenge"] = challenge
    return request(b"", method="GET", query=query)


def test_accepts_a_signed_delivery() -> None:
    provider().verify(request(BODY, sign(BODY)), NOW)


def test_rejects_one_byte_tamper_wrong_secret_and_accepts_rotation() -> None:
    assert reason_of(provider(), request(BODY.replace(b"102", b"103"), sign(BODY))) == (
        "signature_mismatch"
    )
    assert reason_of(provider("other"), request(BODY, sign(BODY))) == "signature_mismatch"
    provider("other", APP_SECRET).verify(request(BODY, sign(BODY)), NOW)


def test_rejects_missing_and_malformed_signatures() -> None:
    assert reason_of(provider(), request(BODY, {"X-Hub-Signature": "sha1=00"})) == (
        "missing_signature"
    )
    for value in ("", "sha256=", "sha1=" + "0" * 64, "sha256=" + "g" * 64, "0" * 64):
        assert reason_of(provider(), request(BODY, {"X-Hub-Signature-256": value})) == (
            "malformed_signature"
        )


def test_answers_the_subscription_handshake() -> None:
    reply = provider().handshake(subscribe(), NOW)
    assert reply is not None
    assert (reply.status_code, reply.media_type, reply.body) == (200, "text/plain", b"1158201444")
    assert reply.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("token", [None, "", "wrong", VERIFY_TOKEN + " ", VERIFY_TOKEN.upper()])
def test_refuses_a_wrong_verify_token(token: str | None) -> None:
    assert handshake_reason(provider(), subscribe(token)) == "verify_token_mismatch"


@pytest.mark.parametrize("challenge", [None, "", "<script>\n", "x" * 5000])
def test_refuses_an_unusable_challenge(challenge: str | None) -> None:
    assert handshake_reason(provider(), subscribe(challenge=challenge)) == "malformed_challenge"


def test_other_requests_are_not_handshakes() -> None:
    assert provider().handshake(request(BODY, sign(BODY)), NOW) is None
    assert provider().handshake(request(b"", method="GET", query={"hub.mode": "x"}), NOW) is None
    post = request(b"", query={"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN})
    assert provider().handshake(post, NOW) is None


def test_event_type_and_no_id() -> None:
    body = json.loads(BODY)
    assert provider().event_type(request(), body) == "whatsapp_business_account.messages"
    assert provider().event_type(request(), {"object": "page", "entry": [{"messaging": []}]}) == (
        "page"
    )
    assert provider().event_type(request(), {"entry": []}) is None
    assert provider().event_type(request(), None) is None
    assert provider().event_id(request(), body) is None


def test_whatsapp_is_the_same_implementation_under_its_own_name() -> None:
    p = provider(build=whatsapp.build)
    assert isinstance(p, MetaProvider)
    assert p.name == "whatsapp"
    p.verify(request(BODY, sign(BODY)), NOW)
    assert p.handshake(subscribe(), NOW) is not None
    assert whatsapp.SPEC.name == "whatsapp"
    assert whatsapp.SPEC.allows_get


@pytest.mark.parametrize("build", [meta.build, whatsapp.build])
@pytest.mark.parametrize(
    ("secrets", "options", "key"),
    [
        ([APP_SECRET], {}, "verify_token"),
        ([APP_SECRET], {"verify_token": ""}, "verify_token"),
        ([APP_SECRET], {"verify_token": 5}, "verify_token"),
        ([], {"verify_token": "t"}, "secrets"),
        ([APP_SECRET], {"verify_token": "t", "tolerance": 1}, "tolerance"),
    ],
)
def test_rejects_bad_config(
    build: Any, secrets: list[str], options: dict[str, Any], key: str
) -> None:
    assert config_key(build, secrets, options) == key


def test_spec_and_no_leak() -> None:
    assert meta.SPEC.name == "meta"
    assert meta.SPEC.allows_get
    with pytest.raises(VerificationError) as info:
        provider().handshake(subscribe("wrong"), NOW)
    assert VERIFY_TOKEN not in str(info.value)
    assert VERIFY_TOKEN not in repr(provider())
    assert APP_SECRET not in repr(provider())
