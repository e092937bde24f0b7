"""Secrets out of everything shown: values under secret-looking keys and headers are masked,
and the configured secrets (webhook secrets, target API keys, the admin token) are cut out
of any text wherever they appear."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl

__all__ = ["MASK", "Redactor", "at_rest_headers", "at_rest_query", "secret_header", "secret_key"]

MASK = "[redacted]"

# Compared on the key lowercased with "-", "_", "." and spaces removed.
_SECRET_KEY_PARTS = (
    "password",
    "passwd",
    "secret",
    "token",
    "apikey",
    "authorization",
    "signature",
    "privatekey",
    "accesskey",
    "credential",
    "cookie",
    "clientstate",
    "sessionid",
)
_SECRET_HEADER_PARTS = (
    *_SECRET_KEY_PARTS,
    "auth",
    "hmac",
    "sig",
    "apikey",
    "key",
)
_NORMALIZE = re.compile(r"[-_. ]")
_MIN_SECRET = 6  # shorter configured values are too likely to be ordinary words


def _norm(key: str) -> str:
    return _NORMALIZE.sub("", key.lower())


def secret_key(key: str) -> bool:
    """Whether a payload or query key names a secret (``api_key``, ``clientSecret``...)."""
    norm = _norm(key)
    return any(part in norm for part in _SECRET_KEY_PARTS)


def secret_header(name: str) -> bool:
    """Whether a header carries a credential (signature, authorization, cookie, API key)."""
    norm = _norm(name)
    if norm in ("idempotencykey", "xeventkey"):  # Bitbucket's event type is no credential
        return False
    return any(part in norm for part in _SECRET_HEADER_PARTS)


def at_rest_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Headers as an event stores them: credential values (authorization, tokens, API keys,
    signatures, cookies) masked, once verification is done with them; names kept."""
    return {name: MASK if secret_header(name) else value for name, value in headers.items()}


def at_rest_query(query: Mapping[str, str]) -> dict[str, str]:
    """Query parameters as an event stores them: values under secret keys masked."""
    return {k: MASK if v and secret_key(k) else v for k, v in query.items()}


class Redactor:
    """Masks secret-looking keys and cuts known secret values out of text."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        known = {s for s in secrets if isinstance(s, str) and len(s) >= _MIN_SECRET}
        # Longest first, so that a secret containing another is cut whole.
        self._secrets = sorted(known, key=len, reverse=True)
        self._pattern = (
            re.compile("|".join(re.escape(s) for s in self._secrets)) if self._secrets else None
        )

    def with_secrets(self, more: Iterable[str]) -> Redactor:
        """A redactor that also cuts ``more`` out of text."""
        return Redactor([*self._secrets, *more])

    def learned(self, headers: Mapping[str, str], body: bytes) -> Redactor:
        """A redactor that also cuts, everywhere, the values this request carried under
        secret keys or in credential headers: a password in the payload must not come back
        through the function's logs or result."""
        found: list[str] = []
        for name, value in headers.items():
            if secret_header(name):
                found.append(value)
                found.extend(_parts(value))
        try:
            parsed = json.loads(body)
        except ValueError:
            parsed = None
        _collect(parsed, found)
        return self.with_secrets(found)

    def text(self, value: str) -> str:
        """``value`` with every known secret replaced by the mask."""
        if self._pattern is None:
            return value
        return self._pattern.sub(MASK, value)

    def value(self, value: Any) -> Any:
        """A JSON-like value with secret keys masked and known secrets cut from strings."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, Mapping):
            return {
                self.text(str(k)): MASK
                if secret_key(str(k)) and v not in (None, "")
                else self.value(v)
                for k, v in value.items()
            }
        if isinstance(value, list | tuple):
            return [self.value(v) for v in value]
        return value

    def _item(self, key: str, value: Any) -> Any:
        if secret_key(key) and value not in (None, "", False):
            return MASK
        return self.value(value)

    def headers(self, headers: Mapping[str, str]) -> dict[str, str]:
        """Headers with credential values masked (their names stay: they tell what came)."""
        return {
            name: MASK if secret_header(name) else self.text(value)
            for name, value in headers.items()
        }

    def body(self, body: bytes, content_type: str = "") -> str:
        """The payload for people: JSON pretty-printed, a form one field a line, both with
        secrets masked; other text with known secrets cut; binary as a size."""
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return f"({len(body)} bytes, not UTF-8)"
        stripped = text.strip()
        if stripped[:1] in ("{", "["):
            try:
                parsed = json.loads(stripped)
            except ValueError:
                return self.text(text)
            return json.dumps(self.value(parsed), indent=2, ensure_ascii=False)
        if "application/x-www-form-urlencoded" in content_type.lower():
            pairs = parse_qsl(text, keep_blank_values=True)
            return "\n".join(
                f"{self.text(k)}={MASK if secret_key(k) else self.text(v)}" for k, v in pairs
            )
        return self.text(text)


def _parts(value: str) -> list[str]:
    """The pieces of a credential header: ``Bearer X`` -> X, ``a=1; b=2`` -> 1, 2."""
    pieces = [value.partition(" ")[2]]
    for item in value.split(";"):
        pieces.append(item.partition("=")[2])
    for item in value.split(","):
        pieces.append(item.partition("=")[2])
    return [p.strip() for p in pieces if p.strip()]


def _collect(value: Any, found: list[str], secret: bool = False) -> None:
    if isinstance(value, Mapping):
        for k, v in value.items():
            _collect(v, found, secret or secret_key(str(k)))
    elif isinstance(value, list):
        for v in value:
            _collect(v, found, secret)
    elif secret and isinstance(value, str | int | float) and not isinstance(value, bool):
        found.append(str(value))
