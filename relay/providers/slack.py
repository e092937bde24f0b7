"""Slack: ``X-Slack-Signature: v0=<hex>`` over ``"v0:{X-Slack-Request-Timestamp}:{raw}"``.

HMAC-SHA256 keyed with the app's signing secret; timestamps more than ``tolerance`` seconds
(default 300) from now are refused. Handshake: the signed ``url_verification`` POST
(``{"type": "url_verification", "challenge": C}``) is answered 200 ``text/plain`` C after its
signature is checked.

Event type: ``event.type`` for Events API ``event_callback`` bodies, the ``command`` of a slash
command (form body), the ``type`` inside an interactivity ``payload`` (form body), else the
body's ``type``. Event id: the body's ``event_id`` (Events API only). An interactivity form
(``payload=<JSON>``) is routed as that JSON; a slash command's form stays a form.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from relay.providers._common import lookup_path, require_challenge, text_reply
from relay.providers._schemes import Scheme, SchemeProvider, body, json_object, signed_json
from relay.providers.base import HandshakeReply, WebhookRequest
from relay.providers.sample import BodyPath, Fresh, Sample
from relay.providers.sender import Sending

__all__ = ["SCHEME", "SENDING", "SPEC"]


def _handshake(
    provider: SchemeProvider, request: WebhookRequest, now: float
) -> HandshakeReply | None:
    data = signed_json(provider, request, now, b"url_verification")
    if data is None or data.get("type") != "url_verification":
        return None
    challenge = data.get("challenge")
    if not isinstance(challenge, str):
        return None
    return text_reply(require_challenge(challenge, "challenge"))


def _event_type(request: WebhookRequest, body: Any) -> str | None:
    if not isinstance(body, dict):
        return None
    if body.get("type") == "event_callback":
        return lookup_path(body, ("event", "type")) or "event_callback"
    if "command" in body:
        return lookup_path(body, ("command",))
    payload = body.get("payload")
    if isinstance(payload, str):
        return lookup_path(json_object(payload), ("type",))
    return lookup_path(body, ("type",))


SCHEME: Final = Scheme(
    name="slack",
    header="x-slack-signature",
    prefix="v0=",
    timestamp_header="x-slack-request-timestamp",
    signed_prefix="v0:{ts}:",
    tolerance=300.0,
    handshake=_handshake,
    event_type=_event_type,
    event_id=body("event_id"),
    form_json_field="payload",  # interactivity: payload=<JSON>; slash commands stay forms
)
SPEC: Final = SCHEME.spec(
    hint="api.slack.com/apps > your app > Event Subscriptions: Request URL = this URL "
    "(url_verification is answered), subscribe to events; Basic Information > Signing "
    "Secret goes in secrets."
)


# ---------------------------------------------------------------- sending side (relay send)

_TS = "1714564800.000100"


def _callback(event: dict[str, Any]) -> Sample:
    return Sample(
        payload={
            "token": "XXYYZZ",
            "team_id": "T1DC2JH3J",
            "context_team_id": "T1DC2JH3J",
            "api_app_id": "A2H9RFS1A",
            "event": event,
            "type": "event_callback",
            "event_id": "Ev08MFMKH6",
            "event_time": 1714564800,
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": "T1DC2JH3J",
                    "user_id": "U0LAN0Z89",
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
            "event_context": "4-eyJldCI6Im1lc3NhZ2UiLCJ0aWQiOiJUMURDMkpIM0oifQ",
        },
        event=(BodyPath(("event", "type")),),
        event_id=Fresh(BodyPath(("event_id",)), "hex", "Ev"),
    )


_EVENTS: Final[Mapping[str, Sample]] = {
    "message": _callback(
        {
            "type": "message",
            "channel": "C2147483705",
            "user": "U061F7AUR",
            "text": "Is the deploy done?",
            "ts": _TS,
            "event_ts": _TS,
            "channel_type": "channel",
            "team": "T1DC2JH3J",
        }
    ),
    "app_mention": _callback(
        {
            "type": "app_mention",
            "user": "U061F7AUR",
            "text": "<@U0LAN0Z89> deploy prod please",
            "ts": _TS,
            "channel": "C2147483705",
            "event_ts": _TS,
            "team": "T1DC2JH3J",
        }
    ),
    "/weather": Sample(
        payload={
            "token": "gIkuvaNzQIHg97ATvDxqgjtO",
            "team_id": "T1DC2JH3J",
            "team_domain": "example",
            "channel_id": "C2147483705",
            "channel_name": "general",
            "user_id": "U061F7AUR",
            "user_name": "steve",
            "command": "/weather",
            "text": "94070",
            "api_app_id": "A2H9RFS1A",
            "is_enterprise_install": "false",
            "response_url": "https://hooks.slack.com/commands/T1DC2JH3J/1234/abcd",
            "trigger_id": "13345224609.738474920.8088930838d88f008e0",
        },
        form=True,
        event=(BodyPath(("command",)),),
        event_prefix="/",
    ),
}


SENDING: Final = Sending(
    sign=SCHEME.signer(),
    signs_with="the app's signing secret",
    sample=Sample(
        payload={
            "token": "XXYYZZ",
            "team_id": "T1DC2JH3J",
            "api_app_id": "A2H9RFS1A",
            "type": "event_callback",
            "event": {"type": "app_mention", "user": "U061F7AUR", "text": "<@U0LAN0Z89> hi"},
            "event_id": "Ev08MFMKH6",
            "event_time": 1714564800,
        },
        event=(BodyPath(("event", "type")),),
        event_id=Fresh(BodyPath(("event_id",)), "hex", "Ev"),
    ),
    events=_EVENTS,
)
