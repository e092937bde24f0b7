"""A delivery's state machine: which status may follow which, and who moves it.

    pending ──claim──▶ in_flight ──▶ succeeded | failed | dead | needs_review
       ▲                   │ ├──▶ retry_scheduled ──claim──▶ in_flight ...
       │                   │ ├──▶ paused (429: waits on its target) ──claim──▶ in_flight ...
       │                   │ └──▶ running (the run goes on) ──checks──▶ succeeded | failed |
       │                   │                                  timed_out | stopped | needs_review
       └── released unsent ┘
    replay: succeeded | failed | dead | needs_review | cancelled | timed_out | stopped ──▶ pending
    cancel: pending | retry_scheduled | paused | needs_review ──▶ cancelled
    retry now: retry_scheduled | paused ──▶ pending (due now, same attempt budget)

``recovered`` is what a lease that expired (a dead worker's attempt) becomes, written once for
every backend.

``mapping_failed`` is set when the event is stored and never changes. Every move is stored
as a transition row (delivery_id, at, from_status, to_status, reason, actor).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from relay.store.base import DeliveryRecord, DeliveryStatus
from relay.store.log_queries import DeliveryQuery

__all__ = [
    "ALLOWED",
    "RECOVER_ERROR",
    "RUN_CREATED",
    "IllegalTransition",
    "check_transition",
    "filter_detail",
    "recovered",
    "replayed",
]

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
            S.RUNNING,  # the run started and goes on: relay follows it
            S.STOPPED,  # an operator stopped the run while its start's answer streamed
        }
    ),
    S.RUNNING: frozenset({S.SUCCEEDED, S.FAILED, S.TIMED_OUT, S.STOPPED, S.NEEDS_REVIEW}),
    S.NEEDS_REVIEW: frozenset({S.PENDING, S.CANCELLED}),
    S.SUCCEEDED: frozenset({S.PENDING}),
    S.FAILED: frozenset({S.PENDING}),
    S.DEAD: frozenset({S.PENDING}),
    S.CANCELLED: frozenset({S.PENDING}),
    S.TIMED_OUT: frozenset({S.PENDING}),
    S.STOPPED: frozenset({S.PENDING}),
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


RECOVER_ERROR = "relay stopped before the attempt's outcome was known"

#: ``deliveries.run_status`` of a run created (two-step start) whose start is not known yet.
RUN_CREATED = "created"


def recovered(
    *,
    function_run_id: str | None,
    run_status: str | None,
    idempotent: bool,
    budget_used: int,
    max_attempts: int,
    two_step: bool = False,
) -> tuple[DeliveryStatus, str]:
    """What an in-flight delivery whose lease expired becomes, and why (``budget_used``
    counts the interrupted attempt). A run relay knows the id of is never left to a person:
    one that may have started is followed (``running``: its status is asked of the API);
    one created but maybe not started is attempted again, and that attempt asks the API
    before it starts anything. A two-step start without a stored run id sent no start (the
    id is stored before the start): it is attempted again like an idempotent one."""
    if function_run_id is not None and run_status != RUN_CREATED:
        return S.RUNNING, f"{RECOVER_ERROR}: run {function_run_id} is followed through the API"
    if function_run_id is not None:
        if budget_used < max_attempts:
            return S.PENDING, (
                f"{RECOVER_ERROR}: run {function_run_id} was created; the next attempt asks "
                "the API whether it started before starting it"
            )
        return S.NEEDS_REVIEW, (
            f"{RECOVER_ERROR}: run {function_run_id} was created, no attempts left to settle "
            "whether it started"
        )
    if two_step and budget_used < max_attempts:
        return S.PENDING, f"{RECOVER_ERROR}: no run was created yet, nothing started: re-queued"
    if not idempotent and not two_step:
        return S.NEEDS_REVIEW, f"{RECOVER_ERROR}: not idempotent, held for review"
    if budget_used < max_attempts:
        return S.PENDING, f"{RECOVER_ERROR}: idempotent, re-queued"
    return S.DEAD, f"{RECOVER_ERROR}: no attempts left"


def replayed(record: DeliveryRecord, now: float) -> DeliveryRecord:
    """``record`` replayed at ``now``: pending and due, with a fresh attempt budget (its retry
    policy's ``max_attempts`` more than it has used), its run forgotten."""
    budget = int(record.retry_policy.get("max_attempts", record.max_attempts))
    return dataclasses.replace(
        record,
        status=S.PENDING,
        next_attempt_at=now,
        max_attempts=record.budget_used + budget,
        updated_at=now,
        last_error=None,
        function_run_id=None,
        run_status=None,
        run_started_at=None,
        stop_requested_by=None,
    )


def filter_detail(selection: DeliveryQuery) -> dict[str, Any]:
    """The audit entry's detail of a bulk move over ``selection``."""
    return {
        "statuses": [s.value for s in selection.statuses],
        "route": selection.route,
        "target": selection.target,
        "since": selection.since,
        "reason": selection.reason,
        "limit": selection.limit,
    }
