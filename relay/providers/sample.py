"""What a sample delivery is: a payload shaped like the provider's, and where its values live.

Each provider module exports its samples (in its ``SENDING``); ``relay.devtools`` sends them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal

__all__ = ["GENERIC", "BodyPath", "Fresh", "Header", "Sample", "SignerOption", "Where"]


@dataclass(frozen=True, slots=True)
class Header:
    """A request header (lower-case name)."""

    name: str


@dataclass(frozen=True, slots=True)
class BodyPath:
    """A field of the payload: dict keys and list indexes, outermost first."""

    path: tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class SignerOption:
    """An option of the provider's signer (an id that is part of the signed material)."""

    name: str


Where = Header | BodyPath | SignerOption


@dataclass(frozen=True, slots=True)
class Fresh:
    """The provider's delivery/event id, made fresh for every send: ``prefix`` + ``style``."""

    at: Where
    style: Literal["uuid", "hex", "int", "millis"] = "uuid"
    prefix: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Sample:
    """One realistic delivery of a provider.

    ``payload`` is JSON-compatible (a flat ``dict[str, str]`` sent form-encoded when ``form``);
    ``headers`` are the provider's non-authentication headers; ``event`` lists where the event
    type is (``--event`` writes all of them); ``event_id`` is where the id relay deduplicates
    on lives; ``millis`` is a body field holding the send time in milliseconds (Linear);
    ``event_prefix``: this sample stands for every event type starting with it (Slack's slash
    commands: ``/deploy``), written where ``event`` says.
    """

    payload: Any
    form: bool = False
    headers: Mapping[str, str] = field(default_factory=dict)
    event: tuple[Where, ...] = ()
    event_id: Fresh | None = None
    millis: tuple[str | int, ...] | None = None
    event_prefix: str | None = None

    @property
    def content_type(self) -> str:
        return "application/x-www-form-urlencoded" if self.form else "application/json"


#: For the configurable providers (hmac, ed25519, token, basic, none): read them with
#: ``event_type_path: type`` and ``event_id_path: id``.
GENERIC: Final = Sample(
    payload={
        "id": "evt_5f0c2a9d41b3",
        "type": "order.created",
        "created_at": "2024-05-01T12:00:00Z",
        "data": {"order_id": "ord_1042", "amount": 4200, "currency": "usd"},
    },
    event=(BodyPath(("type",)),),
    event_id=Fresh(BodyPath(("id",)), "hex", "evt_"),
)
