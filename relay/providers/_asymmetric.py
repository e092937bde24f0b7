"""Public-key helpers (Ed25519, ECDSA P-256, RSA) on top of the ``cryptography`` package,
imported when a key is loaded or a signature checked, not with the module: listing the
providers, or reading a config that uses none of these, does not load it.

Loaders turn the configured ``secrets`` (public keys, not secret at all) into key objects and
raise ``ConfigError(key="secrets")`` naming the bad entry by position. ``any_verifies`` never
raises: a malformed signature is simply one that does not verify.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Final, TypeVar

from relay.providers._hmac import secret_list
from relay.providers.base import ConfigError

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

__all__ = [
    "ED25519_SIGNATURE_SIZE",
    "any_verifies",
    "ecdsa_p256_keys",
    "ed25519_keys",
    "rsa_keys",
]

K = TypeVar("K")

ED25519_SIGNATURE_SIZE: Final = 64
MIN_RSA_BITS: Final = 2048
_HEX64: Final = re.compile(r"[0-9a-fA-F]{64}")


def _load_each(secrets: Sequence[str], load: Callable[[str], K], what: str) -> tuple[K, ...]:
    from cryptography.exceptions import UnsupportedAlgorithm

    keys: list[K] = []
    for index, secret in enumerate(secret_list(secrets), start=1):
        try:
            keys.append(load(secret.strip()))
        except (ValueError, TypeError, UnsupportedAlgorithm, binascii.Error):
            raise ConfigError(f"secret #{index} is not {what}", key="secrets") from None
    return tuple(keys)


def _ed25519(text: str) -> Ed25519PublicKey:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    if _HEX64.fullmatch(text):
        raw = bytes.fromhex(text)
    else:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    if len(raw) != 32:
        raise ValueError("an Ed25519 public key is 32 bytes")
    return Ed25519PublicKey.from_public_bytes(raw)


def ed25519_keys(secrets: Sequence[str]) -> tuple[Ed25519PublicKey, ...]:
    """Ed25519 public keys given as 64 hex digits or base64 of the 32 raw bytes."""
    return _load_each(secrets, _ed25519, "an Ed25519 public key (32 bytes, hex or base64)")


def _ecdsa_p256(text: str) -> ec.EllipticCurvePublicKey:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    if text.startswith("-----BEGIN"):
        key = serialization.load_pem_public_key(text.encode("ascii"))
    else:
        der = base64.b64decode(text.encode("ascii"), validate=True)
        key = serialization.load_der_public_key(der)
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
        raise ValueError("not a P-256 key")
    return key


def ecdsa_p256_keys(secrets: Sequence[str]) -> tuple[ec.EllipticCurvePublicKey, ...]:
    """ECDSA P-256 public keys: base64 of the DER SubjectPublicKeyInfo, or PEM."""
    return _load_each(secrets, _ecdsa_p256, "a base64 (or PEM) P-256 public key")


def _rsa(text: str) -> rsa.RSAPublicKey:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    data = text.encode("ascii")
    key: object
    if text.startswith("-----BEGIN CERTIFICATE-----"):
        key = x509.load_pem_x509_certificate(data).public_key()
    else:
        key = serialization.load_pem_public_key(data)
    if not isinstance(key, rsa.RSAPublicKey) or key.key_size < MIN_RSA_BITS:
        raise ValueError(f"not an RSA key of at least {MIN_RSA_BITS} bits")
    return key


def rsa_keys(secrets: Sequence[str]) -> tuple[rsa.RSAPublicKey, ...]:
    """RSA public keys (>= 2048 bits) as PEM public keys or PEM X.509 certificates."""
    return _load_each(
        secrets, _rsa, f"a PEM RSA public key or certificate (>= {MIN_RSA_BITS} bits)"
    )


def any_verifies(keys: Iterable[K], attempt: Callable[[K], None]) -> bool:
    """True when ``attempt(key)`` (a ``verify`` call) succeeds for any key."""
    from cryptography.exceptions import InvalidSignature

    for key in keys:
        try:
            attempt(key)
        except (InvalidSignature, ValueError, TypeError):
            continue
        return True
    return False
