"""Bitbucket: ``X-Hub-Signature: sha256=<hex>``, HMAC-SHA256 of the raw body.

Bitbucket sends no signature header at all when the webhook has no secret; such requests are
refused. The event is ``X-Event-Key`` (``repo:push``), the delivery id ``X-Request-UUID``
(Bitbucket Cloud) or ``X-Request-Id`` (Data Center, same signature scheme). ``X-Hook-UUID`` is
deliberately not used: it names the webhook, so every delivery would look like a duplicate.
"""

from __future__ import annotations

from typing import Final

from relay.providers._schemes import Scheme, header
from relay.providers.sample import Fresh, Header, Sample
from relay.providers.sender import SHARED_KEY, Sending

__all__ = ["SCHEME", "SENDING", "SPEC"]

SCHEME: Final = Scheme(
    name="bitbucket",
    header="x-hub-signature",
    prefix="sha256=",
    event_type=header("x-event-key"),
    event_id=header("x-request-uuid", "x-request-id"),
)
SPEC: Final = SCHEME.spec(
    hint="Repository settings > Webhooks > Add webhook: paste the URL, set a Secret "
    "(X-Hub-Signature), pick the triggers your routes use."
)


SENDING: Final = Sending(
    sign=SCHEME.signer(),
    signs_with=SHARED_KEY,
    sample=Sample(
        payload={
            "push": {"changes": [{"new": {"type": "branch", "name": "main"}, "created": False}]},
            "repository": {"full_name": "team/repo", "type": "repository"},
            "actor": {"display_name": "Ada Lovelace", "type": "user"},
        },
        headers={"x-event-key": "repo:push", "x-hook-uuid": "9f1d8c58-6b59-4cd8-b3f4-0e2c7d1c2a11"},
        event=(Header("x-event-key"),),
        event_id=Fresh(Header("x-request-uuid")),
    ),
)
