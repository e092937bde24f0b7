from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from relay.delivery.retry import Decision, Outcome, backoff_delay, decide
from relay.store.base import DeliveryStatus
from relay.targets import RetryPolicy

NOW = 1_700_000_000.0
EXACT = RetryPolicy(max_attempts=5, initial=5.0, max=100.0, multiplier=2.0, jitter=0.0)


def decide_after(
    outcome: Outcome,
    *,
    attempt_number: int = 1,
    max_attempts: int = 5,
    policy: RetryPolicy = EXACT,
    idempotent: bool = False,
    retry_after: float | None = None,
) -> Decision:
    return decide(
        outcome,
        attempt_number=attempt_number,
        max_attempts=max_attempts,
        policy=policy,
        now=NOW,
        rng=random.Random(0),
        idempotent=idempotent,
        retry_after=retry_after,
    )


@pytest.mark.parametrize(
    ("outcome", "status"),
    [
        (Outcome.SUCCEEDED, DeliveryStatus.SUCCEEDED),
        (Outcome.RUN_FAILED, DeliveryStatus.FAILED),
        (Outcome.FATAL, DeliveryStatus.DEAD),
    ],
)
def test_final_outcomes_end_the_delivery_without_a_next_attempt(
    outcome: Outcome, status: DeliveryStatus
) -> None:
    assert decide_after(outcome) == Decision(status, None)


@pytest.mark.parametrize("outcome", [Outcome.SUCCEEDED, Outcome.RUN_FAILED, Outcome.FATAL])
def test_final_outcomes_ignore_idempotence_and_retry_after(outcome: Outcome) -> None:
    plain = decide_after(outcome)
    assert decide_after(outcome, idempotent=True, retry_after=30.0) == plain


def test_ambiguous_non_idempotent_needs_review() -> None:
    assert decide_after(Outcome.AMBIGUOUS) == Decision(DeliveryStatus.NEEDS_REVIEW, None)


def test_ambiguous_non_idempotent_needs_review_even_on_last_attempt() -> None:
    decision = decide_after(Outcome.AMBIGUOUS, attempt_number=5, max_attempts=5)
    assert decision == Decision(DeliveryStatus.NEEDS_REVIEW, None)


def test_ambiguous_idempotent_is_retried() -> None:
    decision = decide_after(Outcome.AMBIGUOUS, idempotent=True)
    assert decision == Decision(DeliveryStatus.RETRY_SCHEDULED, NOW + 5.0)


def test_retryable_schedules_a_retry_in_the_future() -> None:
    decision = decide_after(Outcome.RETRYABLE, attempt_number=2)
    assert decision.status is DeliveryStatus.RETRY_SCHEDULED
    assert decision.next_attempt_at is not None
    assert decision.next_attempt_at > NOW
    assert decision.next_attempt_at == NOW + 10.0


def test_retryable_with_default_jittered_policy_is_in_the_future() -> None:
    decision = decide_after(Outcome.RETRYABLE, policy=RetryPolicy())
    assert decision.status is DeliveryStatus.RETRY_SCHEDULED
    assert decision.next_attempt_at is not None
    assert NOW + 4.0 <= decision.next_attempt_at <= NOW + 6.0


@pytest.mark.parametrize("idempotent", [False, True])
def test_retryable_on_last_attempt_is_dead(idempotent: bool) -> None:
    decision = decide_after(
        Outcome.RETRYABLE, attempt_number=5, max_attempts=5, idempotent=idempotent
    )
    assert decision == Decision(DeliveryStatus.DEAD, None)


def test_ambiguous_idempotent_on_last_attempt_is_dead() -> None:
    decision = decide_after(Outcome.AMBIGUOUS, attempt_number=5, max_attempts=5, idempotent=True)
    assert decision == Decision(DeliveryStatus.DEAD, None)


def test_attempt_beyond_budget_is_dead() -> None:
    decision = decide_after(Outcome.RETRYABLE, attempt_number=7, max_attempts=5)
    assert decision.status is DeliveryStatus.DEAD


def test_retry_after_raises_the_delay_to_at_least_its_value() -> None:
    decision = decide_after(Outcome.RETRYABLE, retry_after=30.0)
    assert decision.next_attempt_at == NOW + 30.0


def test_retry_after_shorter_than_backoff_does_not_shorten_it() -> None:
    decision = decide_after(Outcome.RETRYABLE, attempt_number=3, retry_after=1.0)
    assert decision.next_attempt_at == NOW + 20.0


def test_retry_after_may_exceed_the_policy_cap() -> None:
    decision = decide_after(Outcome.RETRYABLE, retry_after=500.0)
    assert decision.next_attempt_at == NOW + 500.0


def test_zero_delay_still_schedules_strictly_after_now() -> None:
    policy = RetryPolicy(initial=0.0, jitter=0.0)
    decision = decide_after(Outcome.RETRYABLE, policy=policy, retry_after=0.0)
    assert decision.status is DeliveryStatus.RETRY_SCHEDULED
    assert decision.next_attempt_at is not None
    assert decision.next_attempt_at > NOW


@pytest.mark.parametrize(
    ("attempt_number", "delay"),
    [(0, 5.0), (1, 5.0), (2, 10.0), (3, 20.0), (4, 40.0), (5, 80.0), (6, 100.0), (30, 100.0)],
)
def test_backoff_delay_grows_exponentially_and_is_capped(attempt_number: int, delay: float) -> None:
    assert backoff_delay(EXACT, attempt_number, random.Random(0)) == delay


def test_backoff_delay_uses_the_multiplier() -> None:
    policy = RetryPolicy(initial=1.0, max=1000.0, multiplier=3.0, jitter=0.0)
    delays = [backoff_delay(policy, n, random.Random(0)) for n in range(1, 6)]
    assert delays == [1.0, 3.0, 9.0, 27.0, 81.0]


def test_backoff_jitter_stays_within_bounds() -> None:
    policy = RetryPolicy(initial=10.0, max=100.0, multiplier=2.0, jitter=0.25)
    rng = random.Random(1234)
    for attempt_number in range(1, 8):
        base = min(100.0, 10.0 * 2.0 ** (attempt_number - 1))
        delays = [backoff_delay(policy, attempt_number, rng) for _ in range(200)]
        assert all(base * 0.75 <= d <= base * 1.25 for d in delays)
        assert len(set(delays)) > 1, "jitter should vary the delay"
        assert min(delays) < base < max(delays)


def test_backoff_jitter_is_reproducible_with_a_seeded_rng() -> None:
    policy = RetryPolicy()
    first = [backoff_delay(policy, n, random.Random(42)) for n in range(1, 6)]
    second = [backoff_delay(policy, n, random.Random(42)) for n in range(1, 6)]
    assert first == second


def test_backoff_delay_is_never_negative() -> None:
    policy = RetryPolicy(initial=1.0, jitter=5.0)
    rng = random.Random(7)
    assert all(backoff_delay(policy, 1, rng) >= 0.0 for _ in range(200))


def test_retry_policy_from_mapping_reads_known_keys() -> None:
    policy = RetryPolicy.from_mapping(
        {"max_attempts": 3, "initial": 1.5, "max": 60.0, "multiplier": 3.0, "jitter": 0.1}
    )
    assert policy == RetryPolicy(max_attempts=3, initial=1.5, max=60.0, multiplier=3.0, jitter=0.1)


def test_retry_policy_from_mapping_ignores_unknown_keys() -> None:
    policy = RetryPolicy.from_mapping({"max_attempts": 2, "backoff": "linear", "foo": 1})
    assert policy == RetryPolicy(max_attempts=2)


def test_retry_policy_from_empty_mapping_is_the_default() -> None:
    assert RetryPolicy.from_mapping({}) == RetryPolicy()


# throttling, release, run failures, the budget -------------------------------------------


def test_throttled_waits_for_the_pause_without_using_the_budget() -> None:
    decision = decide_after(Outcome.THROTTLED, attempt_number=5, max_attempts=5, retry_after=9.0)
    assert decision == Decision(DeliveryStatus.PAUSED, NOW + 9.0, counts_toward_budget=False)


def test_throttled_with_no_pause_is_still_strictly_in_the_future() -> None:
    decision = decide_after(Outcome.THROTTLED, retry_after=0.0)
    assert decision.next_attempt_at is not None
    assert decision.next_attempt_at > NOW


def test_released_goes_back_to_pending_now_without_using_the_budget() -> None:
    decision = decide_after(Outcome.RELEASED, attempt_number=5, max_attempts=5)
    assert decision == Decision(DeliveryStatus.PENDING, NOW, counts_toward_budget=False)


def test_run_failure_is_retried_when_the_policy_says_so() -> None:
    policy = RetryPolicy(max_attempts=5, initial=5.0, jitter=0.0, on_run_failure=True)
    assert decide_after(Outcome.RUN_FAILED, policy=policy) == Decision(
        DeliveryStatus.RETRY_SCHEDULED, NOW + 5.0
    )
    last = decide_after(Outcome.RUN_FAILED, policy=policy, attempt_number=5, max_attempts=5)
    assert last == Decision(DeliveryStatus.FAILED)


def test_retry_policy_from_mapping_reads_on_run_failure() -> None:
    assert RetryPolicy.from_mapping({"on_run_failure": True}).on_run_failure is True


@given(
    outcome=st.sampled_from([Outcome.RETRYABLE, Outcome.AMBIGUOUS, Outcome.THROTTLED]),
    attempt_number=st.integers(min_value=1, max_value=20),
    initial=st.floats(min_value=0, max_value=3600),
    jitter=st.floats(min_value=0, max_value=1),
    retry_after=st.none() | st.floats(min_value=0, max_value=86400),
    seed=st.integers(min_value=0, max_value=2**32),
)
def test_a_scheduled_retry_is_always_strictly_in_the_future(
    outcome: Outcome,
    attempt_number: int,
    initial: float,
    jitter: float,
    retry_after: float | None,
    seed: int,
) -> None:
    policy = RetryPolicy(max_attempts=21, initial=initial, jitter=jitter, max=3600.0)
    decision = decide(
        outcome,
        attempt_number=attempt_number,
        max_attempts=21,
        policy=policy,
        now=NOW,
        rng=random.Random(seed),
        idempotent=True,
        retry_after=retry_after,
    )
    assert decision.status in (DeliveryStatus.RETRY_SCHEDULED, DeliveryStatus.PAUSED)
    assert decision.next_attempt_at is not None
    assert decision.next_attempt_at > NOW
