"""Mailgun: the signature travels inside the JSON body.

``{"signature": {"timestamp": T, "token": N, "signature": hex}, "event-data": {...}}`` where
the signature is hex HMAC-SHA256(webhook signing key, ``T + N``). The body is parsed here
because the signed material is in it. Note that Mailgun's signature covers only the timestamp
and token, not ``event-data``. The token is the event id (relay's dedupe key), as Mailgun
recommends deduplicating on it, so a replayed token is recognised as a duplicate.

Mailgun documents no replay window; option ``tolerance`` (seconds) adds one. A timestamp that
is not unix seconds is always refused. ``secrets`` are signing keys (several while rotating).

Event type: ``event-data.event``. Event id: the signature token.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from relay.providers._common import ProviderBase, check_hmac, dig, load_json, scalar, text_bytes
from relay.providers._configurable import option_optional_tolerance
from relay.providers._hmac import (
    check_tolerance,
    parse_timestamp,
    reject_unknown_options,
    utf8_keys,
)
from relay.providers.base import ProviderSpec, VerificationError, WebhookRequest

__all__ = ["SPEC", "MailgunProvider", "build"]

NAME: Final = "mailgun"
#: Longest token accepted (Mailgun sends 50 characters).
MAX_TOKEN: Final = 512


def _field(signature: dict[str, Any], name: str, missing: str) -> str:
    value = signature.get(name)
    if value is None:
        raise VerificationError(missing, f"signature.{name} is missing")
    if isinstance(value, int) and not isinstance(value, bool) and name == "timestamp":
        return str(value)
    if not isinstance(value, str):
        reason = "invalid_timestamp" if name == "timestamp" else f"malformed_{name}"
        raise VerificationError(reason, f"signature.{name} is not a string")
    return value


class MailgunProvider(ProviderBase[bytes]):
    """Verifies Mailgun webhooks (the JSON ``signature`` object) against signing keys."""

    def __init__(self, keys: Sequence[bytes], tolerance: float | None = None) -> None:
        super().__init__(NAME, keys)
        self._tolerance = tolerance

    def verify(self, request: WebhookRequest, now: float) -> None:
        signature = dig(load_json(request.body), "signature")
        if not isinstance(signature, dict):
            raise VerificationError("missing_signature", "the body has no signature object")
        value = _field(signature, "signature", "missing_signature")
        raw_timestamp = _field(signature, "timestamp", "missing_timestamp")
        token = _field(signature, "token", "missing_token")
        if not token or len(token) > MAX_TOKEN:
            raise VerificationError("malformed_token", "signature.token is empty or too long")
        timestamp = parse_timestamp(raw_timestamp)
        if self._tolerance is not None:
            check_tolerance(timestamp, now, self._tolerance)
        message = text_bytes(raw_timestamp + token)
        check_hmac(self._keys, message, value, label="signature.signature", encoding="hex")

    def event_type(self, request: WebhookRequest, body: Any) -> str | None:
        return scalar(dig(body, "event-data", "event"))

    def event_id(self, request: WebhookRequest, body: Any) -> str | None:
        return scalar(dig(body, "signature", "token"))


def build(secrets: Sequence[str], options: Mapping[str, Any]) -> MailgunProvider:
    reject_unknown_options(options, ("tolerance",))
    return MailgunProvider(utf8_keys(secrets), option_optional_tolerance(options))


SPEC: Final = ProviderSpec(name=NAME, build=build)
