from __future__ import annotations

import json
from typing import Any

import pytest

from relay.delivery.answers import judge_answer, judge_stream
from relay.delivery.retry import Outcome
from relay.delivery.sse import RunStream

RUN = {"function_id": "fn", "function_run_id": "run_1", "session_id": "s", "result": 1}


def answer(body: Any, content_type: str = "application/json", code: int = 200) -> Any:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return judge_answer(raw, content_type, code, None)


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        ("closed", Outcome.SUCCEEDED),
        ("failed", Outcome.RUN_FAILED),
        ("active", Outcome.RUN_ACTIVE),
        (None, Outcome.RUN_ACTIVE),
        ("queued", Outcome.RUN_ACTIVE),
    ],
)
def test_a_run_is_a_success_only_when_it_says_closed(status: str | None, outcome: Outcome) -> None:
    body = {**RUN, "status": status} if status is not None else RUN
    judged = answer(body)
    assert judged.outcome is outcome
    assert judged.function_run_id == "run_1"


def test_missing_and_unknown_statuses_say_what_they_were() -> None:
    assert answer(RUN).error == "HTTP 200 answer has no run status: following run run_1"
    judged = answer({**RUN, "status": "weird"})
    assert judged.error == "HTTP 200 answer has an unknown run status 'weird': following run run_1"


def test_active_without_a_run_id_cannot_be_followed() -> None:
    judged = answer({"status": "active"})
    assert judged.outcome is Outcome.AMBIGUOUS
    assert judged.error == "HTTP 200 answer says the run is active, and no run id to follow"


def test_non_json_answer_of_a_created_run_is_followed_by_the_known_id() -> None:
    judged = judge_answer(b"<html></html>", "text/html", 200, "run_7")
    assert judged is not None
    assert judged.outcome is Outcome.RUN_ACTIVE
    assert judged.function_run_id == "run_7"


def test_event_stream_bytes_are_left_to_the_stream_reader_whatever_the_content_type() -> None:
    assert judge_answer(b'data: {"type": "log"}\n\n', "application/json", 200, None) is None
    assert judge_answer(b"", "text/event-stream", 200, None) is None


def test_stream_error_event_is_a_failed_run_with_its_message() -> None:
    run = RunStream()
    run.feed('data: {"type": "session_start", "message": "s1"}')
    run.feed("")
    run.feed('data: {"type": "error", "message": "browser crashed"}')
    run.close()
    judged = judge_stream(run, None)
    assert judged.outcome is Outcome.RUN_FAILED
    assert judged.error == "the run reported an error: browser crashed"


def test_stream_error_event_of_the_anything_api_shape_keeps_error_and_detail() -> None:
    run = RunStream()
    run.feed('data: {"type": "error", "error": "quota", "detail": "no credits left"}')
    run.close()
    assert run.error == "quota - no credits left"


def test_events_without_a_message_are_not_logged_and_colours_are_stripped() -> None:
    run = RunStream()
    run.feed('data: {"type": "status"}')
    run.feed("")
    line = "\x1b[32m2026-12-07 10:00:00\x1b[0m | INFO | notte | clicked \x1b[1mBuy\x1b[0m"
    run.feed("data: " + json.dumps({"type": "log", "message": line}))
    run.close()
    assert list(run.logs) == ["2026-12-07 10:00:00 | INFO | notte | clicked Buy"]


def test_stream_without_result_after_its_session_follows_the_known_run() -> None:
    run = RunStream()
    run.feed('data: {"type": "session_start", "message": "s1"}')
    run.close()
    assert judge_stream(run, "run_3").outcome is Outcome.RUN_ACTIVE
    assert judge_stream(run, None).outcome is Outcome.AMBIGUOUS
