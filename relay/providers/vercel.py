"""Vercel: ``x-vercel-signature: <hex>``, HMAC-SHA1 of the raw body.

The event is the body's ``type`` (``deployment.succeeded``), the id the body's ``id``.
"""

from __future__ import annotations

from typing import Final

from relay.providers._schemes import Scheme, body
from relay.providers.sample import BodyPath, Fresh, Sample
from relay.providers.sender import SHARED_KEY, Sending

__all__ = ["SCHEME", "SENDING", "SPEC"]

SCHEME: Final = Scheme(
    name="vercel",
    header="x-vercel-signature",
    algorithm="sha1",
    event_type=body("type"),
    event_id=body("id"),
)
SPEC: Final = SCHEME.spec(
    hint="Team Settings > Webhooks > Create Webhook: paste the URL, pick events and "
    "projects; copy the secret shown once (x-vercel-signature)."
)


SENDING: Final = Sending(
    sign=SCHEME.signer(),
    signs_with=SHARED_KEY,
    sample=Sample(
        payload={
            "id": "Ojp5N8uYw7bz5M0UBcAVpH3D",
            "type": "deployment.succeeded",
            "createdAt": 1714564800000,
            "payload": {"deployment": {"id": "dpl_2D8Cs3zo", "url": "app-abc.vercel.app"}},
        },
        event=(BodyPath(("type",)),),
        event_id=Fresh(BodyPath(("id",)), "hex"),
    ),
)
