"""A failed run's reason in one line, from what the function raised."""

from __future__ import annotations

from relay.delivery.reasons import run_failure_reason


def test_the_first_line_of_the_functions_error() -> None:
    reason = run_failure_reason("RuntimeError: amount 99900 needs manual review\nat line 3")
    assert reason == "run failed: RuntimeError: amount 99900 needs manual review"


def test_a_traceback_gives_the_exception_line_not_its_header() -> None:
    text = (
        "Traceback (most recent call last):\n"
        '  File "billing.py", line 4, in run\n'
        "    raise RuntimeError('amount 99900 needs manual review')\n"
        "RuntimeError: amount 99900 needs manual review\n"
    )
    assert run_failure_reason(text) == "run failed: RuntimeError: amount 99900 needs manual review"


def test_an_error_object_gives_its_message() -> None:
    assert run_failure_reason({"error": "quota exceeded"}) == "run failed: quota exceeded"
    nested = {"error": {"message": "session crashed\ntrace"}}
    assert run_failure_reason(nested) == "run failed: session crashed"


def test_nothing_to_say_is_said_plainly() -> None:
    assert run_failure_reason(None) == "run failed (no error given)"
    assert run_failure_reason({"ok": False}) == "run failed (no error given)"


def test_a_long_error_is_cut_at_a_word() -> None:
    reason = run_failure_reason("ValueError: " + "word " * 200)
    assert len(reason) <= 300
    assert reason.endswith("word…")
