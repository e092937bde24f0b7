"""Retry decisions as pure functions: an attempt's outcome in, the delivery's next state out."""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from relay.store.base import DeliveryStatus

__all__ = ["Decision", "Outcome", "RetryPolicy", "backoff_delay", "decide"]


class Outcome(StrEnum):
    """How one attempt ended, from relay's point of view."""

    SUCCEEDED = "succeeded"  # 2xx and the run did not report failure
    RUN_FAILED = "run_failed"  # 2xx, but the run's status is "failed"
    RETRYABLE = "retryable"  # not sent (connect error), 429, 5xx
    FATAL = "fatal"  # 4xx other than 429: retrying cannot help
    AMBIGUOUS = "ambiguous"  # sent, but no complete answer came back


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_attempts: int = 8
    initial: float = 5.0
    max: float = 3600.0
    multiplier: float = 2.0
    jitter: float = 0.2

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> RetryPolicy:
        fields = {
            k: data[k]
            for k in ("max_attempts", "initial", "max", "multiplier", "jitter")
            if k in data
        }
        return cls(**fields)


@dataclass(frozen=True, slots=True)
class Decision:
    status: DeliveryStatus
    next_attempt_at: float | None = None


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
    """The delivery's next state after an attempt."""
    if outcome is Outcome.SUCCEEDED:
        return Decision(DeliveryStatus.SUCCEEDED)
    if outcome is Outcome.RUN_FAILED:
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
