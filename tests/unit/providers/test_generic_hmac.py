from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from relay.providers.base import ConfigError, VerificationError, WebhookRequest
from relay.providers.hmac import SPEC, GenericHmacProvider, build, lookup_path

SECRET = "generic-secret"
BODY = b'{"event": "order.created", "data": {"id": "ord_1", "n": 7}}'
NOW = 1_700_000_000.0
HASHES = {"sha1": hashlib.sha1, "sha256": hashlib.sha256, "sha512": hashlib.sha512}


def request(body: bytes, headers: Mapping[str, str]) -> WebhookRequest:
    return WebhookRequest(method="POST", path="/hooks/h", headers=headers, query={}, body=body)


def sign(
    body: bytes, secret: str = SECRET, algorithm: str = "sha256", encoding: str = "hex"
) -> str:
    digest = hmac.new(secret.encode(), body, HASHES[algorithm]).digest()
    return digest.hex() if encoding == "hex" else base64.b64encode(digest).decode()


def provider(*secrets: str, **options: Any) -> GenericHmacProvider:
    options.setdefault("header", "X-Signature")
    return build(list(secrets or (SECRET,)), options)


def reason_of(p: GenericHmacProvider, req: WebhookRequest) -> str:
    with pytest.raises(VerificationError) as info:
        p.verify(req, NOW)
    return info.value.reason


def test_accepts_known_answer_hmac_sha256_hex() -> None:
    # RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
    body = b"what do ya want for nothing?"
    expected = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    provider("Jefe").verify(request(body, {"x-signature": expected}), NOW)


@pytest.mark.parametrize("algorithm", ["sha1", "sha256", "sha512"])
@pytest.mark.parametrize("encoding", ["hex", "base64"])
def test_accepts_valid_signature_for_each_algorithm_and_encoding(
    algorithm: str, encoding: str
) -> None:
    p = provider(algorithm=algorithm, encoding=encoding)
    p.verify(
        request(BODY, {"x-signature": sign(BODY, algorithm=algorithm, encoding=encoding)}), NOW
    )


def test_hex_comparison_is_case_insensitive() -> None:
    provider().verify(request(BODY, {"x-signature": sign(BODY).upper()}), NOW)


def test_strips_the_configured_prefix() -> None:
    p = provider(prefix="sha256=")
    p.verify(request(BODY, {"x-signature": "sha256=" + sign(BODY)}), NOW)
    assert reason_of(p, request(BODY, {"x-signature": sign(BODY)})) == "malformed_signature"


def test_rejects_body_tampered_by_one_byte() -> None:
    tampered = BODY[:-1] + b"]"
    assert reason_of(provider(), request(tampered, {"x-signature": sign(BODY)})) == (
        "signature_mismatch"
    )


def test_rejects_wrong_secret() -> None:
    req = request(BODY, {"x-signature": sign(BODY, secret="other")})
    assert reason_of(provider(), req) == "signature_mismatch"


def test_accepts_second_secret_during_rotation() -> None:
    provider("new-secret", SECRET).verify(request(BODY, {"x-signature": sign(BODY)}), NOW)


def test_rejects_missing_signature_header() -> None:
    assert reason_of(provider(), request(BODY, {})) == "missing_signature"


@pytest.mark.parametrize(
    ("encoding", "value"),
    [
        ("hex", "xyz"),
        ("hex", ""),
        ("hex", "abc"),  # odd length
        ("hex", "00" * 20),  # sha1-sized for sha256
        ("hex", "é" * 64),
        ("base64", "not base64!"),
        ("base64", "YWJj"),  # valid base64, wrong length
        ("base64", "é" * 44),
    ],
)
def test_rejects_malformed_signature_header(encoding: str, value: str) -> None:
    req = request(BODY, {"x-signature": value})
    assert reason_of(provider(encoding=encoding), req) == "malformed_signature"


def test_handles_non_utf8_body() -> None:
    body = b"\x80\xff\xfe"
    p = provider()
    p.verify(request(body, {"x-signature": sign(body)}), NOW)
    assert reason_of(p, request(body + b"\x00", {"x-signature": sign(body)})) == (
        "signature_mismatch"
    )


def test_extracts_event_type_and_id_from_headers() -> None:
    p = provider(event_type_header="X-Event", event_id_header="X-Delivery")
    req = request(BODY, {"x-event": "order.created", "x-delivery": "d-1"})
    assert p.event_type(req, {}) == "order.created"
    assert p.event_id(req, {}) == "d-1"


def test_extracts_event_type_and_id_from_body_paths() -> None:
    p = provider(event_type_path="event", event_id_path="data.id")
    body = {"event": "order.created", "data": {"id": "ord_1"}}
    req = request(BODY, {})
    assert p.event_type(req, body) == "order.created"
    assert p.event_id(req, body) == "ord_1"


def test_header_wins_over_path_and_path_is_the_fallback() -> None:
    p = provider(event_id_header="X-Delivery", event_id_path="data.id")
    body = {"data": {"id": "from-body"}}
    assert p.event_id(request(BODY, {"x-delivery": "from-header"}), body) == "from-header"
    assert p.event_id(request(BODY, {}), body) == "from-body"


def test_event_type_and_id_are_none_when_not_configured() -> None:
    p = provider()
    req = request(BODY, {"x-event": "a"})
    assert p.event_type(req, {"type": "a"}) is None
    assert p.event_id(req, {"id": "a"}) is None


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"data": {"id": "x"}}, "x"),
        ({"data": {"id": 42}}, "42"),
        ({"data": {"id": True}}, None),
        ({"data": {"id": None}}, None),
        ({"data": {"id": ""}}, None),
        ({"data": ["id"]}, None),
        ({"data": "id"}, None),
        ([1, 2], None),
        (None, None),
    ],
)
def test_lookup_path_returns_only_scalars_as_strings(body: Any, expected: str | None) -> None:
    assert lookup_path(body, ("data", "id")) == expected


def test_rejects_empty_secret_list() -> None:
    with pytest.raises(ConfigError) as info:
        build([], {"header": "x-sig"})
    assert info.value.key == "secrets"


def test_requires_the_header_option() -> None:
    with pytest.raises(ConfigError) as info:
        build([SECRET], {})
    assert info.value.key == "header"


@pytest.mark.parametrize(
    ("options", "key"),
    [
        ({"header": "x-sig", "tolerance": 5}, "tolerance"),
        ({"header": ""}, "header"),
        ({"header": None}, "header"),
        ({"header": "x-sig", "algorithm": "md5"}, "algorithm"),
        ({"header": "x-sig", "algorithm": "SHA256"}, "algorithm"),
        ({"header": "x-sig", "encoding": "base32"}, "encoding"),
        ({"header": "x-sig", "prefix": 1}, "prefix"),
        ({"header": "x-sig", "event_id_path": "data..id"}, "event_id_path"),
        ({"header": "x-sig", "event_type_path": 3}, "event_type_path"),
        ({"header": "x-sig", "event_type_header": ""}, "event_type_header"),
    ],
)
def test_rejects_bad_options(options: dict[str, Any], key: str) -> None:
    with pytest.raises(ConfigError) as info:
        build([SECRET], options)
    assert info.value.key == key


def test_handshake_returns_none() -> None:
    assert provider().handshake(request(BODY, {}), NOW) is None


def test_spec_is_named_hmac_and_repr_hides_the_secret() -> None:
    assert SPEC.name == "hmac"
    p = SPEC.build([SECRET], {"header": "x-sig"})
    assert p.name == "hmac"
    assert SECRET not in repr(p)


@settings(max_examples=50)
@given(
    body=st.binary(min_size=1, max_size=512),
    secret=st.text(min_size=1, max_size=64),
    algorithm=st.sampled_from(["sha1", "sha256", "sha512"]),
    encoding=st.sampled_from(["hex", "base64"]),
    data=st.data(),
)
def test_sign_then_verify_round_trips_and_any_flipped_byte_fails(
    body: bytes, secret: str, algorithm: str, encoding: str, data: st.DataObject
) -> None:
    p = provider(secret, algorithm=algorithm, encoding=encoding)
    headers = {"x-signature": sign(body, secret, algorithm, encoding)}
    p.verify(request(body, headers), NOW)

    index = data.draw(st.integers(0, len(body) - 1), label="index")
    mask = data.draw(st.integers(1, 255), label="mask")
    flipped = bytearray(body)
    flipped[index] ^= mask
    assert reason_of(p, request(bytes(flipped), headers)) == "signature_mismatch"
