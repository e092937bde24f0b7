"""Resend: Standard Webhooks sent through Svix, with the ``svix-`` header prefix.

Same secret format, options and event naming as ``svix``: see there.
"""

from __future__ import annotations

from typing import Final

from relay.providers.sender import WHSEC_KEY, Sending
from relay.providers.standard_webhooks import svix_sample
from relay.providers.svix import svix_signer, svix_spec

__all__ = ["SENDING", "SPEC"]

SPEC: Final = svix_spec(
    "resend",
    hint="Webhooks > Add Webhook: paste the URL, pick the events your routes use, copy "
    "the signing secret (whsec_...).",
)


SENDING: Final = Sending(
    sign=svix_signer("resend"),
    signs_with=WHSEC_KEY,
    sample=svix_sample(
        "email.sent",
        {"email_id": "56761188-7520-42d8-8898-ff6fc54ce618", "to": ["delivered@resend.dev"]},
    ),
)
