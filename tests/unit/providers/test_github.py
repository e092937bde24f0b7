from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from relay.providers.base import ConfigError, VerificationError, WebhookRequest
from relay.providers.github import SPEC, GitHubProvider, build

# GitHub's documented example (docs: "Validating webhook deliveries").
DOC_SECRET = "It's a Secret to Everybody"
DOC_BODY = b"Hello, World!"
DOC_SIGNATURE = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
NOW = 1_700_000_000.0


def request(body: bytes, headers: Mapping[str, str]) -> WebhookRequest:
    return WebhookRequest(method="POST", path="/hooks/gh", headers=headers, query={}, body=body)


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def provider(*secrets: str) -> GitHubProvider:
    return build(list(secrets), {})


def reason_of(p: GitHubProvider, req: WebhookRequest) -> str:
    with pytest.raises(VerificationError) as info:
        p.verify(req, NOW)
    return info.value.reason


def test_accepts_githubs_documented_example() -> None:
    req = request(DOC_BODY, {"x-hub-signature-256": DOC_SIGNATURE})
    provider(DOC_SECRET).verify(req, NOW)


def test_accepts_upper_case_hex() -> None:
    req = request(DOC_BODY, {"x-hub-signature-256": "sha256=" + DOC_SIGNATURE[7:].upper()})
    provider(DOC_SECRET).verify(req, NOW)


def test_rejects_body_tampered_by_one_byte() -> None:
    req = request(b"Hello, World?", {"x-hub-signature-256": DOC_SIGNATURE})
    assert reason_of(provider(DOC_SECRET), req) == "signature_mismatch"


def test_rejects_wrong_secret() -> None:
    req = request(DOC_BODY, {"x-hub-signature-256": DOC_SIGNATURE})
    assert reason_of(provider("not the secret"), req) == "signature_mismatch"


def test_accepts_second_secret_during_rotation() -> None:
    req = request(DOC_BODY, {"x-hub-signature-256": DOC_SIGNATURE})
    provider("new secret", DOC_SECRET).verify(req, NOW)


def test_rejects_missing_signature_header() -> None:
    req = request(DOC_BODY, {"x-hub-signature": "sha1=0123"})
    assert reason_of(provider(DOC_SECRET), req) == "missing_signature"


@pytest.mark.parametrize(
    "value",
    [
        DOC_SIGNATURE[7:],  # no prefix
        "sha1=" + DOC_SIGNATURE[7:],
        "sha256=",
        "sha256=zz" + DOC_SIGNATURE[9:],  # not hex
        "sha256=" + DOC_SIGNATURE[7:-2],  # too short
        "sha256= " + DOC_SIGNATURE[7:],  # whitespace
        "sha256=" + "é" * 64,  # non-ASCII (latin-1 decoded header bytes)
        "sha256=" + "٣" * 64,  # non-ASCII digits
    ],
)
def test_rejects_malformed_signature_header(value: str) -> None:
    req = request(DOC_BODY, {"x-hub-signature-256": value})
    assert reason_of(provider(DOC_SECRET), req) == "malformed_signature"


def test_handles_non_utf8_body() -> None:
    body = b"\xff\xfe\x00\xc3("
    p = provider(DOC_SECRET)
    p.verify(request(body, {"x-hub-signature-256": sign(DOC_SECRET, body)}), NOW)
    assert reason_of(p, request(body, {"x-hub-signature-256": DOC_SIGNATURE})) == (
        "signature_mismatch"
    )


def test_error_messages_do_not_leak_secret_or_expected_signature() -> None:
    body = b"payload"
    expected = sign(DOC_SECRET, body)[7:]
    req = request(body, {"x-hub-signature-256": "sha256=" + "0" * 64})
    with pytest.raises(VerificationError) as info:
        provider(DOC_SECRET).verify(req, NOW)
    assert DOC_SECRET not in str(info.value)
    assert expected not in str(info.value)
    assert DOC_SECRET not in repr(provider(DOC_SECRET))


def test_extracts_event_type_and_delivery_id_from_headers() -> None:
    headers = {"x-github-event": "issues", "x-github-delivery": "72d3162e-cc78-11e3"}
    req = request(b"{}", headers)
    p = provider(DOC_SECRET)
    assert p.event_type(req, {}) == "issues"
    assert p.event_id(req, {}) == "72d3162e-cc78-11e3"


def test_event_type_and_id_are_none_without_headers() -> None:
    req = request(b"{}", {})
    p = provider(DOC_SECRET)
    assert p.event_type(req, {"action": "opened"}) is None
    assert p.event_id(req, {}) is None


def test_ping_is_not_a_handshake() -> None:
    req = request(b'{"zen": "x"}', {"x-github-event": "ping"})
    assert provider(DOC_SECRET).handshake(req, NOW) is None


def test_rejects_any_option() -> None:
    with pytest.raises(ConfigError) as info:
        build(["s"], {"tolerance": 10})
    assert info.value.key == "tolerance"


def test_rejects_empty_secret_list() -> None:
    with pytest.raises(ConfigError) as info:
        build([], {})
    assert info.value.key == "secrets"


@pytest.mark.parametrize("secrets", [[""], "a-bare-string"])
def test_rejects_empty_or_non_list_secrets(secrets: list[str]) -> None:
    with pytest.raises(ConfigError) as info:
        build(secrets, {})
    assert info.value.key == "secrets"


def test_spec_is_named_github_and_builds_a_provider() -> None:
    assert SPEC.name == "github"
    assert not SPEC.allows_get
    assert SPEC.build([DOC_SECRET], {}).name == "github"


@settings(max_examples=50)
@given(
    body=st.binary(min_size=1, max_size=512),
    secret=st.text(min_size=1, max_size=64),
    data=st.data(),
)
def test_sign_then_verify_round_trips_and_any_flipped_byte_fails(
    body: bytes, secret: str, data: st.DataObject
) -> None:
    p = provider(secret)
    headers = {"x-hub-signature-256": sign(secret, body)}
    p.verify(request(body, headers), NOW)

    index = data.draw(st.integers(0, len(body) - 1), label="index")
    mask = data.draw(st.integers(1, 255), label="mask")
    flipped = bytearray(body)
    flipped[index] ^= mask
    assert reason_of(p, request(bytes(flipped), headers)) == "signature_mismatch"
