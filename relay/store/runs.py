"""Decisions about runs followed to their end that every backend shares (pure functions):
what a check writes, and whether a delivery's run can be stopped."""

from __future__ import annotations

from dataclasses import dataclass

from relay.store.base import CheckResult, DeliveryRecord, DeliveryStatus
from relay.store.lifecycle import check_transition

__all__ = ["CheckFields", "check_fields", "stop_refusal"]

S = DeliveryStatus


@dataclass(frozen=True, slots=True)
class CheckFields:
    final: bool  # the delivery leaves RUNNING (a transition is stored)
    reason: str  # the transition's reason
    writes_attempt: bool  # the run's status, result or logs go on the attempt that started it


def check_fields(check: CheckResult) -> CheckFields:
    """Raises ``IllegalTransition`` for a status a running delivery cannot move to."""
    final = check.new_status is not S.RUNNING
    if final:
        check_transition(S.RUNNING, check.new_status)
    reason = check.reason or check.error or f"run {check.run_status or check.new_status.value}"
    writes = final or check.logs is not None or check.session_id is not None
    return CheckFields(final=final, reason=reason, writes_attempt=writes)


def stop_refusal(record: DeliveryRecord) -> str | None:
    """Why ``record``'s run cannot be stopped from relay (None: it can)."""
    if record.status is S.RUNNING:
        return None
    if record.status is S.IN_FLIGHT:
        if record.function_run_id is not None:
            return None
        return (
            f"delivery {record.id} is in_flight and its run id is not known yet (a one-step "
            "start tells it only in its answer): it cannot be stopped through the API"
        )
    return f"delivery {record.id} is {record.status.value}: only a running run can be stopped"
