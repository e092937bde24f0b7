"""Following a run to its end: what one look at a running run (or a stop) means for its
delivery, as pure functions returning the ``CheckResult`` the store records.

A running delivery is looked at (``GET runs/{run_id}``) a quarter of the run's age after the
last look, between 1 and 30 seconds: often while a run is young, rarely once it is long.
A run going on past its ``run_timeout`` is stopped through the API and recorded
``timed_out``; an operator's stop request is carried out the same way (``stopped``). When
the API cannot be reached, the run stays ``running`` and is looked at again; only a run the
API does not know (404), a refused key, or an API unreachable long after the run's deadline
goes to a person (``needs_review``, with the reason).
"""

from __future__ import annotations

from dataclasses import dataclass

from relay.delivery.reasons import run_failure_reason
from relay.delivery.retry import Outcome
from relay.delivery.runs_api import ApiFailure, RunState
from relay.store.base import CheckResult, DeliveryStatus

__all__ = ["MAX_CHECK_INTERVAL", "MIN_CHECK_INTERVAL", "Clockwork", "after_look", "after_stop"]

S = DeliveryStatus
MIN_CHECK_INTERVAL = 1.0
MAX_CHECK_INTERVAL = 30.0
# how long past its deadline a run whose outcome the API will not tell stays "running"
_SETTLE_GRACE = 600.0


@dataclass(frozen=True, slots=True)
class Clockwork:
    """The times a look is judged by."""

    now: float
    started_at: float  # when the run was started
    deadline: float  # started_at + run_timeout

    def next_look(self) -> float:
        age = max(0.0, self.now - self.started_at)
        return self.now + min(MAX_CHECK_INTERVAL, max(MIN_CHECK_INTERVAL, age / 4))

    @property
    def overdue(self) -> bool:
        return self.now >= self.deadline


def _ended(state: RunState, t: Clockwork, *, actor: str = "worker") -> CheckResult | None:
    """The record of a run that ended (None while it goes on)."""
    logs = state.logs
    if state.status == "closed":
        return CheckResult(
            at=t.now,
            new_status=S.SUCCEEDED,
            run_status="closed",
            session_id=state.session_id,
            result=state.result,
            logs=logs,
            reason=f"run {state.run_id} closed",
            actor=actor,
        )
    if state.status == "failed":
        reason = run_failure_reason(state.result)  # "run failed: <the function's error>"
        if state.stopped:
            reason = reason.replace("run failed", "run stopped outside relay", 1)
        error = f"{reason} (run {state.run_id})"
        return CheckResult(
            at=t.now,
            new_status=S.FAILED,
            run_status="failed",
            session_id=state.session_id,
            result=state.result,
            logs=logs,
            error=error,
            actor=actor,
        )
    return None


def _unreachable(failure: ApiFailure, run_id: str, t: Clockwork, doing: str) -> CheckResult:
    if failure.outcome is Outcome.FATAL and failure.status_code == 404:
        return CheckResult(
            at=t.now,
            new_status=S.NEEDS_REVIEW,
            error=f"{doing} run {run_id}: the API does not know it ({failure.error})",
        )
    if failure.outcome is Outcome.FATAL or t.now >= t.deadline + _SETTLE_GRACE:
        return CheckResult(
            at=t.now,
            new_status=S.NEEDS_REVIEW,
            error=f"{doing} run {run_id}: the API could not tell how it ended ({failure.error})",
        )
    return CheckResult(
        at=t.now,
        new_status=S.RUNNING,
        next_check_at=t.next_look(),
        error=f"{doing} run {run_id}: {failure.error}; looking again",
    )


def after_look(look: RunState | ApiFailure, run_id: str, t: Clockwork) -> CheckResult:
    """A look at the run (its deadline and stop requests are the caller's: see
    ``after_stop``)."""
    if isinstance(look, ApiFailure):
        return _unreachable(look, run_id, t, "reading")
    ended = _ended(look, t)
    if ended is not None:
        return ended
    unknown = None if look.status in (None, "active") else f"unknown run status {look.status!r}"
    return CheckResult(
        at=t.now,
        new_status=S.RUNNING,
        next_check_at=t.next_look(),
        run_status=look.status if look.status == "active" else None,
        session_id=look.session_id,
        error=unknown,
    )


def after_stop(
    stopped: ApiFailure | None,
    look: RunState | ApiFailure | None,
    run_id: str,
    t: Clockwork,
    *,
    requested_by: str | None,
) -> CheckResult:
    """The run was asked to stop (``requested_by`` an operator, or None: its deadline
    passed); ``look`` is what the API said of it afterwards (None: not asked)."""
    state = look if isinstance(look, RunState) else None
    if stopped is not None:  # the stop was refused: maybe the run ended meanwhile
        if state is not None and (ended := _ended(state, t)) is not None:
            return ended
        return _unreachable(stopped, run_id, t, "stopping")
    if state is not None and state.status == "closed" and not state.stopped:
        return _ended(state, t) or after_look(state, run_id, t)  # it ended before the stop
    requested = requested_by is not None
    limit = t.deadline - t.started_at
    return CheckResult(
        at=t.now,
        new_status=S.STOPPED if requested else S.TIMED_OUT,
        run_status="failed",
        session_id=None if state is None else state.session_id,
        result=None if state is None else state.result,
        logs=None if state is None else state.logs,
        error=f"run {run_id} stopped by {requested_by}"
        if requested
        else f"run {run_id} still running after its run_timeout ({limit:g} s): stopped",
        actor=requested_by or "worker",
    )
