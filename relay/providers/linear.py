"""Linear: ``Linear-Signature: <hex>``, HMAC-SHA256 of the raw body.

Replay protection is in the body: ``webhookTimestamp`` (unix milliseconds) must be within
``tolerance`` seconds (default 60) of now. The body is parsed for it only after the signature
matched. The event type is ``"{type}.{action}"`` (``Issue.create``), or ``type`` alone; the id
is the ``Linear-Delivery`` header.
"""

from __future__ import annotations

from typing import Final

from relay.providers._schemes import Scheme, body, header, joined, json_object
from relay.providers.base import VerificationError

__all__ = ["SCHEME", "SPEC"]

#: 10**14 ms is in the year 5138: larger values are not timestamps (and would overflow floats).
_MAX_MILLIS: Final = 10**14


def webhook_timestamp(raw: bytes) -> float:
    """The body's ``webhookTimestamp`` in seconds; ``VerificationError`` when absent or odd."""
    data = json_object(raw)
    value = None if data is None else data.get("webhookTimestamp")
    if value is None:
        raise VerificationError("missing_timestamp", "the body has no webhookTimestamp")
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < _MAX_MILLIS:
        raise VerificationError("invalid_timestamp", "webhookTimestamp is not unix milliseconds")
    return value / 1000


SCHEME: Final = Scheme(
    name="linear",
    header="linear-signature",
    tolerance=60.0,
    body_timestamp=webhook_timestamp,
    event_type=joined(body("type"), body("action")),
    event_id=header("linear-delivery"),
)
SPEC: Final = SCHEME.spec()
