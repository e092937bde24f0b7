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
from relay.providers.standard_webhooks import (
    SPEC,
    StandardWebhooksProvider,
    build,
    decode_secret,
)

# The Standard Webhooks specification's published test vector (also Svix's).
VEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
VEC_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
VEC_TS = 1614265330
VEC_BODY = b'{"test": 2432232314}'
VEC_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
OTHER_SECRET = "whsec_" + base64.b64encode(b"another key, 32 bytes long......").decode()


def request(body: bytes, headers: Mapping[str, str]) -> WebhookRequest:
    return WebhookRequest(method="POST", path="/hooks/sw", headers=headers, query={}, body=body)


def sign(secret: str, msg_id: str, ts: int, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    digest = hmac.new(key, f"{msg_id}.{ts}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def headers_for(
    signature: str = VEC_SIGNATURE, ts: str = str(VEC_TS), msg_id: str = VEC_ID, prefix: str = ""
) -> dict[str, str]:
    prefix = prefix or "webhook-"
    return {f"{prefix}id": msg_id, f"{prefix}timestamp": ts, f"{prefix}signature": signature}


def provider(*secrets: str, **options: Any) -> StandardWebhooksProvider:
    return build(list(secrets or (VEC_SECRET,)), options)


def reason_of(p: StandardWebhooksProvider, req: WebhookRequest, now: float = VEC_TS) -> str:
    with pytest.raises(VerificationError) as info:
        p.verify(req, now)
    return info.value.reason


def test_accepts_the_published_test_vector() -> None:
    provider().verify(request(VEC_BODY, headers_for()), VEC_TS)


def test_accepts_a_secret_without_the_whsec_prefix() -> None:
    p = provider(VEC_SECRET.removeprefix("whsec_"))
    p.verify(request(VEC_BODY, headers_for()), VEC_TS)


def test_rejects_body_tampered_by_one_byte() -> None:
    req = request(b'{"test": 2432232315}', headers_for())
    assert reason_of(provider(), req) == "signature_mismatch"


def test_rejects_a_different_message_id() -> None:
    req = request(VEC_BODY, headers_for(msg_id="msg_other"))
    assert reason_of(provider(), req) == "signature_mismatch"


def test_rejects_wrong_secret() -> None:
    assert reason_of(provider(OTHER_SECRET), request(VEC_BODY, headers_for())) == (
        "signature_mismatch"
    )


def test_accepts_second_secret_during_rotation() -> None:
    provider(OTHER_SECRET, VEC_SECRET).verify(request(VEC_BODY, headers_for()), VEC_TS)


def test_accepts_any_matching_entry_and_ignores_other_versions() -> None:
    other = sign(OTHER_SECRET, VEC_ID, VEC_TS, VEC_BODY)
    header = f"v1a,c29tZSBlZDI1NTE5IHNpZw== {other}  {VEC_SIGNATURE}"
    provider().verify(request(VEC_BODY, headers_for(signature=header)), VEC_TS)


@pytest.mark.parametrize("missing", ["id", "timestamp", "signature"])
def test_rejects_missing_header(missing: str) -> None:
    headers = headers_for()
    del headers[f"webhook-{missing}"]
    assert reason_of(provider(), request(VEC_BODY, headers)) == f"missing_{missing}"


def test_rejects_a_header_with_only_other_versions() -> None:
    req = request(VEC_BODY, headers_for(signature="v1a,c2ln v2,c2ln"))
    assert reason_of(provider(), req) == "missing_signature"


@pytest.mark.parametrize(
    "signature",
    [
        "g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",  # no version
        "v1,not base64!",
        "v1,",
        "v1,c2hvcnQ=",  # valid base64, wrong length
        "v1," + "é" * 44,
        " ".join([VEC_SIGNATURE] * 101),  # more than 100 entries
    ],
)
def test_rejects_malformed_signature_header(signature: str) -> None:
    req = request(VEC_BODY, headers_for(signature=signature))
    assert reason_of(provider(), req) == "malformed_signature"


def test_accepts_exactly_one_hundred_entries() -> None:
    header = " ".join([VEC_SIGNATURE] * 100)
    provider().verify(request(VEC_BODY, headers_for(signature=header)), VEC_TS)


def test_accepts_timestamps_at_the_edge_of_the_tolerance() -> None:
    req = request(VEC_BODY, headers_for())
    provider().verify(req, VEC_TS + 300)
    provider().verify(req, VEC_TS - 300)


def test_rejects_stale_timestamp() -> None:
    req = request(VEC_BODY, headers_for())
    assert reason_of(provider(), req, now=VEC_TS + 301) == "timestamp_too_old"


def test_rejects_future_timestamp() -> None:
    req = request(VEC_BODY, headers_for())
    assert reason_of(provider(), req, now=VEC_TS - 301) == "timestamp_in_future"


def test_tolerance_option_widens_the_window() -> None:
    req = request(VEC_BODY, headers_for())
    provider(tolerance=3600).verify(req, VEC_TS + 3000)
    assert reason_of(provider(tolerance=10.5), req, now=VEC_TS + 11) == "timestamp_too_old"


@pytest.mark.parametrize(
    "ts", ["hello", "nan", "1e30", "-1614265330", "", " 1614265330", "1614265330.0", "١٢٣", "1_0"]
)
def test_rejects_invalid_timestamp(ts: str) -> None:
    req = request(VEC_BODY, headers_for(ts=ts))
    assert reason_of(provider(), req) == "invalid_timestamp"


def test_rejects_absurdly_long_timestamp_without_overflow() -> None:
    req = request(VEC_BODY, headers_for(ts="9" * 400))
    assert reason_of(provider(), req) == "invalid_timestamp"


def test_handles_non_ascii_id_and_non_utf8_body() -> None:
    body = b"\xff\xfe\x80"
    msg_id = "msg_\udcff_é"  # a lone surrogate must not escape as UnicodeEncodeError
    req = request(body, headers_for(msg_id=msg_id))
    assert reason_of(provider(), req) == "signature_mismatch"


def test_header_prefix_option_reads_svix_headers() -> None:
    p = provider(header_prefix="Svix-")
    p.verify(request(VEC_BODY, headers_for(prefix="svix-")), VEC_TS)
    assert reason_of(p, request(VEC_BODY, headers_for())) == "missing_id"


def test_event_id_is_the_id_header_and_event_type_is_body_type() -> None:
    p = provider()
    req = request(b"{}", headers_for())
    assert p.event_id(req, {}) == VEC_ID
    assert p.event_type(req, {"type": "invoice.paid", "data": {}}) == "invoice.paid"
    assert p.event_type(req, {"type": 3}) is None
    assert p.event_type(req, ["type"]) is None
    assert p.event_id(request(b"", {}), None) is None


def test_handshake_returns_none() -> None:
    assert provider().handshake(request(VEC_BODY, headers_for()), VEC_TS) is None


@pytest.mark.parametrize("secret", ["whsec_not base64!", "whsec_", "whsec_é", "abc"])
def test_rejects_a_secret_that_is_not_base64_at_build_time(secret: str) -> None:
    with pytest.raises(ConfigError) as info:
        build([secret], {})
    assert info.value.key == "secrets"
    material = secret.removeprefix("whsec_")
    assert not material or material not in str(info.value)


def test_decode_secret_strips_the_prefix() -> None:
    assert decode_secret("whsec_aGVsbG8=") == b"hello"
    assert decode_secret("aGVsbG8=") == b"hello"


def test_rejects_empty_secret_list() -> None:
    with pytest.raises(ConfigError) as info:
        build([], {})
    assert info.value.key == "secrets"


@pytest.mark.parametrize(
    ("options", "key"),
    [
        ({"tolerance": 0}, "tolerance"),
        ({"tolerance": -5}, "tolerance"),
        ({"tolerance": True}, "tolerance"),
        ({"tolerance": "300"}, "tolerance"),
        ({"tolerance": float("inf")}, "tolerance"),
        ({"tolerance": float("nan")}, "tolerance"),
        ({"tolerance": 10**400}, "tolerance"),
        ({"header_prefix": ""}, "header_prefix"),
        ({"header_prefix": 3}, "header_prefix"),
        ({"algorithm": "sha1"}, "algorithm"),
    ],
)
def test_rejects_bad_options(options: dict[str, Any], key: str) -> None:
    with pytest.raises(ConfigError) as info:
        build([VEC_SECRET], options)
    assert info.value.key == key


def test_spec_is_named_standard_webhooks() -> None:
    assert SPEC.name == "standard-webhooks"
    assert SPEC.build([VEC_SECRET], {}).name == "standard-webhooks"


def test_repr_does_not_leak_the_secret() -> None:
    assert "MfKQ9r8" not in repr(provider())


@settings(max_examples=50)
@given(
    body=st.binary(min_size=1, max_size=512),
    key=st.binary(min_size=1, max_size=64),
    ts=st.integers(0, 10**10),
    data=st.data(),
)
def test_sign_then_verify_round_trips_and_any_flipped_byte_fails(
    body: bytes, key: bytes, ts: int, data: st.DataObject
) -> None:
    secret = "whsec_" + base64.b64encode(key).decode()
    p = provider(secret)
    headers = headers_for(signature=sign(secret, "msg_1", ts, body), ts=str(ts), msg_id="msg_1")
    p.verify(request(body, headers), ts)

    index = data.draw(st.integers(0, len(body) - 1), label="index")
    mask = data.draw(st.integers(1, 255), label="mask")
    flipped = bytearray(body)
    flipped[index] ^= mask
    assert reason_of(p, request(bytes(flipped), headers), now=ts) == "signature_mismatch"
