"""Meta (Facebook, Instagram, Messenger; also registered as ``whatsapp``).

``X-Hub-Signature-256: sha256=<hex>``, HMAC-SHA256 of the raw body with the app secret
(``secrets``; several while rotating). Never re-serialise the body: the raw bytes are signed.

Handshake (so the source accepts GET): ``GET ?hub.mode=subscribe&hub.verify_token=T
&hub.challenge=C`` is answered 200 ``text/plain`` C when T equals option ``verify_token``
(required, compared in constant time); any other T is refused (``verify_token_mismatch``).

Event type: the body's ``object`` (``page``, ``instagram``, ``whatsapp_business_account``...)
followed by ``.`` and ``entry[0].changes[0].field`` when present (e.g.
``whatsapp_business_account.messages``). Meta sends no delivery id, so there is no event id.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from relay.providers._common import (
    dig,
    equals_any,
    require_challenge,
    scalar,
    text_bytes,
    text_reply,
)
from relay.providers._hmac import option_str, reject_unknown_options, utf8_keys
from relay.providers.base import HandshakeReply, ProviderSpec, VerificationError, WebhookRequest
from relay.providers.body_limits import MiB
from relay.providers.hmac import GenericHmacProvider
from relay.providers.sample import BodyPath, Sample
from relay.providers.sender import Sending, hex_signer

__all__ = ["SENDING", "SPEC", "MetaProvider", "build", "build_with", "meta_sample"]

NAME: Final = "meta"
SIGNATURE_HEADER: Final = "x-hub-signature-256"


class MetaProvider(GenericHmacProvider):
    """Meta Graph API webhooks: signed POSTs and the ``hub.challenge`` GET handshake."""

    def __init__(self, keys: Sequence[bytes], verify_token: str, name: str = NAME) -> None:
        super().__init__(keys, header=SIGNATURE_HEADER, prefix="sha256=", name=name)
        self._verify_token = text_bytes(verify_token)

    def handshake(self, request: WebhookRequest, now: float) -> HandshakeReply | None:
        if request.method != "GET" or request.query.get("hub.mode") != "subscribe":
            return None
        token = request.query.get("hub.verify_token")
        if token is None or not equals_any(text_bytes(token), (self._verify_token,)):
            raise VerificationError("verify_token_mismatch", "hub.verify_token does not match")
        return text_reply(require_challenge(request.query.get("hub.challenge"), "hub.challenge"))

    def event_type(self, request: WebhookRequest, body: Any) -> str | None:
        kind = scalar(dig(body, "object"))
        field = scalar(dig(body, "entry", 0, "changes", 0, "field"))
        if kind is None or field is None:
            return kind
        return f"{kind}.{field}"

    def event_id(self, request: WebhookRequest, body: Any) -> str | None:
        return None


def build_with(
    secrets: Sequence[str], options: Mapping[str, Any], *, name: str = NAME
) -> MetaProvider:
    """Build under another registered ``name`` (``whatsapp``)."""
    reject_unknown_options(options, ("verify_token",))
    verify_token = option_str(options, "verify_token")
    return MetaProvider(utf8_keys(secrets), verify_token, name)


def build(secrets: Sequence[str], options: Mapping[str, Any]) -> MetaProvider:
    return build_with(secrets, options)


SPEC: Final = ProviderSpec(
    name=NAME,
    build=build,
    allows_get=True,
    max_body_bytes=3 * MiB,  # Meta's webhooks "can be up to 3MB"
    hint="App Dashboard > Webhooks: Callback URL = this URL, Verify Token = the source's "
    "verify_token (GET handshake); subscribe to fields; the App Secret signs "
    "X-Hub-Signature-256.",
)


# ---------------------------------------------------------------- sending side (relay send)


def meta_sample(kind: str, field: str, value: dict[str, Any]) -> Sample:
    """A Graph API change notification: ``object`` ``kind``, one ``field`` change."""
    return Sample(
        payload={
            "object": kind,
            "entry": [
                {
                    "id": "102290129340398",
                    "time": 1714564800,
                    "changes": [{"field": field, "value": value}],
                }
            ],
        },
        event=(BodyPath(("entry", 0, "changes", 0, "field")),),
    )


SENDING: Final = Sending(
    sign=hex_signer(NAME, "x-hub-signature-256", "sha256="),
    signs_with="the app secret (App settings > Basic)",
    sample=meta_sample("page", "feed", {"item": "status", "verb": "add", "post_id": "44_44"}),
)
