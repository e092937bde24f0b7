"""Retry decisions as pure functions: an attempt's outcome in, the delivery's next state out."""

from __future__ import annotations

import random
from dataclasses import dataclass
from enum import StrEnum

from relay.store.base import DeliveryStatus
from relay.targets import RetryPolicy

__all__ = ["FIRST_CHECK", "Decision", "Outcome", "backoff_delay", "decide"]

#: Seconds from a run answered ``active`` to relay's first look at it.
FIRST_CHECK = 1.0


class Outcome(StrEnum):
    """How one attempt ended, from relay's point of view."""

    SUCCEEDED = "succeeded"  # 2xx and the run did not report failure
    RUN_FAILED = "run_failed"  # 2xx, but the run's status is "failed"
    RETRYABLE = "retryable"  # not sent (refused, DNS, TLS), 500, 502, 503, 504
    THROTTLED = "throttled"  # 429: the target pauses; the attempt does not use the budget
    FATAL = "fatal"  # 4xx other than 429 (or a redirect): retrying cannot help
    AMBIGUOUS = "ambiguous"  # sent, but no complete answer came back
    RELEASED = "released"  # relay stopped before the request was sent
    RUN_ACTIVE = "run_active"  # the run started and goes on: followed through the API
    # a two-step start sent without a clear answer: the run id is known, so the next attempt
    # asks the API whether it started (and follows it) before it starts anything
    UNSETTLED = "unsettled"


@dataclass(frozen=True, slots=True)
class Decision:
    status: DeliveryStatus
    next_attempt_at: float | None = None
    counts_toward_budget: bool = True


def backoff_delay(policy: RetryPolicy, attempt_number: int, rng: random.Random) -> float:
    """Delay before attempt ``attempt_number + 1``: exponential, capped, +/- jitter."""
    base = min(policy.max, policy.initial * policy.multiplier ** max(attempt_number - 1, 0))
    spread = base * policy.jitter
    return max(0.0, base + rng.uniform(-spread, spread))


def decide(
    outcome: Outcome,
    *,
    attempt_number: int,
    max_attempts: int,
    policy: RetryPolicy,
    now: float,
    rng: random.Random,
    idempotent: bool = False,
    retry_after: float | None = None,
) -> Decision:
    """The delivery's next state after an attempt.

    ``attempt_number`` counts the attempts that use the budget, this one included. A 429
    (``THROTTLED``) waits ``retry_after`` (the target's pause) as ``paused`` and a release
    goes back to ``pending``; neither uses the budget. A retry is always strictly after
    ``now``.
    """
    if outcome is Outcome.THROTTLED:
        wait = max(retry_after or 0.0, 0.0)
        return Decision(DeliveryStatus.PAUSED, now + max(wait, 0.001), counts_toward_budget=False)
    if outcome is Outcome.RELEASED:
        return Decision(DeliveryStatus.PENDING, now, counts_toward_budget=False)
    if outcome is Outcome.SUCCEEDED:
        return Decision(DeliveryStatus.SUCCEEDED)
    if outcome is Outcome.RUN_ACTIVE:
        return Decision(DeliveryStatus.RUNNING, now + FIRST_CHECK)
    if outcome is Outcome.UNSETTLED:
        if attempt_number >= max_attempts:
            return Decision(DeliveryStatus.NEEDS_REVIEW)
        return Decision(
            DeliveryStatus.RETRY_SCHEDULED,
            now + max(min(backoff_delay(policy, attempt_number, rng), 30.0), 0.001),
        )
    if outcome is Outcome.RUN_FAILED and (
        not policy.on_run_failure or attempt_number >= max_attempts
    ):
        return Decision(DeliveryStatus.FAILED)
    if outcome is Outcome.FATAL:
        return Decision(DeliveryStatus.DEAD)
    if outcome is Outcome.AMBIGUOUS and not idempotent:
        return Decision(DeliveryStatus.NEEDS_REVIEW)
    if attempt_number >= max_attempts:
        return Decision(DeliveryStatus.DEAD)
    delay = backoff_delay(policy, attempt_number, rng)
    if retry_after is not None:
        delay = max(delay, retry_after)
    return Decision(DeliveryStatus.RETRY_SCHEDULED, now + max(delay, 0.001))
