"""Linear: ``Linear-Signature: <hex>``, HMAC-SHA256 of the raw body.

Replay protection is in the body: ``webhookTimestamp`` (unix milliseconds) must be within
``tolerance`` seconds (default 60) of now. The body is parsed for it only after the signature
matched. The event type is ``"{type}.{action}"`` (``Issue.create``), or ``type`` alone; the id
is the ``Linear-Delivery`` header.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from relay.providers._schemes import Scheme, body, header, joined, json_object
from relay.providers.base import VerificationError
from relay.providers.sample import BodyPath, Fresh, Header, Sample
from relay.providers.sender import SHARED_KEY, Sending

__all__ = ["SCHEME", "SENDING", "SPEC"]

#: 10**14 ms is in the year 5138: larger values are not timestamps (and would overflow floats).
_MAX_MILLIS: Final = 10**14


def webhook_timestamp(raw: bytes) -> float:
    """The body's ``webhookTimestamp`` in seconds; ``VerificationError`` when absent or odd."""
    data = json_object(raw)
    value = None if data is None else data.get("webhookTimestamp")
    if value is None:
        raise VerificationError("missing_timestamp", "the body has no webhookTimestamp")
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < _MAX_MILLIS:
        raise VerificationError("invalid_timestamp", "webhookTimestamp is not unix milliseconds")
    return value / 1000


SCHEME: Final = Scheme(
    name="linear",
    header="linear-signature",
    tolerance=60.0,
    body_timestamp=webhook_timestamp,
    event_type=joined(body("type"), body("action")),
    event_id=header("linear-delivery"),
)
SPEC: Final = SCHEME.spec(
    hint="Settings > API > Webhooks > New webhook: paste the URL, pick resource types; "
    "copy the signing secret (Linear-Signature)."
)


# ---------------------------------------------------------------- sending side (relay send)

_TEAM: Final = {"id": "72b2a2dc-6f4f-4423-9d34-24b5bd10634a", "key": "ENG", "name": "Engineering"}
_ACTOR: Final = {
    "id": "0a5e9b1e-0fbb-4c1b-9a1f-2a3c7b5e8d11",
    "name": "Ada Lovelace",
    "email": "ada@example.com",
    "type": "user",
}
_LINEAR_AT = "2024-05-01T12:00:00.000Z"
_LINEAR_ISSUE: Final = {
    "id": "2174add1-f7c8-44e3-bbf3-2d60b5ea8bc9",
    "identifier": "ENG-7",
    "number": 7,
    "title": "Crash on start",
    "description": "The app crashes right after start on macOS 14.",
    "priority": 2,
    "priorityLabel": "High",
    "estimate": None,
    "url": "https://linear.app/example/issue/ENG-7/crash-on-start",
    "createdAt": _LINEAR_AT,
    "updatedAt": _LINEAR_AT,
    "teamId": _TEAM["id"],
    "team": _TEAM,
    "stateId": "5d2a0b3c-8e1f-4a6b-9c7d-1e2f3a4b5c6d",
    "state": {"id": "5d2a0b3c-8e1f-4a6b-9c7d-1e2f3a4b5c6d", "name": "Todo", "type": "unstarted"},
    "creatorId": _ACTOR["id"],
    "assigneeId": None,
    "labelIds": [],
    "labels": [],
    "subscriberIds": [_ACTOR["id"]],
}


def _linear(kind: str, action: str, data: dict[str, Any], **extra: Any) -> Sample:
    return Sample(
        payload={
            "action": action,
            "actor": _ACTOR,
            "createdAt": _LINEAR_AT,
            "data": data,
            "url": data.get("url", _LINEAR_ISSUE["url"]),
            "type": kind,
            "organizationId": "c9b1b0b6-0b0b-4c4b-8b8b-0b0b0b0b0b0b",
            "webhookTimestamp": 0,
            "webhookId": "e1c2b3a4-5d6e-4f70-8a9b-0c1d2e3f4a5b",
            **extra,
        },
        event=(BodyPath(("type",)),),
        event_id=Fresh(Header("linear-delivery")),
        millis=("webhookTimestamp",),
    )


_EVENTS: Final[Mapping[str, Sample]] = {
    "Issue.create": _linear("Issue", "create", _LINEAR_ISSUE),
    "Issue.update": _linear(
        "Issue",
        "update",
        {
            **_LINEAR_ISSUE,
            "stateId": "8c1f2e3d-4b5a-6978-8a9b-c0d1e2f3a4b5",
            "state": {
                "id": "8c1f2e3d-4b5a-6978-8a9b-c0d1e2f3a4b5",
                "name": "Done",
                "type": "completed",
            },
        },
        updatedFrom={"stateId": _LINEAR_ISSUE["stateId"], "updatedAt": _LINEAR_AT},
    ),
    "Comment.create": _linear(
        "Comment",
        "create",
        {
            "id": "a3f1c2d4-5e6f-4a7b-8c9d-0e1f2a3b4c5d",
            "body": "Reproduced on 1.2.0 too.",
            "issueId": _LINEAR_ISSUE["id"],
            "issue": {"id": _LINEAR_ISSUE["id"], "title": _LINEAR_ISSUE["title"]},
            "userId": _ACTOR["id"],
            "user": {"id": _ACTOR["id"], "name": _ACTOR["name"]},
            "createdAt": _LINEAR_AT,
            "updatedAt": _LINEAR_AT,
            "url": "https://linear.app/example/issue/ENG-7#comment-a3f1c2d4",
        },
    ),
}


SENDING: Final = Sending(
    sign=SCHEME.signer(),
    signs_with=SHARED_KEY,
    sample=Sample(
        payload={
            "action": "create",
            "type": "Issue",
            "createdAt": "2024-05-01T12:00:00.000Z",
            "organizationId": "c9b1b0b6-0b0b-4c4b-8b8b-0b0b0b0b0b0b",
            "url": "https://linear.app/team/issue/ENG-7",
            "data": {"id": "2174add1-f7c8-44e3-bbf3-2d60b5ea8bc9", "title": "Crash on start"},
            "webhookTimestamp": 0,
        },
        event=(BodyPath(("type",)),),
        event_id=Fresh(Header("linear-delivery")),
        millis=("webhookTimestamp",),
    ),
    events=_EVENTS,
)
