from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from square.utils.webhooks_helper import verify_signature

from relay.providers.hmac import GenericHmacProvider
from relay.providers.square import SPEC, build
from tests.unit.providers._kit import NOW, b64, config_key, flip, hmac_sha256, reason_of, request

# The vectors of Square's SDK tests (every language ships the same ones).
SDK_BODY = (
    b'{"merchant_id":"MLEFBHHSJGVHD","type":"webhooks.test_notification",'
    b'"event_id":"ac3ac95b-f97d-458c-a6e6-18981597e05f",'
    b'"created_at":"2022-07-13T20:30:59.037339943Z",'
    b'"data":{"type":"webhooks","id":"bc368e64-01aa-407e-b46e-3231809b1129"}}'
)
SDK_SIGNATURE = "GF4YkrJgGBDZ9NIYbNXBnMzqb2HoL4RW/S6vkZ9/2N4="
SDK_KEY = "Ibxx_5AKakO-3qeNVR61Dw"
SDK_URL = "https://webhook.site/679a4f3a-dcfa-49ee-bac5-9d0edad886b9"
ESCAPED_BODY = b'{"data":{"type":"webhooks","id":">id<"}}'
ESCAPED_SIGNATURE = "Cxt7+aTi4rKgcA0bC4g9EHdVtLSDWdqccmL5MvihU4U="
HEADER = "x-square-hmacsha256-signature"


def provider(*keys: str, url: str = SDK_URL) -> GenericHmacProvider:
    return build(list(keys or (SDK_KEY,)), {"public_url": url})


def sdk_accepts(body: bytes, signature: str, key: str, url: str) -> bool:
    return verify_signature(
        request_body=body.decode(),
        signature_header=signature,
        signature_key=key,
        notification_url=url,
    )


def test_accepts_square_sdk_vectors() -> None:
    assert sdk_accepts(SDK_BODY, SDK_SIGNATURE, SDK_KEY, SDK_URL)
    provider().verify(request(SDK_BODY, {HEADER: SDK_SIGNATURE}), NOW)
    url = "https://webhook.site/webhooks"
    assert sdk_accepts(ESCAPED_BODY, ESCAPED_SIGNATURE, "signature-key", url)
    p = provider("signature-key", url=url)
    p.verify(request(ESCAPED_BODY, {HEADER: ESCAPED_SIGNATURE}), NOW)


def test_rejects_one_byte_tamper_wrong_key_and_other_url() -> None:
    tampered = SDK_BODY.replace(b"MLEFBHHSJGVHD", b"MLEFBHHSJGVHE")
    assert reason_of(provider(), request(tampered, {HEADER: SDK_SIGNATURE})) == (
        "signature_mismatch"
    )
    req = request(SDK_BODY, {HEADER: SDK_SIGNATURE})
    assert reason_of(provider("other-key"), req) == "signature_mismatch"
    assert reason_of(provider(url=SDK_URL + "/"), req) == "signature_mismatch"


def test_url_is_used_exactly_as_configured_whatever_the_request() -> None:
    req = request(SDK_BODY, {HEADER: SDK_SIGNATURE, "host": "evil.example"}, query={"x": "1"})
    provider().verify(req, NOW)


def test_accepts_rotation() -> None:
    provider("new-key", SDK_KEY).verify(request(SDK_BODY, {HEADER: SDK_SIGNATURE}), NOW)


def test_rejects_missing_and_malformed_signatures() -> None:
    assert reason_of(provider(), request(SDK_BODY, {})) == "missing_signature"
    for value in ("", "%%", SDK_SIGNATURE[:-4], "é" * 44, SDK_SIGNATURE.encode().hex()):
        assert reason_of(provider(), request(SDK_BODY, {HEADER: value})) == ("malformed_signature")


def test_event_type_and_id() -> None:
    body = {"type": "payment.updated", "event_id": "ev-1"}
    assert provider().event_type(request(), body) == "payment.updated"
    assert provider().event_id(request(), body) == "ev-1"
    assert provider().event_type(request(), []) is None
    assert provider().event_id(request(), None) is None


@pytest.mark.parametrize(
    ("options", "key"),
    [
        ({}, "public_url"),
        ({"public_url": ""}, "public_url"),
        ({"public_url": "webhook.site/x"}, "public_url"),
        ({"public_url": "https://x.example/a b"}, "public_url"),
        ({"public_url": SDK_URL, "header": "x"}, "header"),
    ],
)
def test_rejects_bad_options(options: dict[str, Any], key: str) -> None:
    assert config_key(build, [SDK_KEY], options) == key


def test_spec() -> None:
    assert SPEC.name == "square"
    assert provider().name == "square"
    assert provider().handshake(request(), NOW) is None
    assert SDK_KEY not in repr(provider())


@settings(max_examples=30)
@given(
    body=st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1).map(
        str.encode
    ),
    key=st.text(min_size=1, max_size=32),
    data=st.data(),
)
def test_round_trip_with_the_sdk_and_any_flipped_byte_fails(
    body: bytes, key: str, data: st.DataObject
) -> None:
    signature = b64(hmac_sha256(key, SDK_URL.encode() + body))
    assert sdk_accepts(body, signature, key, SDK_URL)
    p = provider(key)
    p.verify(request(body, {HEADER: signature}), NOW)
    assert reason_of(p, request(flip(body, data), {HEADER: signature})) == "signature_mismatch"
