"""A delivery's state machine: which status may follow which, and who moves it.

    pending ──claim──▶ in_flight ──▶ succeeded | failed | dead | needs_review
       ▲                   │ ├──▶ retry_scheduled ──claim──▶ in_flight ...
       │                   │ └──▶ paused (429: waits on its target) ──claim──▶ in_flight ...
       └── released unsent ┘
    replay: succeeded | failed | dead | needs_review | cancelled ──▶ pending
    cancel: pending | retry_scheduled | paused | needs_review ──▶ cancelled
    retry now: retry_scheduled | paused ──▶ pending (due now, same attempt budget)

``mapping_failed`` is set when the event is stored and never changes. Every move is stored
as a transition row (delivery_id, at, from_status, to_status, reason, actor).
"""

from __future__ import annotations

from collections.abc import Mapping

from relay.store.base import DeliveryStatus

__all__ = ["ALLOWED", "IllegalTransition", "check_transition"]

S = DeliveryStatus

ALLOWED: Mapping[DeliveryStatus, frozenset[DeliveryStatus]] = {
    S.PENDING: frozenset({S.IN_FLIGHT, S.CANCELLED}),
    S.RETRY_SCHEDULED: frozenset({S.IN_FLIGHT, S.CANCELLED, S.PENDING}),  # pending: retry now
    S.PAUSED: frozenset({S.IN_FLIGHT, S.CANCELLED, S.PENDING}),
    S.IN_FLIGHT: frozenset(
        {
            S.SUCCEEDED,
            S.FAILED,
            S.DEAD,
            S.NEEDS_REVIEW,
            S.RETRY_SCHEDULED,
            S.PAUSED,
            S.PENDING,  # released before the request was sent, or recovered (idempotent)
        }
    ),
    S.NEEDS_REVIEW: frozenset({S.PENDING, S.CANCELLED}),
    S.SUCCEEDED: frozenset({S.PENDING}),
    S.FAILED: frozenset({S.PENDING}),
    S.DEAD: frozenset({S.PENDING}),
    S.CANCELLED: frozenset({S.PENDING}),
    S.MAPPING_FAILED: frozenset(),
}


class IllegalTransition(ValueError):
    pass


def check_transition(from_status: DeliveryStatus | None, to_status: DeliveryStatus) -> None:
    """Raise ``IllegalTransition`` unless ``from_status -> to_status`` is a move of the
    machine (``None``: the delivery is being created, any first status is allowed)."""
    if from_status is None:
        return
    if to_status not in ALLOWED[from_status]:
        raise IllegalTransition(f"a delivery cannot go from {from_status} to {to_status}")
