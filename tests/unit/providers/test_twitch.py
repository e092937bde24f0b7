from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from relay.providers.twitch import SPEC, TwitchProvider, build
from tests.unit.providers._kit import (
    NOW,
    config_key,
    flip,
    handshake_reason,
    hmac_sha256,
    reason_of,
    request,
)

SECRET = "s3cr3t-twitch-0123"
MSG_ID = "e76c6bd4-55c9-4987-8304-da1588d8988b"
BODY = json.dumps(
    {
        "subscription": {"id": "f1c2a387", "type": "channel.follow", "version": "2"},
        "event": {"user_id": "1337"},
    }
).encode()


def rfc3339(offset: float = 0.0, digits: int = 9) -> str:
    moment = datetime.fromtimestamp(NOW + offset, UTC)
    fraction = f"{moment.microsecond:06d}000"[:digits]
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + (f".{fraction}" if digits else "") + "Z"


def signed(
    body: bytes = BODY,
    *,
    secret: str = SECRET,
    timestamp: str | None = None,
    message_id: str = MSG_ID,
    message_type: str = "notification",
) -> Any:
    timestamp = rfc3339() if timestamp is None else timestamp
    digest = hmac_sha256(secret, message_id.encode() + timestamp.encode() + body).hex()
    return request(
        body,
        {
            "Twitch-Eventsub-Message-Id": message_id,
            "Twitch-Eventsub-Message-Timestamp": timestamp,
            "Twitch-Eventsub-Message-Signature": "sha256=" + digest,
            "Twitch-Eventsub-Message-Type": message_type,
        },
    )


def without(req: Any, name: str) -> Any:
    headers = {k: v for k, v in req.headers.items() if k != name.lower()}
    return request(req.body, headers)


def provider(*secrets: str, **options: Any) -> TwitchProvider:
    return build(list(secrets or (SECRET,)), options)


def test_accepts_a_valid_notification() -> None:
    provider().verify(signed(), NOW)


@pytest.mark.parametrize(
    "timestamp",
    ["2023-11-14T22:13:20Z", "2023-11-14T22:13:20.5Z", "2023-11-14T23:13:20.123456789+01:00"],
)
def test_accepts_rfc3339_variants(timestamp: str) -> None:
    provider().verify(signed(timestamp=timestamp), NOW)


def test_rejects_one_byte_tamper_wrong_secret_and_other_id() -> None:
    req = signed()
    tampered = request(BODY.replace(b"1337", b"1338"), req.headers)
    assert reason_of(provider(), tampered) == "signature_mismatch"
    assert reason_of(provider("other"), req) == "signature_mismatch"
    moved = request(BODY, {**req.headers, "twitch-eventsub-message-id": MSG_ID[:-1] + "c"})
    assert reason_of(provider(), moved) == "signature_mismatch"


def test_accepts_rotation() -> None:
    provider("new", SECRET).verify(signed(), NOW)


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        ("Twitch-Eventsub-Message-Signature", "missing_signature"),
        ("Twitch-Eventsub-Message-Id", "missing_id"),
        ("Twitch-Eventsub-Message-Timestamp", "missing_timestamp"),
    ],
)
def test_rejects_missing_headers(header: str, reason: str) -> None:
    assert reason_of(provider(), without(signed(), header)) == reason


@pytest.mark.parametrize(
    "value", ["", "sha256=", "sha1=" + "0" * 40, "sha256=" + "z" * 64, "0" * 64]
)
def test_rejects_malformed_signatures(value: str) -> None:
    req = signed()
    bad = request(BODY, {**req.headers, "twitch-eventsub-message-signature": value})
    assert reason_of(provider(), bad) == "malformed_signature"


@pytest.mark.parametrize(
    "timestamp",
    [
        "",
        "1700000000",
        "2023-11-14 22:13:20Z",
        "2023-11-14T22:13:20",
        "2023-02-30T00:00:00Z",
        "2023-11-14T25:00:00Z",
        "2023-11-14T22:13:20.1234567890Z",
        "\uff12\uff10\uff12\uff13-11-14T22:13:20Z",  # full-width digits
        "2023-11-14T22:13:20+24:00",
    ],
)
def test_rejects_garbage_timestamps(timestamp: str) -> None:
    assert reason_of(provider(), signed(timestamp=timestamp)) == "invalid_timestamp"


def test_rejects_twitch_message_older_than_ten_minutes() -> None:
    provider().verify(signed(timestamp=rfc3339(-600)), NOW)
    assert reason_of(provider(), signed(timestamp=rfc3339(-601))) == "timestamp_too_old"


def test_rejects_twitch_message_more_than_ten_minutes_ahead() -> None:
    provider().verify(signed(timestamp=rfc3339(600)), NOW)
    assert reason_of(provider(), signed(timestamp=rfc3339(601))) == "timestamp_in_future"


def test_stale_verification_challenge_is_not_answered() -> None:
    body = json.dumps({"challenge": "c-1", **json.loads(BODY)}).encode()
    stale = signed(body, timestamp=rfc3339(-601), message_type="webhook_callback_verification")
    assert handshake_reason(provider(), stale) == "timestamp_too_old"


def test_window_holds_for_extreme_dates_and_follows_the_tolerance_option() -> None:
    extremes = ("0001-01-01T00:00:00+23:59", "9999-12-31T23:59:59-23:59")
    assert [reason_of(provider(), signed(timestamp=value)) for value in extremes] == [
        "timestamp_too_old",
        "timestamp_in_future",
    ]
    assert reason_of(provider(tolerance=60), signed(timestamp=rfc3339(-61))) == (
        "timestamp_too_old"
    )


def test_answers_the_verification_challenge_after_verifying() -> None:
    body = json.dumps({"challenge": "pogchamp-kappa-360noscope-vohiyo", **json.loads(BODY)})
    req = signed(body.encode(), message_type="webhook_callback_verification")
    reply = provider().handshake(req, NOW)
    assert reply is not None
    assert (reply.status_code, reply.media_type, reply.body) == (
        200,
        "text/plain",
        b"pogchamp-kappa-360noscope-vohiyo",
    )
    assert handshake_reason(provider("other"), req) == "signature_mismatch"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b'{"challenge": ""}', "malformed_challenge"),
        (b'{"challenge": 5}', "malformed_challenge"),
        (b'{"challenge": "a\\nb"}', "malformed_challenge"),
        (b"{}", "malformed_challenge"),
        (b"not json", "malformed_body"),
    ],
)
def test_refuses_unusable_challenges(body: bytes, reason: str) -> None:
    req = signed(body, message_type="webhook_callback_verification")
    assert handshake_reason(provider(), req) == reason


def test_notifications_and_revocations_are_not_handshakes() -> None:
    assert provider().handshake(signed(), NOW) is None
    revocation = signed(message_type="revocation")
    assert provider().handshake(revocation, NOW) is None
    provider().verify(revocation, NOW)


def test_event_type_and_id() -> None:
    req = signed()
    assert provider().event_type(req, json.loads(BODY)) == "channel.follow"
    assert provider().event_id(req, json.loads(BODY)) == MSG_ID
    assert provider().event_type(req, {"subscription": []}) is None
    assert provider().event_id(request(BODY), None) is None


@pytest.mark.parametrize(
    ("secrets", "options", "key"),
    [([], {}, "secrets"), ([SECRET], {"tolerance": -1}, "tolerance"), ([SECRET], {"a": 1}, "a")],
)
def test_rejects_bad_config(secrets: list[str], options: dict[str, Any], key: str) -> None:
    assert config_key(build, secrets, options) == key


def test_spec() -> None:
    assert SPEC.name == "twitch"
    assert not SPEC.allows_get
    assert SECRET not in repr(provider())


@settings(max_examples=30)
@given(
    body=st.binary(min_size=1, max_size=512),
    message_id=st.from_regex(r"[0-9a-f-]{1,36}", fullmatch=True),
    offset=st.floats(-590, 590),
    data=st.data(),
)
def test_round_trip_and_any_flipped_byte_fails(
    body: bytes, message_id: str, offset: float, data: st.DataObject
) -> None:
    req = signed(body, message_id=message_id, timestamp=rfc3339(offset))
    provider().verify(req, NOW)
    assert reason_of(provider(), request(flip(body, data), req.headers)) == "signature_mismatch"


def test_rfc3339_helper_matches_the_clock() -> None:
    assert datetime.fromisoformat(rfc3339(digits=6)) == datetime.fromtimestamp(NOW, UTC)
    assert rfc3339(timedelta(minutes=1).total_seconds()).startswith("2023-11-14T22:14:20")
