from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from relay.providers.hubspot import SPEC, HubSpotProvider, build, decode_uri
from tests.unit.providers._kit import (
    NOW,
    b64,
    config_key,
    flip,
    hmac_sha256,
    reason_of,
    request,
)

SECRET = "a1b2c3d4-client-secret"
PUBLIC_URL = "https://relay.example.com/hooks/hubspot"
MILLIS = str(int(NOW * 1000))
BODY = json.dumps(
    [{"eventId": 100, "subscriptionType": "contact.creation", "objectId": 123}]
).encode()
SIG = "X-HubSpot-Signature-v3"
TS = "X-HubSpot-Request-Timestamp"


def sign(uri: str, body: bytes, timestamp: str = MILLIS, method: str = "POST") -> str:
    """HubSpot's documented recipe: base64(HMAC-SHA256(secret, method + uri + body + ts))."""
    return b64(hmac_sha256(SECRET, f"{method}{uri}".encode() + body + timestamp.encode()))


def signed(
    body: bytes = BODY,
    *,
    uri: str = PUBLIC_URL,
    query: dict[str, str] | None = None,
    timestamp: str = MILLIS,
    method: str = "POST",
) -> Any:
    headers = {SIG: sign(uri, body, timestamp, method), TS: timestamp}
    return request(body, headers, method=method, query=query)


def provider(*secrets: str, **options: Any) -> HubSpotProvider:
    options.setdefault("public_url", PUBLIC_URL)
    return build(list(secrets or (SECRET,)), options)


def test_accepts_a_valid_signature() -> None:
    provider().verify(signed(), NOW)


def test_method_is_signed() -> None:
    provider().verify(signed(b"", method="GET"), NOW)
    moved = signed(b"")
    as_get = request(b"", moved.headers, method="GET")
    assert reason_of(provider(), as_get) == "signature_mismatch"


def test_query_is_taken_from_the_request_and_decoded_like_hubspot() -> None:
    # HubSpot called ...?a=x%3Ay&next=https%3A%2F%2Fe.com%2Fp%3Fq%3D1 and decoded %3A %2F %3F.
    signed_uri = PUBLIC_URL + "?a=x:y&next=https://e.com/p?q%3D1"
    query = {"a": "x:y", "next": "https://e.com/p?q=1"}
    provider().verify(signed(uri=signed_uri, query=query), NOW)
    other = signed(uri=signed_uri, query={"a": "x:z", "next": "https://e.com/p?q=1"})
    assert reason_of(provider(), other) == "signature_mismatch"


def test_public_urls_own_query_is_replaced() -> None:
    p = provider(public_url=PUBLIC_URL + "?portal=1")
    p.verify(signed(uri=PUBLIC_URL + "?portal=1", query={"portal": "1"}), NOW)
    p.verify(signed(), NOW)


@pytest.mark.parametrize(
    ("raw", "decoded"),
    [
        ("%3A%2F%3F%40%21%24%27%28%29%2A%2C%3B", ":/?@!$'()*,;"),
        ("%3a%2f%3f%2a", ":/?*"),
        ("%20%3D%26%25%2B", "%20%3D%26%25%2B"),  # not in HubSpot's table: kept
        ("%253A", "%253A"),
    ],
)
def test_decode_uri(raw: str, decoded: str) -> None:
    assert decode_uri(raw) == decoded


def test_rejects_one_byte_tamper_and_wrong_secret() -> None:
    req = signed()
    assert reason_of(provider(), request(BODY.replace(b"100", b"101"), req.headers)) == (
        "signature_mismatch"
    )
    assert reason_of(provider("other"), req) == "signature_mismatch"


def test_accepts_rotation() -> None:
    provider("new-secret", SECRET).verify(signed(), NOW)


def test_rejects_missing_headers() -> None:
    req = signed()
    assert reason_of(provider(), request(BODY, {TS: MILLIS})) == "missing_signature"
    assert reason_of(provider(), request(BODY, {SIG: req.headers[SIG.lower()]})) == (
        "missing_timestamp"
    )


@pytest.mark.parametrize("value", ["", "not base64!", "YWJj", "é" * 44])
def test_rejects_malformed_signatures(value: str) -> None:
    req = request(BODY, {SIG: value, TS: MILLIS})
    assert reason_of(provider(), req) == "malformed_signature"


@pytest.mark.parametrize(
    "timestamp", ["", "abc", "-1", "1.7e12", "\u0661\u0667\u0660\u0660", "9" * 16]
)
def test_rejects_garbage_timestamps(timestamp: str) -> None:
    assert reason_of(provider(), signed(timestamp=timestamp)) == "invalid_timestamp"


def test_five_minute_window_in_milliseconds() -> None:
    ms = int(NOW * 1000)
    provider().verify(signed(timestamp=str(ms - 299_000)), NOW)
    provider().verify(signed(timestamp=str(ms + 299_000)), NOW)
    assert reason_of(provider(), signed(timestamp=str(ms - 301_000))) == "timestamp_too_old"
    assert reason_of(provider(), signed(timestamp=str(ms + 301_000))) == "timestamp_in_future"
    # Seconds instead of milliseconds are decades old.
    assert reason_of(provider(), signed(timestamp=str(int(NOW)))) == "timestamp_too_old"


def test_event_type_and_id() -> None:
    p = provider()
    events = json.loads(BODY)
    assert p.event_type(request(), events) == "contact.creation"
    assert p.event_id(request(), events) == "100"
    assert p.event_type(request(), events[0]) == "contact.creation"
    for body in ([], None, "x", [1], [{"eventId": None}]):
        assert p.event_type(request(), body) is None
        assert p.event_id(request(), body) is None


@pytest.mark.parametrize(
    ("options", "key"),
    [
        ({"public_url": None}, "public_url"),
        ({"public_url": "/hooks/hubspot"}, "public_url"),
        ({"public_url": "https://é.example/x"}, "public_url"),
        ({"tolerance": "300"}, "tolerance"),
        ({"verify_token": "x"}, "verify_token"),
    ],
)
def test_rejects_bad_options(options: dict[str, Any], key: str) -> None:
    options.setdefault("public_url", PUBLIC_URL)
    assert config_key(build, [SECRET], options) == key


def test_requires_public_url() -> None:
    assert config_key(build, [SECRET], {}) == "public_url"


def test_spec_and_no_leak() -> None:
    assert SPEC.name == "hubspot"
    assert provider().handshake(signed(), NOW) is None
    assert SECRET not in repr(provider())


@settings(max_examples=30)
@given(
    body=st.binary(min_size=1, max_size=512),
    query=st.dictionaries(
        st.from_regex(r"[a-z]{1,8}", fullmatch=True),
        st.from_regex(r"[a-z0-9]{0,8}", fullmatch=True),
    ),
    data=st.data(),
)
def test_round_trip_and_any_flipped_byte_fails(
    body: bytes, query: dict[str, str], data: st.DataObject
) -> None:
    uri = PUBLIC_URL + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")
    req = signed(body, uri=uri, query=query)
    provider().verify(req, NOW)
    assert reason_of(provider(), request(flip(body, data), req.headers, query=query)) == (
        "signature_mismatch"
    )


def test_the_raw_query_verifies_repeated_parameters_and_unusual_escapes() -> None:
    # HubSpot signs the query as it calls it (decoding only its table of escapes).
    raw_query = "id=1&id=2&next=%2Fa%3Fb%3D%7e&x=%3a"
    signed_uri = PUBLIC_URL + "?id=1&id=2&next=/a?b%3D%7e&x=:"
    parsed = {"id": "2", "next": "/a?b=~", "x": ":"}
    headers = {SIG: sign(signed_uri, BODY), TS: MILLIS}
    provider().verify(request(BODY, headers, query=parsed, raw_query=raw_query), NOW)
    assert reason_of(provider(), request(BODY, headers, query=parsed)) == "signature_mismatch"
    swapped = request(BODY, headers, query=parsed, raw_query="id=2&id=1&next=%2Fa%3Fb%3D%7e&x=%3a")
    assert reason_of(provider(), swapped) == "signature_mismatch"
