"""Private keys for the public-key signers (Ed25519, Discord, SendGrid, PayPal).

Each loader takes the key as the provider's signer does (``secret``) and raises ``ValueError``
naming what was expected, never the secret.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from typing import Final

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from relay.providers._asymmetric import MIN_RSA_BITS

__all__ = [
    "ED25519_SEED",
    "P256_KEY",
    "RSA_KEY",
    "ed25519_private_key",
    "p256_private_key",
    "rsa_private_key",
]

#: What each kind of signer takes as ``secret``.
ED25519_SEED: Final = "an Ed25519 private key (the 32-byte seed as 64 hex digits, or PEM PKCS#8)"
P256_KEY: Final = "an ECDSA P-256 private key (PEM, or base64 DER)"
RSA_KEY: Final = "an RSA private key of at least 2048 bits (PEM, or base64 DER)"

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


def _unusable(provider: str, expected: str) -> ValueError:
    """An error naming what was expected, never the secret."""
    return ValueError(f"signer {provider!r}: the secret is not {expected}")


def ed25519_private_key(provider: str, secret: str) -> Ed25519PrivateKey:
    key = _load(secret, _ed25519)
    if not isinstance(key, Ed25519PrivateKey):
        raise _unusable(provider, ED25519_SEED)
    return key


def p256_private_key(provider: str, secret: str) -> ec.EllipticCurvePrivateKey:
    key = _load(secret, _der_or_pem)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise _unusable(provider, P256_KEY)
    if key.curve.name != "secp256r1":
        raise _unusable(provider, "a P-256 key")
    return key


def rsa_private_key(provider: str, secret: str) -> rsa.RSAPrivateKey:
    key = _load(secret, _der_or_pem)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise _unusable(provider, RSA_KEY)
    if key.key_size < MIN_RSA_BITS:
        raise _unusable(provider, f"an RSA key of at least {MIN_RSA_BITS} bits")
    return key
