"""Twitch EventSub: ``Twitch-Eventsub-Message-Signature: sha256=<hex>``.

HMAC-SHA256(secret, message id + timestamp + raw body) with the headers
``Twitch-Eventsub-Message-Id`` and ``Twitch-Eventsub-Message-Timestamp`` (RFC 3339, as sent).
Messages more than ``tolerance`` seconds (default 600, Twitch's 10 minutes) before or after now
are refused.

Handshake: a verified POST with ``Twitch-Eventsub-Message-Type: webhook_callback_verification``
is answered 200 ``text/plain`` with the body's ``challenge``. ``revocation`` messages are
ordinary events.

Event type: the body's ``subscription.type``. Event id: ``Twitch-Eventsub-Message-Id`` (Twitch
may redeliver a message with the same id).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Final

from relay.providers._common import (
    ProviderBase,
    check_hmac,
    dig,
    header_bytes,
    load_json,
    require_challenge,
    require_header,
    scalar,
    text_reply,
)
from relay.providers._configurable import parse_rfc3339
from relay.providers._hmac import (
    check_tolerance,
    compute,
    option_positive_number,
    reject_unknown_options,
    utf8_keys,
)
from relay.providers.base import HandshakeReply, ProviderSpec, WebhookRequest
from relay.providers.sample import BodyPath, Fresh, Header, Sample, SignerOption
from relay.providers.sender import Options, Sending, SignedRequest, derived_uuid, headers_only

__all__ = ["SENDING", "SPEC", "TwitchProvider", "build"]

NAME: Final = "twitch"
SIGNATURE_HEADER: Final = "Twitch-Eventsub-Message-Signature"
ID_HEADER: Final = "Twitch-Eventsub-Message-Id"
TIMESTAMP_HEADER: Final = "Twitch-Eventsub-Message-Timestamp"
TYPE_HEADER: Final = "twitch-eventsub-message-type"
VERIFICATION: Final = "webhook_callback_verification"
DEFAULT_TOLERANCE: Final = 600.0
_PREFIX: Final = "sha256="


class TwitchProvider(ProviderBase[bytes]):
    """Verifies Twitch EventSub webhook messages."""

    def __init__(self, keys: Sequence[bytes], tolerance: float = DEFAULT_TOLERANCE) -> None:
        super().__init__(NAME, keys)
        self._tolerance = tolerance

    def handshake(self, request: WebhookRequest, now: float) -> HandshakeReply | None:
        if request.headers.get(TYPE_HEADER) != VERIFICATION:
            return None
        self.verify(request, now)
        challenge = dig(load_json(request.body), "challenge")
        return text_reply(
            require_challenge(challenge if isinstance(challenge, str) else None, "challenge")
        )

    def verify(self, request: WebhookRequest, now: float) -> None:
        value = require_header(request, SIGNATURE_HEADER)
        message_id = require_header(request, ID_HEADER, "missing_id")
        raw_timestamp = require_header(request, TIMESTAMP_HEADER, "missing_timestamp")
        check_tolerance(parse_rfc3339(raw_timestamp), now, self._tolerance)
        message = header_bytes(message_id) + header_bytes(raw_timestamp) + request.body
        check_hmac(
            self._keys, message, value, label=SIGNATURE_HEADER, encoding="hex", prefix=_PREFIX
        )

    def event_type(self, request: WebhookRequest, body: Any) -> str | None:
        return scalar(dig(body, "subscription", "type"))

    def event_id(self, request: WebhookRequest, body: Any) -> str | None:
        return request.headers.get(ID_HEADER.lower()) or None


def build(secrets: Sequence[str], options: Mapping[str, Any]) -> TwitchProvider:
    reject_unknown_options(options, ("tolerance",))
    return TwitchProvider(
        utf8_keys(secrets), option_positive_number(options, "tolerance", DEFAULT_TOLERANCE)
    )


SPEC: Final = ProviderSpec(
    name=NAME,
    build=build,
    hint="Create an EventSub subscription (POST /eventsub/subscriptions): transport "
    "webhook, callback = this URL, secret = one of secrets (10-100 chars); the "
    "webhook_callback_verification challenge is answered.",
)


# ---------------------------------------------------------------- sending side (relay send)


def _sign(secret: str, body: bytes, now: float, opts: Mapping[str, Any]) -> SignedRequest:
    """Options: ``message_id`` (default: a UUID derived from body and time)."""
    options = Options(NAME, opts, ("message_id",))
    message_id = options.text("message_id", derived_uuid(body, now))
    moment = datetime.fromtimestamp(now, UTC)
    timestamp = moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond:06d}Z"
    message = (message_id + timestamp).encode("utf-8") + body
    return headers_only(
        body,
        {
            "twitch-eventsub-message-id": message_id,
            "twitch-eventsub-message-timestamp": timestamp,
            "twitch-eventsub-message-signature": "sha256="
            + compute(secret.encode("utf-8"), message).hex(),
        },
    )


SENDING: Final = Sending(
    sign=_sign,
    signs_with="the EventSub subscription secret",
    sample=Sample(
        payload={
            "subscription": {
                "id": "f1c2a387-161a-49f9-a165-0f21d7a4e1c4",
                "type": "channel.follow",
                "version": "2",
                "status": "enabled",
                "cost": 0,
                "condition": {"broadcaster_user_id": "1337", "moderator_user_id": "1337"},
                "transport": {"method": "webhook", "callback": "https://example.com/webhooks"},
                "created_at": "2024-05-01T12:00:00.000000Z",
            },
            "event": {"user_id": "1234", "user_login": "cool_user", "broadcaster_user_id": "1337"},
        },
        headers={
            "twitch-eventsub-message-type": "notification",
            "twitch-eventsub-subscription-type": "channel.follow",
            "twitch-eventsub-subscription-version": "2",
        },
        event=(BodyPath(("subscription", "type")), Header("twitch-eventsub-subscription-type")),
        event_id=Fresh(SignerOption("message_id")),
    ),
)
