"""From what one attempt produced to what the store records: pure functions.

``conclude`` turns a ``SendResult`` into the ``AttemptResult`` (the retry decision, whether
the attempt uses the budget, the reason shown in the delivery's transitions);
``interrupted`` is the result of an attempt cut short by shutdown; ``attempt_span`` and
``traced`` are the attempt's span (relay/tracing.py), a child of the request that brought the
event (its stored ``traceparent``), and what the span is told of the outcome.
"""

from __future__ import annotations

import datetime
import random

from relay.delivery.reasons import run_failure_reason
from relay.delivery.retry import Decision, Outcome, decide
from relay.delivery.sender import SendProgress, SendResult
from relay.store.base import AttemptResult, ClaimedDelivery, DeliveryStatus
from relay.targets import RetryPolicy, Target
from relay.tracing import CLIENT, Span, Tracing

__all__ = ["attempt_span", "conclude", "interrupted", "traced"]

S = DeliveryStatus


def interrupted(progress: SendProgress, duration_ms: float) -> SendResult:
    """Relay stopped during an attempt: if the request may have left, the run may have
    started (ambiguous); if it certainly did not, the delivery is released unsent."""
    if progress.may_have_been_sent and progress.run_id is not None:
        return SendResult(
            Outcome.UNSETTLED,
            duration_ms,
            error=f"relay stopped during the attempt; the next one asks the API whether run "
            f"{progress.run_id} started",
            function_run_id=progress.run_id,
        )
    if progress.may_have_been_sent:
        return SendResult(
            Outcome.AMBIGUOUS,
            duration_ms,
            error="relay stopped during the attempt; the run may have started",
        )
    return SendResult(
        Outcome.RELEASED, duration_ms, error="relay stopped before the request was sent"
    )


#: Outcomes that mark the attempt's span failed (its description: the outcome, never a body).
_FAILED = frozenset(
    {
        Outcome.RETRYABLE,
        Outcome.THROTTLED,
        Outcome.FATAL,
        Outcome.AMBIGUOUS,
        Outcome.RUN_FAILED,
        Outcome.UNSETTLED,
    }
)


def attempt_span(tracing: Tracing, target: Target, claimed: ClaimedDelivery) -> Span:
    """``relay.attempt`` (a client span): in the trace of the request that brought the event
    when its ``traceparent`` was stored, else a trace of its own."""
    d = claimed.delivery
    return tracing.span(
        "relay.attempt",
        kind=CLIENT,
        parent={"traceparent": d.traceparent} if d.traceparent else {},
        attributes={
            "relay.delivery_id": d.id,
            "relay.event_id": d.event_id,
            "relay.route": d.route,
            "relay.target": target.name,
            "relay.attempt": claimed.attempt_number,
        },
    )


def traced(span: Span, sent: SendResult) -> None:
    """Tell the attempt's span what its exchange produced."""
    span.set("relay.outcome", sent.outcome.value)
    span.set("http.response.status_code", sent.status_code)
    span.set("relay.run_id", sent.function_run_id)
    if sent.outcome in _FAILED:
        code = f" (HTTP {sent.status_code})" if sent.status_code is not None else ""
        span.error(f"{sent.outcome.value}{code}")


def conclude(
    sent: SendResult,
    claimed: ClaimedDelivery,
    *,
    now: float,
    rng: random.Random,
    pause_until: float | None = None,
    stopped_by: str | None = None,
) -> AttemptResult:
    """The attempt's record and the delivery's next status. ``pause_until`` is the target's
    pause after a 429 (the delivery waits for it rather than for its own backoff);
    ``stopped_by`` who had the run stopped while its start's answer was still coming."""
    delivery = claimed.delivery
    retry_after = sent.retry_after
    if sent.outcome is Outcome.THROTTLED and pause_until is not None:
        retry_after = max(0.0, pause_until - now)
    decision = decide(
        sent.outcome,
        attempt_number=delivery.budget_used + 1,
        max_attempts=delivery.max_attempts,
        policy=RetryPolicy.from_mapping(delivery.retry_policy),
        now=now,
        rng=rng,
        idempotent=delivery.idempotent,
        retry_after=retry_after,
    )
    if stopped_by is not None and sent.outcome is not Outcome.SUCCEEDED:
        decision = Decision(S.STOPPED)
    error = sent.error
    if sent.outcome is Outcome.RUN_FAILED and error is None:
        error = run_failure_reason(sent.result)
    if decision.status is S.STOPPED:
        run_id = sent.function_run_id or claimed.delivery.function_run_id
        error = f"run {run_id} stopped by {stopped_by}"
    return AttemptResult(
        finished_at=now,
        duration_ms=sent.duration_ms,
        outcome=sent.outcome.value,
        new_status=decision.status,
        next_attempt_at=decision.next_attempt_at,
        status_code=sent.status_code,
        error=error,
        function_run_id=sent.function_run_id,
        session_id=sent.session_id,
        run_status=sent.run_status,
        result=sent.result,
        logs=sent.logs,
        counts_toward_budget=decision.counts_toward_budget,
        reason=_reason(sent, error, decision, claimed),
        run_started_at=now - sent.duration_ms / 1000.0 if decision.status is S.RUNNING else None,
        actor=stopped_by if decision.status is S.STOPPED else None,
    )


def _at(ts: float | None) -> str:
    if ts is None:
        return "-"
    return datetime.datetime.fromtimestamp(ts, datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _reason(
    sent: SendResult, error: str | None, decision: Decision, claimed: ClaimedDelivery
) -> str:
    """One line for the transition: what happened, then what it means for the delivery."""
    what = error or (f"run {sent.run_status}" if sent.run_status else sent.outcome.value)
    used = claimed.delivery.budget_used + (1 if decision.counts_toward_budget else 0)
    budget = f"{used}/{claimed.delivery.max_attempts} attempts used"
    status = decision.status
    if status is S.RETRY_SCHEDULED:
        return f"{what}; retry at {_at(decision.next_attempt_at)} ({budget})"
    if status is S.PAUSED:
        return f"{what}; target paused until {_at(decision.next_attempt_at)}, attempt not counted"
    if status is S.PENDING:
        return f"{what}; released, attempt not counted"
    if status is S.RUNNING:
        return (
            f"{what}; the run goes on: following it" if sent.error else "run active: following it"
        )
    if status is S.NEEDS_REVIEW and sent.outcome is Outcome.UNSETTLED:
        return f"{what}; no attempts left to settle whether the run started: held for review"
    if status is S.NEEDS_REVIEW:
        return f"{what}; the run may have started and the route is not idempotent: held for review"
    if status is S.DEAD and sent.outcome is Outcome.FATAL:
        return f"{what}; final, not retried"
    if status is S.DEAD:
        return f"{what}; no attempts left ({budget})"
    return what
