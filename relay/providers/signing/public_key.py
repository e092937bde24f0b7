"""Signers for the public-key schemes: Ed25519 (generic and Discord), SendGrid, PayPal.

Here ``secret`` is the PRIVATE key the provider signs with (relay's source holds the public
one):

* ``ed25519`` / ``discord``: the 32-byte Ed25519 seed as 64 hex digits (or base64), or a PEM
  PKCS#8 private key;
* ``sendgrid``: an ECDSA P-256 private key, PEM or base64 DER (PKCS#8 or SEC1);
* ``paypal``: an RSA private key (>= 2048 bits), PEM or base64 DER.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Final

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from relay.providers import paypal
from relay.providers._asymmetric import MIN_RSA_BITS
from relay.providers._hmac import ENCODINGS
from relay.providers.signing._base import (
    Options,
    SignedRequest,
    Signer,
    derived_id,
    headers_only,
)

__all__ = [
    "SECRETS",
    "SIGNERS",
    "ed25519_private_key",
    "p256_private_key",
    "rsa_private_key",
]

_HEX64: Final = re.compile(r"[0-9a-fA-F]{64}")


def _der_or_pem(text: str) -> object:
    if text.startswith("-----BEGIN"):
        return serialization.load_pem_private_key(text.encode("ascii"), password=None)
    der = base64.b64decode(text.encode("ascii"), validate=True)
    return serialization.load_der_private_key(der, password=None)


def _ed25519(text: str) -> object:
    if text.startswith("-----BEGIN"):
        return _der_or_pem(text)
    seed = bytes.fromhex(text) if _HEX64.fullmatch(text) else base64.b64decode(text, validate=True)
    return Ed25519PrivateKey.from_private_bytes(seed)


def _load(secret: str, parse: Callable[[str], object]) -> object:
    try:
        return parse(secret.strip())
    except (ValueError, TypeError, UnsupportedAlgorithm, binascii.Error):
        return None


def _unusable(provider: str, why: str = "") -> ValueError:
    """An error naming what was expected, never the secret."""
    return ValueError(f"signer {provider!r}: the secret is not {why or SECRETS[provider]}")


def ed25519_private_key(provider: str, secret: str) -> Ed25519PrivateKey:
    key = _load(secret, _ed25519)
    if not isinstance(key, Ed25519PrivateKey):
        raise _unusable(provider)
    return key


def p256_private_key(provider: str, secret: str) -> ec.EllipticCurvePrivateKey:
    key = _load(secret, _der_or_pem)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise _unusable(provider)
    if key.curve.name != "secp256r1":
        raise _unusable(provider, "a P-256 key")
    return key


def rsa_private_key(provider: str, secret: str) -> rsa.RSAPrivateKey:
    key = _load(secret, _der_or_pem)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise _unusable(provider)
    if key.key_size < MIN_RSA_BITS:
        raise _unusable(provider, f"an RSA key of at least {MIN_RSA_BITS} bits")
    return key


def _ed25519_signer(secret: str, body: bytes, now: float, opts: Mapping[str, Any]) -> SignedRequest:
    """The source's options: ``header`` (required), ``encoding``, ``timestamp_header``."""
    options = Options("ed25519", opts, ("header", "encoding", "timestamp_header"))
    header = options.text("header").lower()
    encoding = options.choice("encoding", ENCODINGS, "hex")
    key = ed25519_private_key("ed25519", secret)
    headers: dict[str, str] = {}
    message = body
    timestamp_header = options.optional("timestamp_header")
    if timestamp_header is not None:
        headers[timestamp_header.lower()] = str(int(now))
        message = str(int(now)).encode("ascii") + body
    signature = key.sign(message)
    headers[header] = (
        signature.hex() if encoding == "hex" else base64.b64encode(signature).decode("ascii")
    )
    return headers_only(body, headers)


def _discord(secret: str, body: bytes, now: float, opts: Mapping[str, Any]) -> SignedRequest:
    Options("discord", opts, ())
    key = ed25519_private_key("discord", secret)
    timestamp = str(int(now))
    return headers_only(
        body,
        {
            "x-signature-ed25519": key.sign(timestamp.encode("ascii") + body).hex(),
            "x-signature-timestamp": timestamp,
        },
    )


def _sendgrid(secret: str, body: bytes, now: float, opts: Mapping[str, Any]) -> SignedRequest:
    Options("sendgrid", opts, ())
    key = p256_private_key("sendgrid", secret)
    timestamp = str(int(now))
    signature = key.sign(timestamp.encode("ascii") + body, ec.ECDSA(hashes.SHA256()))
    return headers_only(
        body,
        {
            "x-twilio-email-event-webhook-signature": base64.b64encode(signature).decode("ascii"),
            "x-twilio-email-event-webhook-timestamp": timestamp,
        },
    )


def _paypal(secret: str, body: bytes, now: float, opts: Mapping[str, Any]) -> SignedRequest:
    """Options: ``webhook_id`` (required, the source's), ``transmission_id``."""
    options = Options("paypal", opts, ("webhook_id", "transmission_id"))
    webhook_id = options.text("webhook_id")
    transmission_id = options.text("transmission_id", derived_id("", body, now, 32))
    key = rsa_private_key("paypal", secret)
    moment = datetime.fromtimestamp(int(now), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    message = paypal.signed_string(
        transmission_id.encode("utf-8"),
        moment.encode("ascii"),
        webhook_id.encode("utf-8"),
        body,
    )
    signature = key.sign(message, padding.PKCS1v15(), hashes.SHA256())
    return headers_only(
        body,
        {
            "paypal-transmission-id": transmission_id,
            "paypal-transmission-time": moment,
            "paypal-transmission-sig": base64.b64encode(signature).decode("ascii"),
            "paypal-auth-algo": paypal.ALGORITHM,
        },
    )


SIGNERS: Final[Mapping[str, Signer]] = {
    "ed25519": _ed25519_signer,
    "discord": _discord,
    "sendgrid": _sendgrid,
    "paypal": _paypal,
}

_SEED: Final = "an Ed25519 private key (the 32-byte seed as 64 hex digits, or PEM PKCS#8)"

SECRETS: Final[Mapping[str, str]] = {
    "ed25519": _SEED,
    "discord": _SEED,
    "sendgrid": "an ECDSA P-256 private key (PEM, or base64 DER)",
    "paypal": "an RSA private key of at least 2048 bits (PEM, or base64 DER)",
}
