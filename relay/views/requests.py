"""The JSON API's request bodies: validated (pydantic), unlike the views it answers with
(``relay.views.models``), since they come from clients. A bad body is 400 ``bad_request``
naming the first field at fault (``relay.admin.actions``)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["BulkReplayRequest", "CancelRequest", "DeadLetterStatus", "ReplayRequest"]

DeadLetterStatus = Literal["dead", "failed", "needs_review"]


def _dead_only() -> list[DeadLetterStatus]:
    return ["dead"]


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BulkReplayRequest(_Request):
    """Which deliveries to re-queue: every filter given must hold; ``all: true`` is needed
    when none is given (a guard against replaying everything by mistake)."""

    status: list[DeadLetterStatus] = Field(default_factory=_dead_only)
    route: str | None = None
    target: str | None = None
    since: str | None = Field(default=None, description="updated within, e.g. 1h, or Unix seconds")
    reason: str | None = Field(default=None, description="a piece of the last error")
    all: bool = False
    dry_run: bool = False
    limit: int = Field(default=1000, ge=1, le=10000)


class ReplayRequest(_Request):
    """A succeeded delivery's replay runs its function again (side effects and all): it
    needs ``confirm: true`` (or ``?confirm=true``); other replays need nothing."""

    confirm: bool = False


class CancelRequest(_Request):
    reason: str | None = Field(default=None, max_length=500)
