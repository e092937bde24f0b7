"""Typeform: ``Typeform-Signature: sha256=<base64>``, HMAC-SHA256 of the raw body.

The event is the body's ``event_type`` (``form_response``), the id its ``event_id``.
"""

from __future__ import annotations

from typing import Final

from relay.providers._schemes import Scheme, body
from relay.providers.sample import BodyPath, Fresh, Sample
from relay.providers.sender import SHARED_KEY, Sending

__all__ = ["SCHEME", "SENDING", "SPEC"]

SCHEME: Final = Scheme(
    name="typeform",
    header="typeform-signature",
    encoding="base64",
    prefix="sha256=",
    event_type=body("event_type"),
    event_id=body("event_id"),
)
SPEC: Final = SCHEME.spec(
    hint="Form > Connect > Webhooks > Add a webhook: paste the URL; Edit > Secret "
    "sets the secret (Typeform-Signature)."
)


SENDING: Final = Sending(
    sign=SCHEME.signer(),
    signs_with=SHARED_KEY,
    sample=Sample(
        payload={
            "event_id": "LtWXD3crgy",
            "event_type": "form_response",
            "form_response": {"form_id": "lT4Z3j", "token": "a3a12ec67a1365927098a606107fac15"},
        },
        event=(BodyPath(("event_type",)),),
        event_id=Fresh(BodyPath(("event_id",)), "hex"),
    ),
)
