from __future__ import annotations

import base64
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nacl.signing import SigningKey

from relay.providers.ed25519 import SPEC, Ed25519Provider, build
from tests.unit.providers._kit import NOW, config_key, flip, reason_of, request

# RFC 8032 section 7.1, TEST 2 (one-byte message 0x72).
RFC_PUBLIC = "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c"
RFC_SEED = "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb"
RFC_SIGNATURE = (
    "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
    "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"
)
KEY = SigningKey(bytes.fromhex("11" * 32))
OTHER = SigningKey(bytes.fromhex("22" * 32))


def public(key: SigningKey, encoding: str = "hex") -> str:
    raw = bytes(key.verify_key)
    return raw.hex() if encoding == "hex" else base64.b64encode(raw).decode()


def sign(key: SigningKey, message: bytes, encoding: str = "hex") -> str:
    signature = key.sign(message).signature
    return signature.hex() if encoding == "hex" else base64.b64encode(signature).decode()


def provider(*keys: str, **options: Any) -> Ed25519Provider:
    options.setdefault("header", "X-Signature")
    return build(list(keys or (public(KEY),)), options)


def test_accepts_the_rfc_8032_vector() -> None:
    assert public(SigningKey(bytes.fromhex(RFC_SEED))) == RFC_PUBLIC
    provider(RFC_PUBLIC).verify(request(b"\x72", {"X-Signature": RFC_SIGNATURE}), NOW)
    upper = request(b"\x72", {"X-Signature": RFC_SIGNATURE.upper()})
    provider(RFC_PUBLIC).verify(upper, NOW)
    tampered = request(b"\x73", {"X-Signature": RFC_SIGNATURE})
    assert reason_of(provider(RFC_PUBLIC), tampered) == "signature_mismatch"


@pytest.mark.parametrize("key_encoding", ["hex", "base64"])
@pytest.mark.parametrize("encoding", ["hex", "base64"])
def test_accepts_keys_and_signatures_in_each_encoding(key_encoding: str, encoding: str) -> None:
    body = b'{"id": 1}'
    p = provider(public(KEY, key_encoding), encoding=encoding)
    p.verify(request(body, {"X-Signature": sign(KEY, body, encoding)}), NOW)


def test_rejects_wrong_key_and_accepts_rotation() -> None:
    body = b"payload"
    req = request(body, {"X-Signature": sign(KEY, body)})
    assert reason_of(provider(public(OTHER)), req) == "signature_mismatch"
    provider(public(OTHER), public(KEY)).verify(req, NOW)


def test_rejects_missing_signature() -> None:
    assert reason_of(provider(), request(b"x", {})) == "missing_signature"


@pytest.mark.parametrize("value", ["", "zz" * 64, "ab" * 63, "ab" * 65, "é" * 128])
def test_rejects_malformed_signature(value: str) -> None:
    assert reason_of(provider(), request(b"x", {"X-Signature": value})) == "malformed_signature"


def test_timestamp_header_is_signed_material() -> None:
    p = provider(timestamp_header="X-Time")
    body = b"{}"
    good = {"X-Signature": sign(KEY, b"1700000000" + body), "X-Time": "1700000000"}
    p.verify(request(body, good), NOW)
    assert reason_of(p, request(body, {**good, "X-Time": "1700000001"})) == "signature_mismatch"
    assert reason_of(p, request(body, {"X-Signature": good["X-Signature"]})) == (
        "missing_timestamp"
    )


def test_signed_timestamp_has_a_five_minute_window_by_default() -> None:
    p = provider(timestamp_header="X-Time")
    body = b"{}"

    def at(offset: int) -> Any:
        timestamp = str(int(NOW) + offset)
        return request(
            body, {"X-Signature": sign(KEY, timestamp.encode() + body), "X-Time": timestamp}
        )

    p.verify(at(-300), NOW)
    p.verify(at(300), NOW)
    assert reason_of(p, at(-301)) == "timestamp_too_old"
    assert reason_of(p, at(301)) == "timestamp_in_future"


def test_tolerance_checks_the_timestamp() -> None:
    p = provider(timestamp_header="X-Time", tolerance=60)
    body = b"{}"

    def at(timestamp: str) -> Any:
        return request(
            body, {"X-Signature": sign(KEY, timestamp.encode() + body), "X-Time": timestamp}
        )

    p.verify(at(str(int(NOW) - 59)), NOW)
    assert reason_of(p, at(str(int(NOW) - 61))) == "timestamp_too_old"
    assert reason_of(p, at(str(int(NOW) + 61))) == "timestamp_in_future"
    assert reason_of(p, at("yesterday")) == "invalid_timestamp"


def test_event_fields_from_options() -> None:
    p = provider(event_type_path="type", event_id_header="X-Id")
    req = request(b"", {"X-Id": "d-1"})
    assert p.event_type(req, {"type": "created"}) == "created"
    assert p.event_id(req, {}) == "d-1"
    assert provider().event_type(req, {"type": "created"}) is None


@pytest.mark.parametrize(
    ("secrets", "options", "key"),
    [
        ([public(KEY)], {}, "header"),
        ([], {"header": "x"}, "secrets"),
        (["abcd"], {"header": "x"}, "secrets"),
        (["zz" * 32], {"header": "x"}, "secrets"),
        ([base64.b64encode(b"k" * 31).decode()], {"header": "x"}, "secrets"),
        ([public(KEY)], {"header": "x", "encoding": "b32"}, "encoding"),
        ([public(KEY)], {"header": "x", "tolerance": 5}, "tolerance"),
        ([public(KEY)], {"header": "x", "timestamp_header": "t", "tolerance": "5"}, "tolerance"),
        ([public(KEY)], {"header": "x", "timestamp_header": "t", "tolerance": 0}, "tolerance"),
        ([public(KEY)], {"header": "x", "algorithm": "sha256"}, "algorithm"),
    ],
)
def test_rejects_bad_config(secrets: list[str], options: dict[str, Any], key: str) -> None:
    assert config_key(build, secrets, options) == key


def test_spec() -> None:
    assert SPEC.name == "ed25519"
    assert provider().handshake(request(b""), NOW) is None
    assert "11" * 32 not in repr(provider())


@settings(max_examples=30)
@given(
    body=st.binary(min_size=1, max_size=512),
    seed=st.binary(min_size=32, max_size=32),
    offset=st.integers(-300, 300),
    data=st.data(),
)
def test_nacl_signatures_round_trip_and_any_flipped_byte_fails(
    body: bytes, seed: bytes, offset: int, data: st.DataObject
) -> None:
    timestamp = str(int(NOW) + offset)
    key = SigningKey(seed)
    p = provider(public(key), timestamp_header="X-Time")
    headers = {"X-Signature": sign(key, timestamp.encode() + body), "X-Time": timestamp}
    p.verify(request(body, headers), NOW)
    assert reason_of(p, request(flip(body, data), headers)) == "signature_mismatch"
