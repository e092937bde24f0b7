"""Asana: ``X-Hook-Signature: <hex>``, HMAC-SHA256 of the raw body keyed with the hook secret.

The key is not configured up front: Asana hands it over in the webhook-creation handshake, a
POST carrying ``X-Hook-Secret: S`` that must be answered 200 echoing ``X-Hook-Secret: S``.
So ``secrets`` may be empty for this provider (it may also list known hook secrets).

Storing S durably is the HTTP layer's job, not the provider's. The contract:

* ``handshake`` only echoes S (after checking it is plain visible ASCII); it does not trust it,
  because anyone who knows the URL can send such a POST;
* the HTTP layer decides whether to accept S (e.g. only while the source has no secret yet),
  persists it and calls ``accept_hook_secret(S)``, which adds S to the in-memory keys; on start
  it calls ``accept_hook_secret`` again for every persisted secret.

Until a key exists every event is refused (``no_secret``). The body is ``{"events": [...]}``
(possibly empty, as a heartbeat), so the event type is ``events``; Asana sends no id.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from relay.providers._configurable import optional_secret_list
from relay.providers._handed import HandedSecretKeys, is_valid_hook_secret
from relay.providers._hmac import reject_unknown_options, utf8_keys
from relay.providers.base import HandshakeReply, ProviderSpec, VerificationError, WebhookRequest
from relay.providers.generic_hmac import GenericHmacProvider
from relay.providers.sample import Sample
from relay.providers.sender import Sending, hex_signer

__all__ = ["SENDING", "SPEC", "AsanaProvider", "build", "is_valid_hook_secret"]

NAME: Final = "asana"
SIGNATURE_HEADER: Final = "x-hook-signature"
SECRET_HEADER: Final = "X-Hook-Secret"  # noqa: S105 - a header name


class AsanaProvider(HandedSecretKeys, GenericHmacProvider):
    """Asana webhooks; keys arrive through the handshake (see the module docs)."""

    def __init__(self, keys: Sequence[bytes]) -> None:
        super().__init__(keys, header=SIGNATURE_HEADER, name=NAME)

    def handshake(self, request: WebhookRequest, now: float) -> HandshakeReply | None:
        secret = request.headers.get(SECRET_HEADER.lower())
        if secret is None or request.method != "POST":
            return None
        if not is_valid_hook_secret(secret):
            raise VerificationError("malformed_hook_secret", f"{SECRET_HEADER} is not valid")
        return HandshakeReply(headers={SECRET_HEADER: secret}, handed_secret=secret)

    def verify(self, request: WebhookRequest, now: float) -> None:
        self.require_key()
        super().verify(request, now)

    def event_type(self, request: WebhookRequest, body: Any) -> str | None:
        return "events"

    def event_id(self, request: WebhookRequest, body: Any) -> str | None:
        return None


def build(secrets: Sequence[str], options: Mapping[str, Any]) -> AsanaProvider:
    reject_unknown_options(options, ())
    known = optional_secret_list(secrets)
    return AsanaProvider(utf8_keys(known) if known else ())


SPEC: Final = ProviderSpec(
    name=NAME,
    build=build,
    hint="Create the webhook with the API (POST /webhooks, target = this URL); Asana's "
    "handshake POSTs X-Hook-Secret, which relay echoes but does not store yet: put that "
    "secret in secrets (it signs X-Hook-Signature).",
)


SENDING: Final = Sending(
    sign=hex_signer(NAME, "x-hook-signature"),
    signs_with="the hook secret Asana sent in X-Hook-Secret when the webhook was created",
    sample=Sample(
        payload={
            "events": [
                {
                    "user": {"gid": "1203456789", "resource_type": "user"},
                    "created_at": "2024-05-01T12:00:00.000Z",
                    "action": "changed",
                    "resource": {"gid": "1204567890", "resource_type": "task"},
                    "parent": None,
                    "change": {"field": "completed", "action": "changed"},
                }
            ]
        },
    ),
)
