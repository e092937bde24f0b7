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

from typing import Any, Final

from relay.providers._common import lookup_path, require_challenge, text_reply
from relay.providers._schemes import Scheme, SchemeProvider, body, json_object, signed_json
from relay.providers.base import HandshakeReply, WebhookRequest

__all__ = ["SCHEME", "SPEC"]


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
SPEC: Final = SCHEME.spec()
