"""From a send's result to what the store records."""

from __future__ import annotations

import random

from relay.delivery.attempt import conclude, interrupted
from relay.delivery.retry import Outcome
from relay.delivery.sender import SendProgress, SendResult, SendStage
from relay.store.base import AttemptResult, ClaimedDelivery, DeliveryRecord, DeliveryStatus

NOW = 1_700_000_000.0
S = DeliveryStatus


def _claimed(*, budget_used: int = 0, max_attempts: int = 3, **policy: object) -> ClaimedDelivery:
    record = DeliveryRecord(
        id="dlv_1",
        event_id="evt_1",
        route="r",
        target="notte",
        function_id="fn",
        variables={},
        stream=True,
        status=S.IN_FLIGHT,
        attempts=budget_used + 1,
        max_attempts=max_attempts,
        retry_policy={"initial": 5.0, "jitter": 0.0, **policy},
        idempotent=False,
        next_attempt_at=None,
        created_at=NOW,
        updated_at=NOW,
        last_error=None,
        function_run_id=None,
        run_status=None,
        budget_used=budget_used,
    )
    return ClaimedDelivery(record, "att_1", budget_used + 1)


def _conclude(
    sent: SendResult, claimed: ClaimedDelivery, pause_until: float | None = None
) -> AttemptResult:
    return conclude(sent, claimed, now=NOW, rng=random.Random(0), pause_until=pause_until)


def test_throttled_attempt_waits_for_the_target_pause_and_is_not_counted() -> None:
    sent = SendResult(Outcome.THROTTLED, 3.0, status_code=429, error="HTTP 429: slow down")
    result = _conclude(sent, _claimed(budget_used=2, max_attempts=3), pause_until=NOW + 42)
    assert result.new_status is S.PAUSED
    assert result.next_attempt_at == NOW + 42
    assert result.counts_toward_budget is False
    assert result.reason is not None
    assert "attempt not counted" in result.reason


def test_retryable_attempt_uses_the_budget_counted_apart_from_attempt_numbers() -> None:
    sent = SendResult(Outcome.RETRYABLE, 3.0, status_code=503, error="HTTP 503: busy")
    # Fourth attempt by number, but 429s before it left the budget at 2 of 3.
    result = _conclude(sent, _claimed(budget_used=2, max_attempts=3))
    assert result.new_status is S.DEAD
    assert result.reason == "HTTP 503: busy; no attempts left (3/3 attempts used)"


def test_retry_reason_names_when_and_the_budget() -> None:
    sent = SendResult(Outcome.RETRYABLE, 3.0, status_code=502, error="HTTP 502: bad gateway")
    result = _conclude(sent, _claimed())
    assert result.new_status is S.RETRY_SCHEDULED
    assert result.next_attempt_at == NOW + 5.0
    assert result.reason is not None
    assert result.reason.startswith("HTTP 502: bad gateway; retry at ")
    assert result.reason.endswith("(1/3 attempts used)")


def test_failed_run_is_recorded_with_the_functions_own_error() -> None:
    sent = SendResult(
        Outcome.RUN_FAILED,
        3.0,
        status_code=200,
        run_status="failed",
        result="RuntimeError: amount 99900 needs manual review\n  more detail",
    )
    result = _conclude(sent, _claimed())
    assert result.new_status is S.FAILED
    assert result.error == "run failed: RuntimeError: amount 99900 needs manual review"
    assert result.reason == "run failed: RuntimeError: amount 99900 needs manual review"


def test_failed_run_without_an_error_says_so() -> None:
    sent = SendResult(Outcome.RUN_FAILED, 3.0, status_code=200, run_status="failed")
    assert _conclude(sent, _claimed()).error == "run failed (no error given)"


def test_failed_run_is_retried_when_the_route_asks() -> None:
    sent = SendResult(Outcome.RUN_FAILED, 3.0, status_code=200, run_status="failed")
    assert _conclude(sent, _claimed(on_run_failure=True)).new_status is S.RETRY_SCHEDULED
    last = _claimed(budget_used=2, max_attempts=3, on_run_failure=True)
    assert _conclude(sent, last).new_status is S.FAILED


def test_interrupted_before_sending_is_released() -> None:
    for stage in (SendStage.PREPARING, SendStage.CONNECTING):
        cut = interrupted(SendProgress(stage), 5.0)
        assert cut.outcome is Outcome.RELEASED
        result = _conclude(cut, _claimed())
        assert (result.new_status, result.counts_toward_budget) == (S.PENDING, False)


def test_interrupted_after_handing_over_is_ambiguous() -> None:
    for stage in (SendStage.HANDED_OVER, SendStage.SENT):
        cut = interrupted(SendProgress(stage), 5.0)
        assert cut.outcome is Outcome.AMBIGUOUS
        assert _conclude(cut, _claimed()).new_status is S.NEEDS_REVIEW
