"""HubSpot (signature v3): ``X-HubSpot-Signature-v3`` = base64(HMAC-SHA256(client secret,
method + URI + raw body + timestamp)).

``X-HubSpot-Request-Timestamp`` is unix time in *milliseconds*; requests more than
``tolerance`` seconds (default 300, HubSpot's 5 minutes) before or after now are refused.

The URI is option ``public_url`` (required: the webhook URL configured in HubSpot) with its
query replaced by the request's query exactly as received. Before signing HubSpot decodes these
escapes, so relay does too: ``%3A :``, ``%2F /``, ``%3F ?``, ``%40 @``, ``%21 !``, ``%24 $``,
``%27 '``, ``%28 (``, ``%29 )``, ``%2A *``, ``%2C ,``, ``%3B ;`` (case-insensitive).

``secrets`` are the app's client secrets. Webhook bodies are arrays of events: the event type
is the first event's ``subscriptionType`` and the id its ``eventId``.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping, Sequence
from typing import Any, Final

from relay.providers._common import (
    ProviderBase,
    check_hmac,
    dig,
    header_bytes,
    require_header,
    scalar,
    text_bytes,
)
from relay.providers._configurable import option_url, request_url
from relay.providers._hmac import (
    check_tolerance,
    compute,
    option_positive_number,
    reject_unknown_options,
    utf8_keys,
)
from relay.providers.base import ProviderSpec, VerificationError, WebhookRequest
from relay.providers.sample import BodyPath, Fresh, Sample
from relay.providers.sender import Options, Sending, SignedRequest, headers_only

__all__ = ["SENDING", "SPEC", "HubSpotProvider", "build", "decode_uri"]

NAME: Final = "hubspot"
SIGNATURE_HEADER: Final = "X-HubSpot-Signature-v3"
TIMESTAMP_HEADER: Final = "X-HubSpot-Request-Timestamp"
DEFAULT_TOLERANCE: Final = 300.0
#: 15 digits of milliseconds reach the year 33658.
_MAX_MILLIS_DIGITS: Final = 15
_DECODED: Final = re.compile(r"%(3A|2F|3F|40|21|24|27|28|29|2A|2C|3B)", re.IGNORECASE)


def decode_uri(uri: str) -> str:
    """Decode the escapes HubSpot decodes before signing (and only those)."""
    return _DECODED.sub(lambda match: chr(int(match.group(1), 16)), uri)


def _parse_millis(value: str) -> float:
    if not value.isascii() or not value.isdigit() or len(value) > _MAX_MILLIS_DIGITS:
        raise VerificationError("invalid_timestamp", "timestamp is not unix milliseconds")
    return int(value) / 1000


def _first_event(body: Any) -> Any:
    return dig(body, 0) if isinstance(body, list) else body


class HubSpotProvider(ProviderBase[bytes]):
    """Verifies HubSpot v3 request signatures."""

    def __init__(
        self, keys: Sequence[bytes], public_url: str, tolerance: float = DEFAULT_TOLERANCE
    ) -> None:
        super().__init__(NAME, keys)
        self._public_url = public_url
        self._tolerance = tolerance

    def verify(self, request: WebhookRequest, now: float) -> None:
        value = require_header(request, SIGNATURE_HEADER)
        raw_timestamp = require_header(request, TIMESTAMP_HEADER, "missing_timestamp")
        check_tolerance(_parse_millis(raw_timestamp), now, self._tolerance)
        uri = decode_uri(request_url(self._public_url, request))
        method = text_bytes(request.method)
        message = method + header_bytes(uri) + request.body + header_bytes(raw_timestamp)
        check_hmac(self._keys, message, value, label=SIGNATURE_HEADER, encoding="base64")

    def event_type(self, request: WebhookRequest, body: Any) -> str | None:
        return scalar(dig(_first_event(body), "subscriptionType"))

    def event_id(self, request: WebhookRequest, body: Any) -> str | None:
        return scalar(dig(_first_event(body), "eventId"))


def build(secrets: Sequence[str], options: Mapping[str, Any]) -> HubSpotProvider:
    reject_unknown_options(options, ("public_url", "tolerance"))
    return HubSpotProvider(
        utf8_keys(secrets),
        option_url(options),
        option_positive_number(options, "tolerance", DEFAULT_TOLERANCE),
    )


SPEC: Final = ProviderSpec(
    name=NAME,
    build=build,
    hint="Developer account > your app > Webhooks: Target URL = this URL (public_url "
    "must be exactly the same), subscribe to the events your routes use; the app's "
    "Client secret signs X-HubSpot-Signature-v3.",
    signs_url=True,
)


# ---------------------------------------------------------------- sending side (relay send)


def _sign(secret: str, body: bytes, now: float, opts: Mapping[str, Any]) -> SignedRequest:
    """Signature v3. Options: ``url``; ``method`` (default ``POST``)."""
    options = Options(NAME, opts, ("url", "method"))
    uri = decode_uri(options.text("url"))
    timestamp = str(int(now * 1000))
    message = (options.text("method", "POST") + uri).encode("utf-8") + body + timestamp.encode()
    return headers_only(
        body,
        {
            "x-hubspot-signature-v3": base64.b64encode(
                compute(secret.encode("utf-8"), message)
            ).decode("ascii"),
            "x-hubspot-request-timestamp": timestamp,
        },
    )


SENDING: Final = Sending(
    sign=_sign,
    signs_with="the app's client secret",
    sample=Sample(
        payload=[
            {
                "eventId": 1,
                "subscriptionId": 2881778,
                "portalId": 62515,
                "appId": 1160452,
                "occurredAt": 1714564800000,
                "subscriptionType": "contact.creation",
                "attemptNumber": 0,
                "objectId": 123,
                "changeSource": "CRM",
                "changeFlag": "NEW",
            }
        ],
        event=(BodyPath((0, "subscriptionType")),),
        event_id=Fresh(BodyPath((0, "eventId")), "int"),
    ),
)
