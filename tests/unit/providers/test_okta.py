from __future__ import annotations

import json
from typing import Any

import pytest

from relay.providers.okta import SPEC, OktaProvider, build
from tests.unit.providers._kit import NOW, config_key, handshake_reason, reason_of, request

SECRET = "okta-hook-auth-value"


def provider(*secrets: str, **options: Any) -> OktaProvider:
    return build(list(secrets or (SECRET,)), options)


def test_answers_the_verification_challenge() -> None:
    req = request(method="GET", headers={"X-Okta-Verification-Challenge": "Zq4m2tX9"})
    reply = provider().handshake(req, NOW)
    assert reply is not None
    assert (reply.status_code, reply.media_type) == (200, "application/json")
    assert json.loads(reply.body) == {"verification": "Zq4m2tX9"}


def test_refuses_unusable_challenges_and_ignores_other_requests() -> None:
    bad = request(method="GET", headers={"X-Okta-Verification-Challenge": ""})
    assert handshake_reason(provider(), bad) == "malformed_challenge"
    assert provider().handshake(request(method="GET"), NOW) is None
    post = request(b"{}", {"X-Okta-Verification-Challenge": "x", "Authorization": SECRET})
    assert provider().handshake(post, NOW) is None


def test_events_need_the_authorization_secret() -> None:
    provider().verify(request(b"{}", {"Authorization": SECRET}), NOW)
    assert reason_of(provider(), request(b"{}", {"Authorization": SECRET + "x"})) == (
        "token_mismatch"
    )
    assert reason_of(provider(), request(b"{}", {})) == "missing_token"
    provider("new", SECRET).verify(request(b"{}", {"Authorization": SECRET}), NOW)


def test_custom_header() -> None:
    p = provider(header="X-Okta-Secret")
    p.verify(request(b"{}", {"X-Okta-Secret": SECRET}), NOW)
    assert reason_of(p, request(b"{}", {"Authorization": SECRET})) == "missing_token"


def test_event_type_and_id() -> None:
    body = {
        "eventId": "b5d5a0a6-1d2b",
        "data": {"events": [{"eventType": "user.session.start", "uuid": "u1"}]},
    }
    assert provider().event_type(request(), body) == "user.session.start"
    assert provider().event_id(request(), body) == "b5d5a0a6-1d2b"
    unusable: list[Any] = [None, {}, {"data": {"events": []}}]
    for other in unusable:
        assert provider().event_type(request(), other) is None
        assert provider().event_id(request(), other) is None


@pytest.mark.parametrize(
    ("secrets", "options", "key"),
    [
        ([], {}, "secrets"),
        ([SECRET], {"prefix": "Bearer "}, "prefix"),
        ([SECRET], {"header": 1}, "header"),
    ],
)
def test_rejects_bad_config(secrets: list[str], options: dict[str, Any], key: str) -> None:
    assert config_key(build, secrets, options) == key


def test_spec() -> None:
    assert SPEC.name == "okta"
    assert SPEC.allows_get
    assert provider().name == "okta"
    assert SECRET not in repr(provider())
