"""No verification (``provider: none``): every request is accepted as authentic.

For senders that cannot authenticate at all (or local testing). It must be asked for
explicitly with ``insecure: true``, takes no ``secrets``, and relay logs a warning at start for
every source using it (the provider carries ``insecure = True`` for that check). Anyone who can
reach the URL can inject events: keep such a source on a private network or behind an
authenticating proxy. Options: ``insecure`` (required, ``true``) and ``event_type_header`` /
``event_id_header`` / ``event_type_path`` / ``event_id_path`` as for ``provider: hmac``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from relay.providers._common import EVENT_FIELD_OPTIONS, EventFields, ProviderBase, event_fields
from relay.providers._hmac import reject_unknown_options
from relay.providers.base import ConfigError, ProviderSpec, WebhookRequest
from relay.providers.sample import GENERIC
from relay.providers.sender import Options, Sending, SignedRequest, headers_only

__all__ = ["SENDING", "SPEC", "NoneProvider", "build"]

NAME: Final = "none"


class NoneProvider(ProviderBase[bytes]):
    """Accepts everything. ``insecure`` marks it for the start-up warning."""

    insecure: Final = True

    def __init__(self, fields: EventFields | None = None) -> None:
        super().__init__(NAME, (), fields)

    def verify(self, request: WebhookRequest, now: float) -> None:
        return None


def build(secrets: Sequence[str], options: Mapping[str, Any]) -> NoneProvider:
    reject_unknown_options(options, ("insecure", *EVENT_FIELD_OPTIONS))
    if options.get("insecure") is not True:
        raise ConfigError(
            "provider 'none' accepts every request unauthenticated; "
            "set 'insecure: true' to confirm that this is intended",
            key="insecure",
        )
    if isinstance(secrets, str | bytes) or len(secrets) != 0:
        raise ConfigError("provider 'none' takes no secrets", key="secrets")
    return NoneProvider(event_fields(options))


SPEC: Final = ProviderSpec(
    name=NAME,
    build=build,
    hint="NO VERIFICATION: anyone who can reach this URL can inject events. Keep it on a "
    "private network or behind an authenticating proxy.",
)


# ---------------------------------------------------------------- sending side (relay send)


def _sign(secret: str, body: bytes, now: float, opts: Mapping[str, Any]) -> SignedRequest:
    Options(NAME, opts, ())
    return headers_only(body, {})


SENDING: Final = Sending(
    sign=_sign,
    signs_with="nothing (any --secret is ignored)",
    sample=GENERIC,
)
