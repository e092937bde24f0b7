"""Paddle Billing: ``Paddle-Signature: ts=<unix>;h1=<hex>[;h1=<hex>]`` over ``"{ts}:{raw}"``.

HMAC-SHA256, hex, key = the notification destination's secret key. Several ``h1`` entries are
sent during a secret rotation. The replay window defaults to 5 seconds like Paddle's SDK
(option ``tolerance``; raise it if clocks drift). Type and id: the body's ``event_type`` and
``event_id``.
"""

from __future__ import annotations

from typing import Final

from relay.providers._schemes import Scheme, body
from relay.providers.sample import BodyPath, Fresh, Sample
from relay.providers.sender import SHARED_KEY, Sending

__all__ = ["SCHEME", "SENDING", "SPEC"]

SCHEME: Final = Scheme(
    name="paddle",
    header="paddle-signature",
    pairs=";",
    timestamp_key="ts",
    signature_key="h1",
    signed_prefix="{ts}:",
    tolerance=5.0,
    event_type=body("event_type"),
    event_id=body("event_id"),
)
SPEC: Final = SCHEME.spec(
    hint="Developer Tools > Notifications > New destination: paste the URL, pick events; "
    "copy the secret key (Paddle-Signature)."
)


SENDING: Final = Sending(
    sign=SCHEME.signer(),
    signs_with=SHARED_KEY,
    sample=Sample(
        payload={
            "event_id": "evt_01h8bzakzx3hm2fmen703n5q45",
            "event_type": "transaction.completed",
            "occurred_at": "2024-05-01T12:00:00.000000Z",
            "notification_id": "ntf_01h8bzam1z32agrxjwhjgqk8w6",
            "data": {"id": "txn_01h8bxpvx398a7zbawb77y0kp5", "status": "completed"},
        },
        event=(BodyPath(("event_type",)),),
        event_id=Fresh(BodyPath(("event_id",)), "hex", "evt_"),
    ),
)
