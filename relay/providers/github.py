"""GitHub: ``X-Hub-Signature-256: sha256=<hex>``, HMAC-SHA256 of the raw body.

GitHub's ``ping`` is an ordinary signed event, so there is no handshake. The event type comes
from ``X-GitHub-Event`` and the delivery id from ``X-GitHub-Delivery``. A webhook set to
``application/x-www-form-urlencoded`` (GitHub's default) carries the JSON in ``payload=``;
it is routed as that JSON (the signature covers the form as sent).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from relay.providers._hmac import (
    decode_signature,
    digest_size,
    matches_any,
    reject_unknown_options,
    utf8_keys,
)
from relay.providers.base import HandshakeReply, ProviderSpec, VerificationError, WebhookRequest

__all__ = ["SPEC", "GitHubProvider", "build"]

NAME: Final = "github"
SIGNATURE_HEADER: Final = "x-hub-signature-256"
EVENT_HEADER: Final = "x-github-event"
DELIVERY_HEADER: Final = "x-github-delivery"
_PREFIX: Final = "sha256="
_SIZE: Final = digest_size("sha256")


class GitHubProvider:
    """Verifies GitHub deliveries against one or more secrets (any one matching accepts)."""

    def __init__(self, keys: Sequence[bytes]) -> None:
        self.name: str = NAME
        self._keys = tuple(keys)

    def __repr__(self) -> str:
        return f"GitHubProvider(secrets={len(self._keys)})"

    def handshake(self, request: WebhookRequest, now: float) -> HandshakeReply | None:
        return None

    def verify(self, request: WebhookRequest, now: float) -> None:
        header = request.headers.get(SIGNATURE_HEADER)
        if header is None:
            raise VerificationError("missing_signature", "X-Hub-Signature-256 header is missing")
        if not header.startswith(_PREFIX):
            raise VerificationError(
                "malformed_signature", "X-Hub-Signature-256 must start with 'sha256='"
            )
        candidate = decode_signature(header[len(_PREFIX) :], "hex", size=_SIZE)
        if not matches_any(self._keys, request.body, (candidate,), "sha256"):
            raise VerificationError(
                "signature_mismatch", "X-Hub-Signature-256 does not match the body"
            )

    def event_id(self, request: WebhookRequest, body: Any) -> str | None:
        return request.headers.get(DELIVERY_HEADER) or None

    def event_type(self, request: WebhookRequest, body: Any) -> str | None:
        return request.headers.get(EVENT_HEADER) or None


def build(secrets: Sequence[str], options: Mapping[str, Any]) -> GitHubProvider:
    reject_unknown_options(options, ())
    return GitHubProvider(utf8_keys(secrets))


#: GitHub's "Content type: application/x-www-form-urlencoded" sends the JSON as ``payload=``.
SPEC: Final = ProviderSpec(name=NAME, build=build, form_json_field="payload")
