"""Okta event hooks: a shared ``Authorization`` header, plus the one-time verification GET.

Event POSTs must carry the configured authentication header (option ``header``, default
``Authorization``) equal to one of the secrets, compared in constant time (the value is
exactly what was configured in Okta, with no scheme prefix).

Handshake (so the source accepts GET): ``GET`` with ``X-Okta-Verification-Challenge: C`` is
answered 200 ``{"verification": C}``.

Event type: ``data.events[0].eventType`` (e.g. ``user.session.start``). Event id: ``eventId``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from relay.providers._common import dig, json_reply, require_challenge, scalar
from relay.providers._hmac import option_str, reject_unknown_options, utf8_keys
from relay.providers.base import HandshakeReply, ProviderSpec, WebhookRequest
from relay.providers.token import DEFAULT_HEADER, TokenProvider

__all__ = ["SPEC", "OktaProvider", "build"]

NAME: Final = "okta"
CHALLENGE_HEADER: Final = "x-okta-verification-challenge"


class OktaProvider(TokenProvider):
    """Okta event hooks."""

    def handshake(self, request: WebhookRequest, now: float) -> HandshakeReply | None:
        challenge = request.headers.get(CHALLENGE_HEADER)
        if request.method != "GET" or challenge is None:
            return None
        return json_reply({"verification": require_challenge(challenge, CHALLENGE_HEADER)})

    def event_type(self, request: WebhookRequest, body: Any) -> str | None:
        return scalar(dig(body, "data", "events", 0, "eventType"))

    def event_id(self, request: WebhookRequest, body: Any) -> str | None:
        return scalar(dig(body, "eventId"))


def build(secrets: Sequence[str], options: Mapping[str, Any]) -> OktaProvider:
    reject_unknown_options(options, ("header",))
    header = option_str(options, "header", DEFAULT_HEADER)
    return OktaProvider(utf8_keys(secrets), header=header, name=NAME)


SPEC: Final = ProviderSpec(name=NAME, build=build, allows_get=True)
