"""Discord: Ed25519 over ``X-Signature-Timestamp`` + raw body, signature in ``X-Signature-Ed25519``.

``secrets`` are the application's public keys (hex, as shown in the developer portal). Discord
deliberately sends badly signed requests to check the endpoint: they must be refused (401),
which ``verify`` does. Discord documents no replay window; ``X-Signature-Timestamp`` (unix
seconds) more than ``tolerance`` seconds (default 300, as for Stripe, Slack and Standard
Webhooks) before or after now is refused. Interactions are answered within 3 seconds, so a
genuine request is never near the edge of the window.

Handshakes, answered only after the signature verifies:

* interactions ``PING`` (``{"type": 1}``) -> 200 ``{"type": 1}``;
* webhook-events ``PING`` (``{"type": 0}``, no ``event``) -> 204 with an empty body.

Event type: a webhook event's ``event.type`` (e.g. ``APPLICATION_AUTHORIZED``), else the
interaction ``type`` by name (``ping``, ``application_command``, ``message_component``,
``application_command_autocomplete``, ``modal_submit``; unknown numbers as digits).
Event id: the interaction's ``id``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, Final

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from relay.providers._asymmetric import ed25519_keys
from relay.providers._common import dig, json_reply, scalar
from relay.providers._hmac import option_positive_number, reject_unknown_options
from relay.providers._private_keys import ED25519_SEED, ed25519_private_key
from relay.providers.base import HandshakeReply, ProviderSpec, WebhookRequest
from relay.providers.ed25519 import Ed25519Provider
from relay.providers.sample import BodyPath, Sample
from relay.providers.sender import Options, Sending, SignedRequest, headers_only

__all__ = ["DEFAULT_TOLERANCE", "INTERACTION_TYPES", "SENDING", "SPEC", "DiscordProvider", "build"]

NAME: Final = "discord"
SIGNATURE_HEADER: Final = "X-Signature-Ed25519"
TIMESTAMP_HEADER: Final = "X-Signature-Timestamp"
DEFAULT_TOLERANCE: Final = 300.0
INTERACTION_TYPES: Final[Mapping[int, str]] = {
    1: "ping",
    2: "application_command",
    3: "message_component",
    4: "application_command_autocomplete",
    5: "modal_submit",
}
_WEBHOOK_PING: Final = 0
_INTERACTION_PING: Final = 1


def _ping_kind(raw: bytes) -> int | None:
    """0 or 1 when ``raw`` is a PING body (not yet verified), else None; never raises."""
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    if not isinstance(body, dict) or "event" in body:
        return None
    kind = body.get("type")
    if (
        isinstance(kind, int)
        and not isinstance(kind, bool)
        and kind in (_WEBHOOK_PING, _INTERACTION_PING)
    ):
        return kind
    return None


class DiscordProvider(Ed25519Provider):
    """Discord interactions and webhook events."""

    def __init__(
        self, keys: Sequence[Ed25519PublicKey], tolerance: float = DEFAULT_TOLERANCE
    ) -> None:
        super().__init__(
            keys,
            header=SIGNATURE_HEADER,
            timestamp_header=TIMESTAMP_HEADER,
            tolerance=tolerance,
            name=NAME,
        )

    def handshake(self, request: WebhookRequest, now: float) -> HandshakeReply | None:
        kind = _ping_kind(request.body) if request.method == "POST" else None
        if kind is None:
            return None
        self.verify(request, now)
        if kind == _INTERACTION_PING:
            return json_reply({"type": _INTERACTION_PING})
        return HandshakeReply(status_code=204)

    def event_type(self, request: WebhookRequest, body: Any) -> str | None:
        event_type = scalar(dig(body, "event", "type"))
        if event_type is not None:
            return event_type
        kind = dig(body, "type")
        if isinstance(kind, bool) or not isinstance(kind, int):
            return None
        if kind == _WEBHOOK_PING:
            return "ping"
        return INTERACTION_TYPES.get(kind) or scalar(kind)

    def event_id(self, request: WebhookRequest, body: Any) -> str | None:
        return scalar(dig(body, "id"))


def build(secrets: Sequence[str], options: Mapping[str, Any]) -> DiscordProvider:
    reject_unknown_options(options, ("tolerance",))
    return DiscordProvider(
        ed25519_keys(secrets), option_positive_number(options, "tolerance", DEFAULT_TOLERANCE)
    )


SPEC: Final = ProviderSpec(
    name=NAME,
    build=build,
    hint="Developer Portal > your app: paste the URL as Interactions Endpoint URL (or "
    "under Webhooks > Endpoint URL for webhook events); put the Public Key in secrets. "
    "Discord's PING is answered once the signature verifies.",
)


# ---------------------------------------------------------------- sending side (relay send)


def _sign(secret: str, body: bytes, now: float, opts: Mapping[str, Any]) -> SignedRequest:
    Options(NAME, opts, ())
    key = ed25519_private_key(NAME, secret)
    timestamp = str(int(now))
    return headers_only(
        body,
        {
            "x-signature-ed25519": key.sign(timestamp.encode("ascii") + body).hex(),
            "x-signature-timestamp": timestamp,
        },
    )


SENDING: Final = Sending(
    sign=_sign,
    signs_with=ED25519_SEED,
    sample=Sample(
        payload={
            "version": 1,
            "application_id": "1234560123453231555",
            "type": 1,
            "event": {
                "type": "APPLICATION_AUTHORIZED",
                "timestamp": "2024-05-01T12:00:00.000000+00:00",
                "data": {
                    "integration_type": 0,
                    "scopes": ["applications.commands"],
                    "user": {"id": "80351110224678912", "username": "nelly"},
                },
            },
        },
        event=(BodyPath(("event", "type")),),
    ),
)
