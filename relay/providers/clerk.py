"""Clerk: Standard Webhooks sent through Svix, with the ``svix-`` header prefix.

Same secret format, options and event naming as ``svix``: see there.
"""

from __future__ import annotations

from typing import Final

from relay.providers.sample import BodyPath, Fresh, Sample, SignerOption
from relay.providers.sender import WHSEC_KEY, Sending
from relay.providers.svix import svix_signer, svix_spec

__all__ = ["SENDING", "SPEC"]

SPEC: Final = svix_spec(
    "clerk",
    hint="Dashboard > Configure > Webhooks > Add Endpoint: paste the URL, pick events "
    "your routes use, copy the Signing Secret (whsec_...) into secrets.",
)


SENDING: Final = Sending(
    sign=svix_signer("clerk"),
    signs_with=WHSEC_KEY,
    sample=Sample(
        payload={
            "data": {
                "id": "user_29w83sxmDNGwOuEthce5gg56FcC",
                "email_addresses": [{"email_address": "example@example.org"}],
                "first_name": "Example",
                "object": "user",
            },
            "object": "event",
            "type": "user.created",
            "timestamp": 1714564800000,
        },
        event=(BodyPath(("type",)),),
        event_id=Fresh(SignerOption("msg_id"), "hex", "msg_"),
    ),
)
