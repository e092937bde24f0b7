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
from relay.providers.sample import BodyPath, Fresh, Sample
from relay.providers.sender import Sending
from relay.providers.token import DEFAULT_HEADER, TokenProvider, header_token_signer

__all__ = ["SENDING", "SPEC", "OktaProvider", "build"]

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


SPEC: Final = ProviderSpec(
    name=NAME,
    build=build,
    allows_get=True,
    hint="Admin Console > Workflow > Event Hooks > Create: URL = this URL, Authentication "
    "field = Authorization (or the source's header), secret = one of secrets; Okta's "
    "verification GET is answered.",
)


SENDING: Final = Sending(
    sign=header_token_signer(NAME, ("header",)),
    signs_with="the authentication secret configured on the event hook",
    sample=Sample(
        payload={
            "eventType": "com.okta.event_hook",
            "eventTypeVersion": "1.0",
            "cloudEventsVersion": "0.1",
            "source": "https://example.okta.com/api/v1/eventHooks/whoql0HfiLGPWc8Jx0g3",
            "eventId": "b5a188b9-5ece-4636-b041-482ffda96311",
            "eventTime": "2024-05-01T12:00:00.000Z",
            "contentType": "application/json",
            "data": {
                "events": [
                    {
                        "uuid": "b30ba8d7-13b4-11ea-9ef4-b3d4d0d14a40",
                        "eventType": "user.session.start",
                        "displayMessage": "User login to Okta",
                        "outcome": {"result": "SUCCESS"},
                    }
                ]
            },
        },
        event=(BodyPath(("data", "events", 0, "eventType")),),
        event_id=Fresh(BodyPath(("eventId",))),
    ),
)
