from __future__ import annotations

import json
from typing import Any

import pytest

from relay.providers.base import VerificationError
from relay.providers.mailgun import SPEC, MailgunProvider, build
from tests.unit.providers._kit import NOW, config_key, hmac_sha256, reason_of, request

KEY = "key-signing-0123456789abcdef"
TOKEN = "a8ce0edb2dd8301dee6c2405235584e45aa91d1e9f979f3de0"


def signature(timestamp: str, token: str, key: str = KEY) -> str:
    return hmac_sha256(key, (timestamp + token).encode()).hex()


def body(
    timestamp: str | int = str(int(NOW)),
    token: str = TOKEN,
    sig: str | None = None,
    event: str = "delivered",
    **extra: Any,
) -> bytes:
    sig = signature(str(timestamp), token) if sig is None else sig
    payload = {
        "signature": {"timestamp": timestamp, "token": token, "signature": sig, **extra},
        "event-data": {"event": event, "id": "CPgfbmQMTCKtHW6uIWtuVe"},
    }
    return json.dumps(payload).encode()


def provider(*keys: str, **options: Any) -> MailgunProvider:
    return build(list(keys or (KEY,)), options)


def test_accepts_a_valid_signature() -> None:
    provider().verify(request(body()), NOW)


def test_accepts_an_integer_timestamp() -> None:
    provider().verify(request(body(timestamp=int(NOW))), NOW)


def test_rejects_a_token_changed_by_one_character() -> None:
    sig = signature(str(int(NOW)), TOKEN)
    tampered = body(token=TOKEN[:-1] + "1", sig=sig)
    assert reason_of(provider(), request(tampered)) == "signature_mismatch"


def test_rejects_another_timestamp() -> None:
    sig = signature(str(int(NOW)), TOKEN)
    req = request(body(timestamp=str(int(NOW) + 1), sig=sig))
    assert reason_of(provider(), req) == "signature_mismatch"


def test_event_data_is_not_covered_by_mailguns_signature() -> None:
    # Documented limitation of Mailgun's scheme: dedupe on the token instead.
    provider().verify(request(body(event="failed")), NOW)


def test_rejects_wrong_key_and_accepts_rotation() -> None:
    assert reason_of(provider("other"), request(body())) == "signature_mismatch"
    provider("other", KEY).verify(request(body()), NOW)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"", "malformed_body"),
        (b"not json", "malformed_body"),
        (b"\xff\xfe{}", "malformed_body"),
        (b'{"signature": {}, "signature": {}}', "malformed_body"),
        (b'{"a": NaN}', "malformed_body"),
        (b"[" * 100_000, "malformed_body"),
        (b"{}", "missing_signature"),
        (b"[]", "missing_signature"),
        (b'{"signature": "x"}', "missing_signature"),
        (b'{"signature": {"timestamp": "1", "token": "t"}}', "missing_signature"),
        (b'{"signature": {"signature": "00", "token": "t"}}', "missing_timestamp"),
        (b'{"signature": {"signature": "00", "timestamp": "1"}}', "missing_token"),
        (b'{"signature": {"signature": 5, "timestamp": "1", "token": "t"}}', "malformed_signature"),
        (b'{"signature": {"signature": "00", "timestamp": [], "token": "t"}}', "invalid_timestamp"),
        (b'{"signature": {"signature": "00", "timestamp": "1", "token": ""}}', "malformed_token"),
    ],
)
def test_rejects_broken_bodies(raw: bytes, reason: str) -> None:
    assert reason_of(provider(), request(raw)) == reason


@pytest.mark.parametrize("sig", ["", "xyz", "ab" * 31, "é" * 64])
def test_rejects_malformed_signatures(sig: str) -> None:
    assert reason_of(provider(), request(body(sig=sig))) == "malformed_signature"


@pytest.mark.parametrize("timestamp", ["", "soon", "-5", "1.0", "9" * 30])
def test_rejects_garbage_timestamps(timestamp: str) -> None:
    assert reason_of(provider(), request(body(timestamp=timestamp))) == "invalid_timestamp"


def at(offset: int) -> Any:
    return request(body(timestamp=str(int(NOW) + offset)))


EIGHT_HOURS = 8 * 3600


def test_accepts_a_mailgun_retry_signed_up_to_eight_hours_ago() -> None:
    # Mailgun retries for 8 hours, reportedly with the first attempt's signature block.
    provider().verify(at(-EIGHT_HOURS), NOW)
    provider().verify(at(-(5 + 10 + 15 + 60 + 120 + 240) * 60), NOW)


def test_rejects_mailgun_signature_older_than_eight_hours_by_default() -> None:
    assert reason_of(provider(), at(-EIGHT_HOURS - 1)) == "timestamp_too_old"
    assert reason_of(provider(), at(-86_400 * 365)) == "timestamp_too_old"


def test_rejects_mailgun_timestamp_more_than_eight_hours_ahead_by_default() -> None:
    provider().verify(at(EIGHT_HOURS), NOW)
    assert reason_of(provider(), at(EIGHT_HOURS + 1)) == "timestamp_in_future"


def test_tolerance_option_sets_the_window() -> None:
    provider(tolerance=300).verify(at(-300), NOW)
    assert reason_of(provider(tolerance=300), at(-301)) == "timestamp_too_old"
    assert reason_of(provider(tolerance=300), at(301)) == "timestamp_in_future"


def test_integer_timestamp_is_checked_too() -> None:
    assert reason_of(provider(), request(body(timestamp=int(NOW) - EIGHT_HOURS - 1))) == (
        "timestamp_too_old"
    )


def test_error_does_not_leak_key_or_expected_signature() -> None:
    expected = signature(str(int(NOW)), TOKEN)
    tampered = body(sig="0" * 64)
    p = provider()
    with pytest.raises(VerificationError) as info:
        p.verify(request(tampered), NOW)
    assert KEY not in str(info.value)
    assert expected not in str(info.value)
    assert KEY not in repr(p)


def test_event_type_and_id() -> None:
    parsed = json.loads(body())
    p = provider()
    assert p.event_type(request(), parsed) == "delivered"
    assert p.event_id(request(), parsed) == TOKEN
    unusable: list[Any] = [None, [], {"event-data": "x"}, {"signature": {"token": 7.5}}]
    for other in unusable:
        assert p.event_type(request(), other) is None
        assert p.event_id(request(), other) is None


@pytest.mark.parametrize(
    ("secrets", "options", "key"),
    [
        ([], {}, "secrets"),
        ([KEY], {"tolerance": 0}, "tolerance"),
        ([KEY], {"tolerance": None}, "tolerance"),
        ([KEY], {"x": 1}, "x"),
    ],
)
def test_rejects_bad_config(secrets: list[str], options: dict[str, Any], key: str) -> None:
    assert config_key(build, secrets, options) == key


def test_spec() -> None:
    assert SPEC.name == "mailgun"
    assert provider().handshake(request(body()), NOW) is None
