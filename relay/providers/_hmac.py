"""Shared helpers for HMAC-based providers: digests, signature decoding, timestamps, options.

Everything here works on bytes or already-decoded header strings and raises only
``VerificationError`` (per request) or ``ConfigError`` (at build time). Messages never carry
secret material or expected signatures.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import math
import re
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from typing import Any, Final, Literal

from relay.providers.base import ConfigError, UnknownOption, VerificationError

__all__ = [
    "ALGORITHMS",
    "ENCODINGS",
    "Algorithm",
    "Encoding",
    "check_tolerance",
    "compute",
    "decode_signature",
    "digest_size",
    "encode",
    "matches_any",
    "option_choice",
    "option_optional_str",
    "option_positive_number",
    "option_str",
    "parse_timestamp",
    "reject_unknown_options",
    "secret_list",
    "utf8_keys",
]

Algorithm = Literal["sha1", "sha256", "sha512"]
Encoding = Literal["hex", "base64"]

ALGORITHMS: Final[Mapping[str, Callable[[], Any]]] = {
    "sha1": hashlib.sha1,
    "sha256": hashlib.sha256,
    "sha512": hashlib.sha512,
}
ENCODINGS: Final[tuple[Encoding, ...]] = ("hex", "base64")

_HEX_RE: Final = re.compile(r"[0-9a-fA-F]+")
_B64_RE: Final = re.compile(r"[A-Za-z0-9+/]+={0,2}")
#: 12 digits reach the year 33658; longer values are refused before any float arithmetic.
_MAX_TIMESTAMP_DIGITS: Final = 12


# --------------------------------------------------------------------------- digests


def compute(key: bytes, message: bytes, algorithm: Algorithm = "sha256") -> bytes:
    """The raw HMAC digest of ``message`` under ``key``."""
    return hmac.new(key, message, ALGORITHMS[algorithm]).digest()


def digest_size(algorithm: Algorithm) -> int:
    size: int = ALGORITHMS[algorithm]().digest_size
    return size


def encode(digest: bytes, encoding: Encoding) -> str:
    """Encode a digest as lower-case hex or standard padded base64."""
    if encoding == "hex":
        return digest.hex()
    return base64.b64encode(digest).decode("ascii")


def decode_signature(value: str, encoding: Encoding, *, size: int | None = None) -> bytes:
    """Decode a signature string strictly; raise ``malformed_signature`` when it is not valid.

    Hex is case-insensitive. Base64 is the standard alphabet with padding. When ``size`` is
    given, a decoded length other than ``size`` is malformed too.
    """
    pattern = _HEX_RE if encoding == "hex" else _B64_RE
    # isascii() first: the regexes are ASCII-only, but be explicit about non-ASCII input.
    if not value.isascii() or pattern.fullmatch(value) is None:
        raise VerificationError("malformed_signature", f"signature is not valid {encoding}")
    try:
        raw = bytes.fromhex(value) if encoding == "hex" else base64.b64decode(value, validate=True)
    except (ValueError, binascii.Error):
        raise VerificationError(
            "malformed_signature", f"signature is not valid {encoding}"
        ) from None
    if size is not None and len(raw) != size:
        raise VerificationError("malformed_signature", "signature has the wrong length")
    return raw


def matches_any(
    keys: Iterable[bytes],
    message: bytes,
    candidates: Collection[bytes],
    algorithm: Algorithm = "sha256",
) -> bool:
    """True when any candidate equals the HMAC of ``message`` under any key.

    Every comparison uses ``hmac.compare_digest`` and all pairs are compared (no early exit),
    so timing does not reveal which key or candidate matched.
    """
    found = False
    for key in keys:
        expected = compute(key, message, algorithm)
        for candidate in candidates:
            found |= hmac.compare_digest(expected, candidate)
    return found


# --------------------------------------------------------------------------- timestamps


def parse_timestamp(value: str) -> int:
    """Parse a unix-seconds header strictly: ASCII digits only (no sign, space, dot, exponent)."""
    if (
        not value
        or not value.isascii()
        or not value.isdigit()
        or len(value) > _MAX_TIMESTAMP_DIGITS
    ):
        raise VerificationError("invalid_timestamp", "timestamp is not a unix time in seconds")
    return int(value)


def check_tolerance(timestamp: float, now: float, tolerance: float) -> None:
    """Refuse a timestamp more than ``tolerance`` seconds before or after ``now``."""
    if now - timestamp > tolerance:
        raise VerificationError(
            "timestamp_too_old", f"timestamp is outside the {tolerance:g} s tolerance"
        )
    if timestamp - now > tolerance:
        raise VerificationError(
            "timestamp_in_future", f"timestamp is more than {tolerance:g} s in the future"
        )


# --------------------------------------------------------------------------- build time


def _check_secret_list(secrets: Sequence[str]) -> None:
    if isinstance(secrets, str | bytes) or not isinstance(secrets, Sequence):
        raise ConfigError("secrets must be a list of strings", key="secrets")
    if not secrets:
        raise ConfigError("at least one secret is required", key="secrets")
    for index, secret in enumerate(secrets, start=1):
        if not isinstance(secret, str):
            raise ConfigError(f"secret #{index} is not a string", key="secrets")
        if not secret:
            raise ConfigError(f"secret #{index} is empty", key="secrets")


def utf8_keys(secrets: Sequence[str]) -> tuple[bytes, ...]:
    """Validate the secret list and return each secret's UTF-8 bytes as an HMAC key."""
    _check_secret_list(secrets)
    keys: list[bytes] = []
    for index, secret in enumerate(secrets, start=1):
        try:
            keys.append(secret.encode("utf-8"))
        except UnicodeEncodeError:
            raise ConfigError(f"secret #{index} is not valid text", key="secrets") from None
    return tuple(keys)


def secret_list(secrets: Sequence[str]) -> Sequence[str]:
    """Validate the secret list (non-empty list of non-empty strings) and return it."""
    _check_secret_list(secrets)
    return secrets


def reject_unknown_options(options: Mapping[str, Any], allowed: Collection[str]) -> None:
    for key in options:
        if key not in allowed:
            raise UnknownOption(str(key), list(allowed))


def option_str(options: Mapping[str, Any], key: str, default: str | None = None) -> str:
    """A non-empty string option; required when ``default`` is None."""
    if key not in options:
        if default is None:
            raise ConfigError(f"option {key!r} is required", key=key)
        return default
    value = options[key]
    if not isinstance(value, str) or not value:
        raise ConfigError(f"option {key!r} must be a non-empty string", key=key)
    return value


def option_optional_str(options: Mapping[str, Any], key: str) -> str | None:
    """A non-empty string option that may be absent or null."""
    if options.get(key) is None:
        return None
    return option_str(options, key)


def option_choice(
    options: Mapping[str, Any], key: str, choices: Collection[str], default: str
) -> str:
    value = options.get(key, default)
    if not isinstance(value, str) or value not in choices:
        allowed = ", ".join(sorted(choices))
        raise ConfigError(f"option {key!r} must be one of: {allowed}", key=key)
    return value


def option_positive_number(options: Mapping[str, Any], key: str, default: float) -> float:
    value = options.get(key, default)
    error = ConfigError(f"option {key!r} must be a number of seconds > 0", key=key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise error
    try:
        number = float(value)
    except OverflowError:
        raise error from None
    if not math.isfinite(number) or number <= 0:
        raise error
    return number
