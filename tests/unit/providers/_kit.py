"""Small helpers shared by the provider tests: requests, expected failures, byte flips."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

import pytest
from hypothesis import strategies as st

from relay.providers.base import ConfigError, Provider, VerificationError, WebhookRequest

NOW = 1_700_000_000.0


def request(
    body: bytes = b"",
    headers: Mapping[str, str] | None = None,
    *,
    method: str = "POST",
    query: Mapping[str, str] | None = None,
    raw_query: str = "",
) -> WebhookRequest:
    """A request as the HTTP layer builds it (lower-case header names)."""
    lowered = {name.lower(): value for name, value in (headers or {}).items()}
    return WebhookRequest(
        method=method,
        path="/hooks/src",
        headers=lowered,
        query=dict(query or {}),
        body=body,
        raw_query=raw_query,
    )


def reason_of(provider: Provider, req: WebhookRequest, now: float = NOW) -> str:
    """The reason ``verify`` refuses ``req`` (fails the test when it accepts)."""
    with pytest.raises(VerificationError) as info:
        provider.verify(req, now)
    return info.value.reason


def handshake_reason(provider: Provider, req: WebhookRequest, now: float = NOW) -> str:
    with pytest.raises(VerificationError) as info:
        provider.handshake(req, now)
    return info.value.reason


def config_key(build: Any, secrets: Any, options: Mapping[str, Any]) -> str | None:
    """The ``key`` of the ``ConfigError`` that ``build`` raises."""
    with pytest.raises(ConfigError) as info:
        build(secrets, options)
    return info.value.key


def hmac_sha256(key: str | bytes, message: bytes) -> bytes:
    raw_key = key.encode() if isinstance(key, str) else key
    return hmac.new(raw_key, message, hashlib.sha256).digest()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def flip(body: bytes, data: st.DataObject) -> bytes:
    """``body`` with one byte (drawn by hypothesis) changed."""
    index = data.draw(st.integers(0, len(body) - 1), label="index")
    mask = data.draw(st.integers(1, 255), label="mask")
    flipped = bytearray(body)
    flipped[index] ^= mask
    return bytes(flipped)


def assert_no_leak(error: VerificationError, *secrets: str) -> None:
    for secret in secrets:
        assert secret not in str(error)
        assert secret not in error.detail
