from __future__ import annotations

import base64
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sendgrid.helpers.eventwebhook import EventWebhook

from relay.providers.sendgrid import SPEC, SendGridProvider, build
from tests.unit.providers._kit import NOW, config_key, reason_of, request

# The vector every official SendGrid SDK tests its Event Webhook verifier with.
SDK_PUBLIC_KEY = (
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEEDr2LjtURuePQzplybdC+u4CwrqDqBaWjcMMsTbhdbcwHBcepxo7"
    "yAQGhHPTnlvFYPAZFceEu/1FwCM/QmGUhA=="
)
SDK_SIGNATURE = (
    "MEUCIQCtIHJeH93Y+qpYeWrySphQgpNGNr/U+UyUlBkU6n7RAwIgJTz2C+8a8xonZGi6BpSzoQsbVRamr2nlxFDWYNH2"
    "j/0="
)
SDK_TIMESTAMP = "1588788367"
SDK_PAYLOAD = b'{"category":"example_payload","event":"test_event","message_id":"message_id"}'
SIG = "X-Twilio-Email-Event-Webhook-Signature"
TS = "X-Twilio-Email-Event-Webhook-Timestamp"

PRIVATE = ec.generate_private_key(ec.SECP256R1())
OTHER = ec.generate_private_key(ec.SECP256R1())


def spki(key: ec.EllipticCurvePrivateKey) -> str:
    der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(der).decode()


def sign(key: ec.EllipticCurvePrivateKey, timestamp: str, body: bytes) -> str:
    signature = key.sign(timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))
    return base64.b64encode(signature).decode()


def headers(signature: str, timestamp: str = str(int(NOW))) -> dict[str, str]:
    return {SIG: signature, TS: timestamp}


def provider(*keys: str, **options: Any) -> SendGridProvider:
    return build(list(keys or (spki(PRIVATE),)), options)


BODY = b'[{"email":"a@example.com","event":"delivered","sg_event_id":"e1"}]'


SDK_NOW = float(SDK_TIMESTAMP) + 1.0  # the vector verified as it arrives


def test_accepts_the_sendgrid_sdk_vector() -> None:
    req = request(SDK_PAYLOAD, headers(SDK_SIGNATURE, SDK_TIMESTAMP))
    provider(SDK_PUBLIC_KEY).verify(req, SDK_NOW)


def test_sdk_vector_with_one_byte_changed_is_refused() -> None:
    tampered = SDK_PAYLOAD.replace(b"test_event", b"test_evenT")
    req = request(tampered, headers(SDK_SIGNATURE, SDK_TIMESTAMP))
    assert reason_of(provider(SDK_PUBLIC_KEY), req, SDK_NOW) == "signature_mismatch"
    other_time = request(SDK_PAYLOAD, headers(SDK_SIGNATURE, "1588788368"))
    assert reason_of(provider(SDK_PUBLIC_KEY), other_time, SDK_NOW) == "signature_mismatch"


def test_sdk_vector_replayed_years_later_is_refused() -> None:
    req = request(SDK_PAYLOAD, headers(SDK_SIGNATURE, SDK_TIMESTAMP))
    assert reason_of(provider(SDK_PUBLIC_KEY), req, NOW) == "timestamp_too_old"


def test_signatures_relay_accepts_are_accepted_by_the_sdk() -> None:
    timestamp = str(int(NOW))
    signature = sign(PRIVATE, timestamp, BODY)
    provider().verify(request(BODY, headers(signature)), NOW)
    sdk = EventWebhook()
    key = sdk.convert_public_key_to_ecdsa(spki(PRIVATE))
    assert sdk.verify_signature(BODY.decode(), signature, timestamp, key)


def test_rejects_tampered_body_and_wrong_key() -> None:
    signature = sign(PRIVATE, str(int(NOW)), BODY)
    assert reason_of(provider(), request(BODY + b" ", headers(signature))) == ("signature_mismatch")
    assert reason_of(provider(spki(OTHER)), request(BODY, headers(signature))) == (
        "signature_mismatch"
    )


def test_accepts_any_key_during_rotation() -> None:
    signature = sign(OTHER, str(int(NOW)), BODY)
    provider(spki(PRIVATE), spki(OTHER)).verify(request(BODY, headers(signature)), NOW)


def test_rejects_missing_headers() -> None:
    signature = sign(PRIVATE, str(int(NOW)), BODY)
    assert reason_of(provider(), request(BODY, {TS: "1"})) == "missing_signature"
    assert reason_of(provider(), request(BODY, {SIG: signature})) == "missing_timestamp"


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("", "malformed_signature"),
        ("%%%", "malformed_signature"),
        ("é" * 8, "malformed_signature"),
        (base64.b64encode(b"\x30" * 200).decode(), "malformed_signature"),  # too long for DER
        ("YWJj", "signature_mismatch"),  # base64, but not a DER signature
    ],
)
def test_rejects_malformed_signatures(value: str, reason: str) -> None:
    assert reason_of(provider(), request(BODY, headers(value))) == reason


@pytest.mark.parametrize("timestamp", ["", "abc", "-1", "1.5", "1e9", "٣٣", "9" * 40])
def test_rejects_garbage_timestamps(timestamp: str) -> None:
    signature = sign(PRIVATE, timestamp, BODY)
    assert reason_of(provider(), request(BODY, headers(signature, timestamp))) == (
        "invalid_timestamp"
    )


def at(offset: int) -> Any:
    timestamp = str(int(NOW) + offset)
    return request(BODY, headers(sign(PRIVATE, timestamp, BODY), timestamp))


def test_rejects_sendgrid_batch_older_than_five_minutes_by_default() -> None:
    provider().verify(at(-300), NOW)
    assert reason_of(provider(), at(-301)) == "timestamp_too_old"
    assert reason_of(provider(), at(-86_400 * 365)) == "timestamp_too_old"


def test_rejects_sendgrid_batch_more_than_five_minutes_ahead_by_default() -> None:
    provider().verify(at(300), NOW)
    assert reason_of(provider(), at(301)) == "timestamp_in_future"


def test_tolerance_option_sets_the_window() -> None:
    provider(tolerance=3600).verify(at(-3600), NOW)
    assert reason_of(provider(tolerance=3600), at(-3601)) == "timestamp_too_old"
    assert reason_of(provider(tolerance=60), at(61)) == "timestamp_in_future"


def test_event_type_is_batch_and_no_id() -> None:
    p = provider()
    assert p.event_type(request(BODY), [{"event": "delivered"}]) == "batch"
    assert p.event_id(request(BODY), [{"sg_event_id": "e1"}]) is None


def test_accepts_pem_keys() -> None:
    pem = PRIVATE.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    signature = sign(PRIVATE, str(int(NOW)), BODY)
    provider(pem.decode()).verify(request(BODY, headers(signature)), NOW)


@pytest.mark.parametrize(
    ("secrets", "options", "key"),
    [
        ([], {}, "secrets"),
        (["not base64!"], {}, "secrets"),
        ([base64.b64encode(b"garbage").decode()], {}, "secrets"),
        ([spki(ec.generate_private_key(ec.SECP384R1()))], {}, "secrets"),
        ([SDK_PUBLIC_KEY], {"tolerance": -1}, "tolerance"),
        ([SDK_PUBLIC_KEY], {"tolerance": None}, "tolerance"),
        ([SDK_PUBLIC_KEY], {"public_url": "x"}, "public_url"),
    ],
)
def test_rejects_bad_config(secrets: list[str], options: dict[str, Any], key: str) -> None:
    assert config_key(build, secrets, options) == key


def test_spec() -> None:
    assert SPEC.name == "sendgrid"
    assert provider().handshake(request(BODY), NOW) is None
