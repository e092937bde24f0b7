"""Square: ``x-square-hmacsha256-signature`` = base64(HMAC-SHA256(key, URL + raw body)).

The URL is option ``public_url`` (required): the notification URL exactly as configured in the
Square Developer Console (Square signs that string, query included, whatever the request's
``Host``; unlike Twilio and HubSpot the request's own query is not used, as Square's SDK
verifies against the configured URL). ``secrets`` are the subscription's signature keys
(several while rotating).

Event type: the body's ``type`` (e.g. ``payment.updated``). Event id: its ``event_id``.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from typing import Any, Final

from relay.providers._common import EventFields
from relay.providers._configurable import option_url
from relay.providers._hmac import compute, reject_unknown_options, utf8_keys
from relay.providers.base import ProviderSpec
from relay.providers.generic_hmac import GenericHmacProvider
from relay.providers.sample import BodyPath, Fresh, Sample
from relay.providers.sender import Options, Sending, SignedRequest, headers_only

__all__ = ["SENDING", "SPEC", "build"]

NAME: Final = "square"
SIGNATURE_HEADER: Final = "x-square-hmacsha256-signature"
FIELDS: Final = EventFields(type_path=("type",), id_path=("event_id",))


def build(secrets: Sequence[str], options: Mapping[str, Any]) -> GenericHmacProvider:
    reject_unknown_options(options, ("public_url",))
    url = option_url(options).encode("ascii")
    return GenericHmacProvider(
        utf8_keys(secrets),
        header=SIGNATURE_HEADER,
        encoding="base64",
        signed=(url, "body"),
        fields=FIELDS,
        name=NAME,
    )


SPEC: Final = ProviderSpec(
    name=NAME,
    build=build,
    hint="Developer Console > your app > Webhooks > Subscriptions > Add: Notification "
    "URL = this URL (public_url exactly the same), pick events; copy the Signature key.",
    signs_url=True,
)


# ---------------------------------------------------------------- sending side (relay send)


def _sign(secret: str, body: bytes, now: float, opts: Mapping[str, Any]) -> SignedRequest:
    """Options: ``url`` (the notification URL as configured in Square)."""
    url = Options(NAME, opts, ("url",)).text("url")
    digest = compute(secret.encode("utf-8"), url.encode("utf-8") + body)
    signature = base64.b64encode(digest).decode("ascii")
    return headers_only(body, {"x-square-hmacsha256-signature": signature})


SENDING: Final = Sending(
    sign=_sign,
    signs_with="the webhook subscription's signature key",
    sample=Sample(
        payload={
            "merchant_id": "6SSW7HV8K2ST5",
            "type": "payment.updated",
            "event_id": "ac3ac95b-f97d-458c-a6e6-18981597e05f",
            "created_at": "2024-05-01T12:00:00.000Z",
            "data": {"type": "payment", "id": "KkAkhdMsgzn59SM8A89WgKwekxLZY", "object": {}},
        },
        event=(BodyPath(("type",)),),
        event_id=Fresh(BodyPath(("event_id",))),
    ),
)
