from __future__ import annotations

from typing import Any

import pytest

from relay.providers.asana import SPEC, AsanaProvider, build, is_valid_hook_secret
from tests.unit.providers._kit import (
    NOW,
    config_key,
    handshake_reason,
    hmac_sha256,
    reason_of,
    request,
)

HOOK_SECRET = "d8d2f5b6a1c34e0f9b7a6c5d4e3f2a1b"
BODY = b'{"events":[{"action":"changed","resource":{"gid":"1","resource_type":"task"}}]}'


def sign(body: bytes, secret: str = HOOK_SECRET) -> dict[str, str]:
    return {"X-Hook-Signature": hmac_sha256(secret, body).hex()}


def provider(*secrets: str) -> AsanaProvider:
    return build(list(secrets), {})


def test_handshake_echoes_the_hook_secret() -> None:
    reply = provider().handshake(request(b"", {"X-Hook-Secret": HOOK_SECRET}), NOW)
    assert reply is not None
    assert (reply.status_code, reply.body) == (200, b"")
    assert dict(reply.headers) == {"X-Hook-Secret": HOOK_SECRET}


def test_handshake_does_not_trust_the_secret_by_itself() -> None:
    p = provider()
    p.handshake(request(b"", {"X-Hook-Secret": HOOK_SECRET}), NOW)
    assert reason_of(p, request(BODY, sign(BODY))) == "no_secret"


@pytest.mark.parametrize("secret", ["", "a b", "é" * 8, "x" * 257, "a\tb"])
def test_handshake_refuses_implausible_secrets(secret: str) -> None:
    req = request(b"", {"X-Hook-Secret": secret})
    assert handshake_reason(provider(), req) == "malformed_hook_secret"


def test_other_requests_are_not_handshakes() -> None:
    assert provider().handshake(request(BODY, sign(BODY)), NOW) is None
    get = request(b"", {"X-Hook-Secret": HOOK_SECRET}, method="GET")
    assert provider().handshake(get, NOW) is None


def test_accepted_secret_verifies_events() -> None:
    p = provider()
    p.accept_hook_secret(HOOK_SECRET)
    p.accept_hook_secret(HOOK_SECRET)  # idempotent (called again on start)
    p.verify(request(BODY, sign(BODY)), NOW)
    assert (
        repr(p) == "GenericHmacProvider(name='asana', header='x-hook-signature', "
        "algorithm='sha256', encoding='hex', secrets=1)"
    )


def test_accept_hook_secret_validates() -> None:
    with pytest.raises(ValueError, match="hook secret"):
        provider().accept_hook_secret("not valid\n")
    assert is_valid_hook_secret(HOOK_SECRET)


def test_configured_secrets_and_rotation() -> None:
    p = provider("old-secret")
    assert reason_of(p, request(BODY, sign(BODY))) == "signature_mismatch"
    p.accept_hook_secret(HOOK_SECRET)
    p.verify(request(BODY, sign(BODY)), NOW)
    p.verify(request(BODY, sign(BODY, "old-secret")), NOW)


def test_rejects_tamper_missing_and_malformed() -> None:
    p = provider(HOOK_SECRET)
    assert reason_of(p, request(BODY.replace(b"changed", b"chang3d"), sign(BODY))) == (
        "signature_mismatch"
    )
    assert reason_of(p, request(BODY, {})) == "missing_signature"
    for value in ("", "xyz", "ab" * 31, "sha256=" + "ab" * 32):
        assert reason_of(p, request(BODY, {"X-Hook-Signature": value})) == ("malformed_signature")


def test_event_type_and_id() -> None:
    assert provider().event_type(request(), {"events": []}) == "events"
    assert provider().event_id(request(), {"events": []}) is None


@pytest.mark.parametrize(
    ("secrets", "options", "key"),
    [([""], {}, "secrets"), ("abc", {}, "secrets"), ([1], {}, "secrets"), ([], {"x": 1}, "x")],
)
def test_rejects_bad_config(secrets: Any, options: dict[str, Any], key: str) -> None:
    assert config_key(build, secrets, options) == key


def test_spec() -> None:
    assert SPEC.name == "asana"
    assert isinstance(SPEC.build([], {}), AsanaProvider)
