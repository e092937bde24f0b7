"""Square: ``x-square-hmacsha256-signature`` = base64(HMAC-SHA256(key, URL + raw body)).

The URL is option ``public_url`` (required): the notification URL exactly as configured in the
Square Developer Console (Square signs that string, query included, whatever the request's
``Host``; unlike Twilio and HubSpot the request's own query is not used, as Square's SDK
verifies against the configured URL). ``secrets`` are the subscription's signature keys
(several while rotating).

Event type: the body's ``type`` (e.g. ``payment.updated``). Event id: its ``event_id``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from relay.providers._common import EventFields
from relay.providers._configurable import option_url
from relay.providers._hmac import reject_unknown_options, utf8_keys
from relay.providers.base import ProviderSpec
from relay.providers.generic_hmac import GenericHmacProvider

__all__ = ["SPEC", "build"]

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


SPEC: Final = ProviderSpec(name=NAME, build=build)
