from __future__ import annotations

import hashlib
import json
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator

from relay.providers.base import VerificationError
from relay.providers.twilio import SPEC, TwilioProvider, build, port_variants
from tests.unit.providers._kit import (
    NOW,
    assert_no_leak,
    config_key,
    flip,
    reason_of,
    request,
)

TOKEN = "12345"
PUBLIC_URL = "https://mycompany.com/myapp.php"
QUERY = {"foo": "1", "bar": "2"}
# The worked example of Twilio's "Webhooks security" page, in its two published versions.
DOC_PARAMS_OLD = {
    "CallSid": "CA1234567890ABCDE",
    "Caller": "+12349013030",
    "Digits": "1234",
    "From": "+12349013030",
    "To": "+18005551212",
}
DOC_SIGNATURE_OLD = "0/KCTR6DLpKmkAf8muzZqo1nDgQ="
DOC_PARAMS = {**DOC_PARAMS_OLD, "Caller": "+14158675310", "From": "+14158675310"}
DOC_SIGNATURE = "GvWf1cFY/Q7PnoempGyD5oXAezc="
SETTINGS = "X-Twilio-Webhooks-Signature-Settings"


def provider(*tokens: str, public_url: str = PUBLIC_URL) -> TwilioProvider:
    return build(list(tokens or (TOKEN,)), {"public_url": public_url})


def form(params: dict[str, str]) -> bytes:
    # Written out of order on purpose: the signature sorts the parameters.
    return urlencode(list(reversed(params.items()))).encode()


def sdk_signature(
    token: str, url: str, params: dict[str, str], algorithm: str = "HMAC_SHA1"
) -> str:
    signature: str = RequestValidator(token).compute_signature(url, params, algorithm)
    return signature


def form_request(
    params: dict[str, str],
    signature: str,
    *,
    query: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> Any:
    return request(
        form(params),
        {"X-Twilio-Signature": signature, **(headers or {})},
        query=QUERY if query is None else query,
    )


@pytest.mark.parametrize(
    ("params", "signature"),
    [(DOC_PARAMS_OLD, DOC_SIGNATURE_OLD), (DOC_PARAMS, DOC_SIGNATURE)],
)
def test_accepts_twilios_documented_examples(params: dict[str, str], signature: str) -> None:
    assert sdk_signature(TOKEN, f"{PUBLIC_URL}?foo=1&bar=2", params) == signature
    provider().verify(form_request(params, signature), NOW)


def test_public_url_query_is_replaced_by_the_requests_query() -> None:
    p = provider(public_url=PUBLIC_URL + "?foo=1&bar=2")
    p.verify(form_request(DOC_PARAMS, DOC_SIGNATURE), NOW)
    assert reason_of(p, form_request(DOC_PARAMS, DOC_SIGNATURE, query={})) == ("signature_mismatch")


def test_ignores_the_host_header() -> None:
    req = form_request(DOC_PARAMS, DOC_SIGNATURE, headers={"host": "attacker.example"})
    provider().verify(req, NOW)
    assert reason_of(provider(public_url="https://attacker.example/myapp.php"), req) == (
        "signature_mismatch"
    )


def test_rejects_a_tampered_parameter() -> None:
    params = {**DOC_PARAMS, "Digits": "1235"}
    assert reason_of(provider(), form_request(params, DOC_SIGNATURE)) == "signature_mismatch"


def test_rejects_an_added_parameter_and_another_query() -> None:
    added = {**DOC_PARAMS, "Extra": ""}
    assert reason_of(provider(), form_request(added, DOC_SIGNATURE)) == "signature_mismatch"
    other = form_request(DOC_PARAMS, DOC_SIGNATURE, query={"foo": "1", "bar": "3"})
    assert reason_of(provider(), other) == "signature_mismatch"


def test_rejects_wrong_token_and_accepts_rotation() -> None:
    req = form_request(DOC_PARAMS, DOC_SIGNATURE)
    assert reason_of(provider("54321"), req) == "signature_mismatch"
    provider("54321", TOKEN).verify(req, NOW)


def test_rejects_missing_signature() -> None:
    req = request(form(DOC_PARAMS), {}, query=QUERY)
    assert reason_of(provider(), req) == "missing_signature"


@pytest.mark.parametrize(
    "value", ["", "not base64!", DOC_SIGNATURE[:-4], DOC_SIGNATURE + "AAAA", "é" * 28]
)
def test_rejects_malformed_signature(value: str) -> None:
    assert reason_of(provider(), form_request(DOC_PARAMS, value)) == "malformed_signature"


@pytest.mark.parametrize("body", [b"From=\xff\xfe", b"From=%FF%FE", b"a=%C3"])
def test_rejects_non_utf8_form_bodies(body: bytes) -> None:
    req = request(body, {"X-Twilio-Signature": DOC_SIGNATURE}, query=QUERY)
    assert reason_of(provider(), req) == "malformed_body"


@pytest.mark.parametrize("port_in_signature", [True, False])
def test_accepts_the_url_with_or_without_the_default_port(port_in_signature: bool) -> None:
    signed_url = "https://mycompany.com:443/myapp.php" if port_in_signature else PUBLIC_URL
    signature = sdk_signature(TOKEN, signed_url, DOC_PARAMS)
    provider().verify(form_request(DOC_PARAMS, signature, query={}), NOW)
    provider(public_url="https://mycompany.com:443/myapp.php").verify(
        form_request(DOC_PARAMS, signature, query={}), NOW
    )


def test_port_variants() -> None:
    assert port_variants("http://a.example/x?q=1") == (
        "http://a.example/x",
        "http://a.example:80/x",
    )
    assert port_variants("https://u@a.example:8443/x") == (
        "https://u@a.example:8443/x",
        "https://u@a.example/x",
    )


def test_repeated_parameters_are_signed_like_the_sdk() -> None:
    class MultiDict(dict[str, str]):
        def getall(self, name: str) -> list[str]:
            return ["b", "a"] if name == "Media" else [self[name]]

    params = MultiDict(Media="", Body="hi")
    signature = sdk_signature(TOKEN, PUBLIC_URL, params)
    body = b"Media=b&Body=hi&Media=a"
    provider().verify(request(body, {"X-Twilio-Signature": signature}), NOW)


def json_request(payload: bytes, signature: str, body_hash: str) -> Any:
    return request(payload, {"X-Twilio-Signature": signature}, query={"bodySHA256": body_hash})


def test_json_bodies_are_covered_by_body_sha256_cross_checked_with_the_sdk() -> None:
    payload = json.dumps(
        {"EventType": "onMessageAdded", "Body": "héllo"}, ensure_ascii=False
    ).encode()
    body_hash = hashlib.sha256(payload).hexdigest()
    url = f"{PUBLIC_URL}?bodySHA256={body_hash}"
    signature = sdk_signature(TOKEN, url, {})
    assert RequestValidator(TOKEN).validate(url, payload.decode(), signature)
    p = provider()
    p.verify(json_request(payload, signature, body_hash), NOW)
    tampered = payload.replace(b"h\xc3\xa9llo", b"hello")
    assert reason_of(p, json_request(tampered, signature, body_hash)) == "signature_mismatch"
    assert reason_of(p, json_request(payload, signature, "zz" * 32)) == "malformed_signature"
    other_hash = hashlib.sha256(tampered).hexdigest()
    assert reason_of(p, json_request(tampered, signature, other_hash)) == "signature_mismatch"


def test_sha256_signatures_announced_by_the_settings_header() -> None:
    signature = sdk_signature(TOKEN, f"{PUBLIC_URL}?foo=1&bar=2", DOC_PARAMS, "HMAC_SHA256")
    settings_header = "key=webhooks_sharedkey_1,algorithm=HMAC_SHA256"
    req = form_request(DOC_PARAMS, signature, headers={SETTINGS: settings_header})
    provider().verify(req, NOW)
    assert reason_of(provider(), form_request(DOC_PARAMS, signature)) == "malformed_signature"
    bad = form_request(DOC_PARAMS, signature, headers={SETTINGS: "algorithm=MD5"})
    assert reason_of(provider(), bad) == "malformed_signature"


def test_error_does_not_leak_the_token_or_expected_signature() -> None:
    params = {**DOC_PARAMS, "Digits": "9"}
    expected = sdk_signature(TOKEN, f"{PUBLIC_URL}?foo=1&bar=2", params)
    with pytest.raises(VerificationError) as info:
        provider().verify(form_request(params, DOC_SIGNATURE), NOW)
    assert_no_leak(info.value, TOKEN, expected)
    assert TOKEN not in repr(provider())


def test_event_type_and_id() -> None:
    p = provider()
    req = request(b"")
    status = {"MessageSid": "SM1", "MessageStatus": "delivered"}
    assert p.event_type(req, status) == "delivered"
    assert p.event_id(req, status) == "SM1:delivered"
    call = {"CallSid": "CA1", "CallStatus": "completed"}
    assert (p.event_type(req, call), p.event_id(req, call)) == ("completed", "CA1:completed")
    inbound = {"MessageSid": "SM2", "SmsStatus": "received", "MessageStatus": "received"}
    assert p.event_id(req, inbound) == "SM2:received"
    assert p.event_id(req, {"CallSid": "CA2"}) == "CA2"
    keyed = request(b"", {"I-Twilio-Idempotency-Token": "idem-1"})
    assert p.event_id(keyed, status) == "idem-1"
    unusable: list[Any] = [None, [], "x", {"MessageStatus": 3.5}]
    for body in unusable:
        assert p.event_type(req, body) is None
        assert p.event_id(req, body) is None


@pytest.mark.parametrize(
    ("options", "key"),
    [
        ({}, "public_url"),
        ({"public_url": "mycompany.com/x"}, "public_url"),
        ({"public_url": "ftp://mycompany.com/x"}, "public_url"),
        ({"public_url": "https://mycompany.com:99999/x"}, "public_url"),
        ({"public_url": "https://mycompany.com/x#frag"}, "public_url"),
        ({"public_url": PUBLIC_URL, "tolerance": 5}, "tolerance"),
    ],
)
def test_rejects_bad_options(options: dict[str, Any], key: str) -> None:
    assert config_key(build, [TOKEN], options) == key


def test_spec() -> None:
    assert SPEC.name == "twilio"
    assert not SPEC.allows_get
    assert provider().handshake(request(b""), NOW) is None


_VALUES = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=20)


@settings(max_examples=30)
@given(
    params=st.dictionaries(
        st.from_regex(r"[A-Za-z][A-Za-z0-9]{0,9}", fullmatch=True), _VALUES, min_size=1, max_size=6
    ),
    token=st.text(min_size=1, max_size=32),
    data=st.data(),
)
def test_sdk_signature_round_trips_and_a_changed_value_fails(
    params: dict[str, str], token: str, data: st.DataObject
) -> None:
    p = provider(token)
    signature = sdk_signature(token, f"{PUBLIC_URL}?foo=1&bar=2", params)
    p.verify(form_request(params, signature), NOW)
    name = data.draw(st.sampled_from(sorted(params)), label="name")
    changed = {**params, name: params[name] + data.draw(_VALUES.filter(bool), label="suffix")}
    assert reason_of(p, form_request(changed, signature)) == "signature_mismatch"


@settings(max_examples=30)
@given(payload=st.binary(min_size=1, max_size=256), data=st.data())
def test_json_round_trip_and_any_flipped_byte_fails(payload: bytes, data: st.DataObject) -> None:
    body_hash = hashlib.sha256(payload).hexdigest()
    signature = sdk_signature(TOKEN, f"{PUBLIC_URL}?bodySHA256={body_hash}", {})
    provider().verify(json_request(payload, signature, body_hash), NOW)
    flipped = json_request(flip(payload, data), signature, body_hash)
    assert reason_of(provider(), flipped) == "signature_mismatch"


def test_the_raw_query_verifies_repeated_parameters_and_unusual_escapes() -> None:
    # Twilio signs the URL as configured; a parsed query loses repeats and escapes.
    raw_query = "tag=a&tag=b&q=%7e%2b&empty"
    signature = sdk_signature(TOKEN, f"{PUBLIC_URL}?{raw_query}", DOC_PARAMS)
    parsed = {"tag": "b", "q": "~+", "empty": ""}
    req = request(
        form(DOC_PARAMS), {"X-Twilio-Signature": signature}, query=parsed, raw_query=raw_query
    )
    provider().verify(req, NOW)
    without_raw = request(form(DOC_PARAMS), {"X-Twilio-Signature": signature}, query=parsed)
    assert reason_of(provider(), without_raw) == "signature_mismatch"
    reordered = request(
        form(DOC_PARAMS),
        {"X-Twilio-Signature": signature},
        query=parsed,
        raw_query="tag=b&tag=a&q=%7e%2b&empty",
    )
    assert reason_of(provider(), reordered) == "signature_mismatch"
