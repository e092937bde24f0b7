from __future__ import annotations

import base64
import datetime as dt
import json
import zlib
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID

from relay.providers.paypal import SPEC, PayPalProvider, build, signed_string
from tests.unit.providers._kit import NOW, config_key, reason_of, request

WEBHOOK_ID = "4JH86294D6297924G"
TRANSMISSION_ID = "69cd13f0-d67a-11e5-baa3-778b53f4ae55"
TIME = "2023-11-14T22:13:20Z"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def body_with_high_crc() -> bytes:
    """A body whose CRC-32 is >= 2**31: the signed decimal must be the unsigned value."""
    for n in range(1000):
        candidate = json.dumps(
            {"id": "WH-1", "event_type": "PAYMENT.SALE.COMPLETED", "n": n}
        ).encode()
        if zlib.crc32(candidate) >= 2**31:
            return candidate
    raise AssertionError("no such body")


BODY = body_with_high_crc()


def public_pem(key: rsa.RSAPrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def certificate_pem(key: rsa.RSAPrivateKey) -> str:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "messageverificationcerts")])
    start = dt.datetime(2023, 1, 1, tzinfo=dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=3650))
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def headers(
    body: bytes = BODY,
    key: rsa.RSAPrivateKey = KEY,
    *,
    time: str = TIME,
    webhook_id: str = WEBHOOK_ID,
    algorithm: str = "SHA256withRSA",
) -> dict[str, str]:
    message = f"{TRANSMISSION_ID}|{time}|{webhook_id}|{zlib.crc32(body)}".encode()
    signature = key.sign(message, padding.PKCS1v15(), hashes.SHA256())
    return {
        "PAYPAL-TRANSMISSION-ID": TRANSMISSION_ID,
        "PAYPAL-TRANSMISSION-TIME": time,
        "PAYPAL-TRANSMISSION-SIG": base64.b64encode(signature).decode(),
        "PAYPAL-AUTH-ALGO": algorithm,
        "PAYPAL-CERT-URL": "https://api.paypal.com/v1/notifications/certs/CERT-360caa42",
    }


def provider(*secrets: str, **options: Any) -> PayPalProvider:
    options.setdefault("webhook_id", WEBHOOK_ID)
    return build(list(secrets or (public_pem(KEY),)), options)


def test_signed_string_uses_unsigned_crc32() -> None:
    crc = zlib.crc32(BODY)
    assert crc >= 2**31
    assert signed_string(b"i", b"t", b"w", BODY) == f"i|t|w|{crc}".encode()


def test_accepts_public_keys_and_certificates() -> None:
    provider().verify(request(BODY, headers()), NOW)
    provider(certificate_pem(KEY)).verify(request(BODY, headers()), NOW)


def test_rejects_tamper_wrong_key_and_other_webhook_id() -> None:
    tampered = BODY.replace(b"WH-1", b"WH-2")
    assert reason_of(provider(), request(tampered, headers())) == "signature_mismatch"
    assert reason_of(provider(public_pem(OTHER)), request(BODY, headers())) == (
        "signature_mismatch"
    )
    assert reason_of(provider(webhook_id="OTHER"), request(BODY, headers())) == (
        "signature_mismatch"
    )


def test_transmission_id_and_time_are_signed() -> None:
    moved = {**headers(), "PAYPAL-TRANSMISSION-ID": TRANSMISSION_ID[:-1] + "6"}
    assert reason_of(provider(), request(BODY, moved)) == "signature_mismatch"
    later = {**headers(), "PAYPAL-TRANSMISSION-TIME": "2023-11-14T22:13:21Z"}
    assert reason_of(provider(), request(BODY, later)) == "signature_mismatch"


def test_rotation() -> None:
    provider(public_pem(OTHER), certificate_pem(KEY)).verify(request(BODY, headers()), NOW)


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        ("PAYPAL-TRANSMISSION-SIG", "missing_signature"),
        ("PAYPAL-TRANSMISSION-ID", "missing_id"),
        ("PAYPAL-TRANSMISSION-TIME", "missing_timestamp"),
        ("PAYPAL-AUTH-ALGO", "missing_algorithm"),
    ],
)
def test_rejects_missing_headers(header: str, reason: str) -> None:
    sent = {k: v for k, v in headers().items() if k != header}
    assert reason_of(provider(), request(BODY, sent)) == reason


def test_cert_url_is_not_needed() -> None:
    sent = {k: v for k, v in headers().items() if k != "PAYPAL-CERT-URL"}
    provider().verify(request(BODY, sent), NOW)


@pytest.mark.parametrize("algorithm", ["SHA1withRSA", "sha256withrsa", "SHA256withECDSA", ""])
def test_rejects_other_algorithms(algorithm: str) -> None:
    sent = headers(algorithm=algorithm)
    assert reason_of(provider(), request(BODY, sent)) == "unsupported_algorithm"


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("", "malformed_signature"),
        ("!!!", "malformed_signature"),
        (base64.b64encode(b"x" * 2000).decode(), "malformed_signature"),
        ("YWJj", "signature_mismatch"),
    ],
)
def test_rejects_malformed_signatures(value: str, reason: str) -> None:
    sent = {**headers(), "PAYPAL-TRANSMISSION-SIG": value}
    assert reason_of(provider(), request(BODY, sent)) == reason


@pytest.mark.parametrize("time", ["", "yesterday", "1700000000", "2023-13-01T00:00:00Z"])
def test_rejects_garbage_times(time: str) -> None:
    assert reason_of(provider(), request(BODY, headers(time=time))) == "invalid_timestamp"


def sent_at(offset: int) -> dict[str, str]:
    moment = dt.datetime.fromtimestamp(NOW + offset, dt.UTC)
    return headers(time=moment.strftime("%Y-%m-%dT%H:%M:%SZ"))


def test_rejects_paypal_transmission_older_than_five_minutes_by_default() -> None:
    provider().verify(request(BODY, sent_at(-300)), NOW)
    assert reason_of(provider(), request(BODY, sent_at(-301))) == "timestamp_too_old"
    old = headers(time="2020-01-01T00:00:00Z")
    assert reason_of(provider(), request(BODY, old)) == "timestamp_too_old"


def test_rejects_paypal_transmission_more_than_five_minutes_ahead_by_default() -> None:
    provider().verify(request(BODY, sent_at(300)), NOW)
    assert reason_of(provider(), request(BODY, sent_at(301))) == "timestamp_in_future"


def test_tolerance_option_sets_the_window() -> None:
    old = headers(time="2023-11-14T21:30:00Z")  # 43 min 20 s before NOW
    assert reason_of(provider(), request(BODY, old)) == "timestamp_too_old"
    provider(tolerance=3600).verify(request(BODY, old), NOW)
    future = headers(time="2030-01-01T00:00:00Z")
    assert reason_of(provider(tolerance=3600), request(BODY, future)) == "timestamp_in_future"


def test_event_type_and_id() -> None:
    req = request(BODY, headers())
    assert provider().event_type(req, json.loads(BODY)) == "PAYMENT.SALE.COMPLETED"
    assert provider().event_id(req, json.loads(BODY)) == "WH-1"
    assert provider().event_id(req, None) == TRANSMISSION_ID
    assert provider().event_id(request(BODY), {}) is None
    assert provider().event_type(req, []) is None


def small_rsa_pem() -> str:
    return public_pem(rsa.generate_private_key(public_exponent=65537, key_size=1024))  # noqa: S505


def ec_pem() -> str:
    return (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


@pytest.mark.parametrize(
    ("secrets", "options", "key"),
    [
        ([public_pem(KEY)], {}, "webhook_id"),
        ([], {"webhook_id": WEBHOOK_ID}, "secrets"),
        (["not pem"], {"webhook_id": WEBHOOK_ID}, "secrets"),
        ([small_rsa_pem()], {"webhook_id": WEBHOOK_ID}, "secrets"),
        ([ec_pem()], {"webhook_id": WEBHOOK_ID}, "secrets"),
        ([public_pem(KEY)], {"webhook_id": WEBHOOK_ID, "cert_url": "x"}, "cert_url"),
    ],
)
def test_rejects_bad_config(secrets: list[str], options: dict[str, Any], key: str) -> None:
    assert config_key(build, secrets, options) == key


def test_spec() -> None:
    assert SPEC.name == "paypal"
    assert provider().handshake(request(BODY, headers()), NOW) is None
    assert WEBHOOK_ID not in repr(provider())
