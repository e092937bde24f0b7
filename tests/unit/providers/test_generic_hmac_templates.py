"""``provider: hmac`` with a ``signed`` template (timestamp / id placeholders)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from relay.providers.base import ConfigError, WebhookRequest
from relay.providers.hmac import GenericHmacProvider, build
from tests.unit.providers._kit import NOW, flip, reason_of, request

SECRET = "generic-secret"
BODY = b'{"event": "order.created", "data": {"id": "ord_1", "n": 7}}'


def sign(body: bytes, secret: str = SECRET, encoding: str = "hex") -> str:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return digest.hex() if encoding == "hex" else base64.b64encode(digest).decode()


def provider(*secrets: str, **options: Any) -> GenericHmacProvider:
    options.setdefault("header", "X-Signature")
    return build(list(secrets or (SECRET,)), options)


SLACK_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
SLACK_TIMESTAMP = "1531420618"
SLACK_BODY = (
    b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow"
    b"&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner"
    b"&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands"
    b"%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN"
    b"&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
)
SLACK_SIGNATURE = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"


def slack_like(**options: Any) -> GenericHmacProvider:
    return provider(
        SLACK_SECRET,
        header="X-Slack-Signature",
        prefix="v0=",
        signed="v0:{timestamp}:{body}",
        timestamp_header="X-Slack-Request-Timestamp",
        **options,
    )


def slack_request(body: bytes = SLACK_BODY, timestamp: str = SLACK_TIMESTAMP) -> WebhookRequest:
    headers = {"x-slack-signature": SLACK_SIGNATURE, "x-slack-request-timestamp": timestamp}
    return request(body, headers)


def test_template_reproduces_slacks_documented_example() -> None:
    slack_like().verify(slack_request(), float(SLACK_TIMESTAMP) + 10)


def test_template_timestamp_is_signed_and_checked() -> None:
    now = float(SLACK_TIMESTAMP)
    p = slack_like(tolerance=60)
    assert reason_of(p, slack_request(SLACK_BODY[:-1] + b"d"), now) == "signature_mismatch"
    assert reason_of(p, slack_request(timestamp="1531420619"), now) == "signature_mismatch"
    assert reason_of(p, slack_request(), now + 61) == "timestamp_too_old"
    assert reason_of(p, slack_request(), now - 61) == "timestamp_in_future"
    assert reason_of(p, slack_request(timestamp="15314206l8"), now) == "invalid_timestamp"
    missing = request(SLACK_BODY, {"x-slack-signature": SLACK_SIGNATURE})
    assert reason_of(p, missing, now) == "missing_timestamp"
    assert reason_of(slack_like(), slack_request(), now + 301) == "timestamp_too_old"


def test_template_with_id_and_literal_braces() -> None:
    p = provider(
        signed="{{{id}}}.{timestamp}.{body}",
        id_header="X-Msg-Id",
        timestamp_header="X-Msg-Time",
        encoding="base64",
    )
    stamp = str(int(NOW))
    message = b"{msg_1}." + stamp.encode() + b"." + BODY
    headers = {
        "x-msg-id": "msg_1",
        "x-msg-time": stamp,
        "x-signature": sign(message, encoding="base64"),
    }
    p.verify(request(BODY, headers), NOW)
    assert p.event_id(request(BODY, headers), {}) == "msg_1"
    other_id = {**headers, "x-msg-id": "msg_2"}
    assert reason_of(p, request(BODY, other_id)) == "signature_mismatch"
    no_id = {k: v for k, v in headers.items() if k != "x-msg-id"}
    assert reason_of(p, request(BODY, no_id)) == "missing_id"


def test_default_template_is_the_body_alone() -> None:
    provider(signed="{body}").verify(request(BODY, {"x-signature": sign(BODY)}), NOW)


@pytest.mark.parametrize(
    ("options", "key"),
    [
        ({"signed": "{timestamp}"}, "signed"),
        ({"signed": "{body"}, "signed"),
        ({"signed": "{body}{nonce}"}, "signed"),
        ({"signed": "{body!r}"}, "signed"),
        ({"signed": "{body:>10}"}, "signed"),
        ({"signed": "{0}{body}"}, "signed"),
        ({"signed": "{timestamp}.{body}"}, "timestamp_header"),
        ({"signed": "{id}.{body}"}, "id_header"),
        ({"timestamp_header": "x-ts"}, "timestamp_header"),
        ({"id_header": "x-id"}, "id_header"),
        ({"signed": "{timestamp}{body}", "timestamp_header": "t", "tolerance": 0}, "tolerance"),
    ],
)
def test_rejects_bad_templates(options: dict[str, Any], key: str) -> None:
    options.setdefault("header", "x-sig")
    with pytest.raises(ConfigError) as info:
        build([SECRET], options)
    assert info.value.key == key


@settings(max_examples=30)
@given(body=st.binary(min_size=1, max_size=256), data=st.data())
def test_template_round_trip_and_any_flipped_byte_fails(body: bytes, data: st.DataObject) -> None:
    p = provider(signed="{timestamp}.{body}", timestamp_header="X-Time")
    stamp = str(int(NOW))
    headers = {"x-time": stamp, "x-signature": sign(stamp.encode() + b"." + body)}
    p.verify(request(body, headers), NOW)
    assert reason_of(p, request(flip(body, data), headers)) == "signature_mismatch"
