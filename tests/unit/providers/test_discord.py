from __future__ import annotations

import json
from typing import Any

import pytest
from nacl.signing import SigningKey

from relay.providers.discord import SPEC, DiscordProvider, build
from tests.unit.providers._kit import (
    NOW,
    config_key,
    handshake_reason,
    reason_of,
    request,
)

KEY = SigningKey(bytes.fromhex("5a" * 32))
OTHER = SigningKey(bytes.fromhex("a5" * 32))
PUBLIC = bytes(KEY.verify_key).hex()
TIMESTAMP = str(int(NOW))
COMMAND = json.dumps({"id": "1234", "type": 2, "data": {"name": "ping"}}).encode()


def signed(body: bytes, key: SigningKey = KEY, timestamp: str = TIMESTAMP) -> Any:
    signature = key.sign(timestamp.encode() + body).signature.hex()
    return request(body, {"X-Signature-Ed25519": signature, "X-Signature-Timestamp": timestamp})


def provider(*keys: str, **options: Any) -> DiscordProvider:
    return build(list(keys or (PUBLIC,)), options)


def test_accepts_an_interaction_signed_with_pynacl() -> None:
    provider().verify(signed(COMMAND), NOW)


def test_rejects_one_byte_tamper_wrong_key_and_accepts_rotation() -> None:
    req = signed(COMMAND)
    tampered = request(COMMAND.replace(b"1234", b"1235"), req.headers)
    assert reason_of(provider(), tampered) == "signature_mismatch"
    assert reason_of(provider(bytes(OTHER.verify_key).hex()), req) == "signature_mismatch"
    provider(bytes(OTHER.verify_key).hex(), PUBLIC).verify(req, NOW)


def test_timestamp_is_signed() -> None:
    req = signed(COMMAND)
    moved = request(COMMAND, {**req.headers, "x-signature-timestamp": "1700000001"})
    assert reason_of(provider(), moved) == "signature_mismatch"


def test_rejects_missing_and_malformed_headers() -> None:
    req = signed(COMMAND)
    no_sig = request(COMMAND, {"X-Signature-Timestamp": TIMESTAMP})
    assert reason_of(provider(), no_sig) == "missing_signature"
    no_time = request(COMMAND, {"X-Signature-Ed25519": req.headers["x-signature-ed25519"]})
    assert reason_of(provider(), no_time) == "missing_timestamp"
    bad = request(COMMAND, {**req.headers, "x-signature-ed25519": "nothex"})
    assert reason_of(provider(), bad) == "malformed_signature"


def test_interaction_ping_is_answered_only_when_signed() -> None:
    ping = json.dumps({"type": 1, "id": "p", "application_id": "a"}).encode()
    reply = provider().handshake(signed(ping), NOW)
    assert reply is not None
    assert (reply.status_code, reply.media_type) == (200, "application/json")
    assert json.loads(reply.body) == {"type": 1}
    # Discord sends deliberately invalid signatures: they must be refused (401), not answered.
    assert handshake_reason(provider(), signed(ping, OTHER)) == "signature_mismatch"
    unsigned = request(ping, {"X-Signature-Timestamp": TIMESTAMP})
    assert handshake_reason(provider(), unsigned) == "missing_signature"


def test_webhook_event_ping_gets_204() -> None:
    ping = json.dumps({"version": 1, "application_id": "a", "type": 0}).encode()
    reply = provider().handshake(signed(ping), NOW)
    assert reply is not None
    assert (reply.status_code, reply.body) == (204, b"")
    assert handshake_reason(provider(), signed(ping, OTHER)) == "signature_mismatch"


@pytest.mark.parametrize(
    "body",
    [
        COMMAND,
        b"not json",
        b"\xff",
        b'{"type": true}',
        b'{"type": "1"}',
        b'{"type": 1, "event": {"type": "APPLICATION_AUTHORIZED"}}',
        b"[1]",
    ],
)
def test_other_bodies_are_not_handshakes(body: bytes) -> None:
    assert provider().handshake(signed(body, OTHER), NOW) is None


def test_get_is_never_a_handshake() -> None:
    ping = signed(b'{"type": 1}')
    get = request(ping.body, ping.headers, method="GET")
    assert provider().handshake(get, NOW) is None


@pytest.mark.parametrize(
    ("body", "event_type"),
    [
        ({"type": 1}, "ping"),
        ({"type": 2}, "application_command"),
        ({"type": 3}, "message_component"),
        ({"type": 4}, "application_command_autocomplete"),
        ({"type": 5}, "modal_submit"),
        ({"type": 9}, "9"),
        ({"type": 0}, "ping"),
        ({"type": 1, "event": {"type": "ENTITLEMENT_CREATE"}}, "ENTITLEMENT_CREATE"),
        ({"type": True}, None),
        ({"type": "2"}, None),
        (None, None),
        ([], None),
    ],
)
def test_event_type(body: Any, event_type: str | None) -> None:
    assert provider().event_type(request(), body) == event_type


def test_event_id() -> None:
    assert provider().event_id(request(), {"id": "1234"}) == "1234"
    assert provider().event_id(request(), {"type": 1}) is None
    assert provider().event_id(request(), "x") is None


def at(offset: int) -> Any:
    return signed(COMMAND, timestamp=str(int(NOW) + offset))


def test_rejects_discord_request_older_than_five_minutes_by_default() -> None:
    provider().verify(at(-300), NOW)
    assert reason_of(provider(), at(-301)) == "timestamp_too_old"
    assert reason_of(provider(), at(-86_400 * 365)) == "timestamp_too_old"


def test_rejects_discord_request_more_than_five_minutes_ahead_by_default() -> None:
    provider().verify(at(300), NOW)
    assert reason_of(provider(), at(301)) == "timestamp_in_future"


def test_replay_window_is_checked_before_a_ping_is_answered() -> None:
    ping = b'{"type": 1}'
    stale = signed(ping, timestamp=str(int(NOW) - 301))
    assert handshake_reason(provider(), stale) == "timestamp_too_old"


@pytest.mark.parametrize("timestamp", ["", "hello", "nan", "1e30", "-1", "1.5", "9" * 40])
def test_rejects_unparseable_timestamps_even_when_signed(timestamp: str) -> None:
    assert reason_of(provider(), signed(COMMAND, timestamp=timestamp)) == "invalid_timestamp"


def test_tolerance_option_widens_or_narrows_the_window() -> None:
    provider(tolerance=600).verify(at(-600), NOW)
    assert reason_of(provider(tolerance=600), at(-601)) == "timestamp_too_old"
    assert reason_of(provider(tolerance=60), at(61)) == "timestamp_in_future"


@pytest.mark.parametrize(
    ("secrets", "options", "key"),
    [
        ([], {}, "secrets"),
        (["nothex"], {}, "secrets"),
        ([PUBLIC], {"header": "x"}, "header"),
        ([PUBLIC], {"tolerance": 0}, "tolerance"),
        ([PUBLIC], {"tolerance": None}, "tolerance"),
        ([PUBLIC], {"tolerance": "300"}, "tolerance"),
    ],
)
def test_rejects_bad_config(secrets: list[str], options: dict[str, Any], key: str) -> None:
    assert config_key(build, secrets, options) == key


def test_spec() -> None:
    assert SPEC.name == "discord"
    assert not SPEC.allows_get
    assert provider().name == "discord"
