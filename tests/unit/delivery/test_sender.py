from __future__ import annotations

import asyncio
import email.utils
import json
import time
from collections.abc import Callable, Coroutine, Iterator
from typing import Any

import pytest

from relay.delivery.outbound import (
    AnswerLost,
    AnswerTimeout,
    FakeSender,
    NotSent,
    Reply,
    Request,
    Timeouts,
)
from relay.delivery.retry import Outcome
from relay.delivery.sender import (
    USER_AGENT,
    SendResult,
    build_request_body,
    parse_retry_after,
    send_run,
)
from relay.targets import Target

NOW = 1_700_000_000.0
KEY = "sk-notte-SECRET-KEY-1234"
BASE_URL = "https://api.notte.test"
TARGET = Target(name="notte", base_url=BASE_URL, api_key=KEY)

Handler = Callable[[Request], Reply] | Callable[[Request], Coroutine[None, None, Reply]]


class FakeClock:
    """Wall clock frozen at ``now``; the monotonic clock advances ``step`` per reading."""

    def __init__(self, now: float = NOW, step: float = 0.25) -> None:
        self._now = now
        self._step = step
        self._monotonic = 100.0

    def now(self) -> float:
        return self._now

    def monotonic(self) -> float:
        self._monotonic += self._step
        return self._monotonic


class Recorder:
    """A MockTransport handler that records requests and answers with a fixed response."""

    def __init__(self, respond: Callable[[Request], Reply]) -> None:
        self.requests: list[Request] = []
        self._respond = respond

    def __call__(self, request: Request) -> Reply:
        self.requests.append(request)
        return self._respond(request)


async def send(
    handler: Handler,
    *,
    function_id: str = "fn_1",
    variables: dict[str, Any] | None = None,
    stream: bool = False,
    target: Target = TARGET,
    extra_headers: dict[str, str] | None = None,
) -> SendResult:
    async with FakeSender(handler) as client:
        return await send_run(
            client,
            target,
            function_id=function_id,
            variables={"order": 42} if variables is None else variables,
            stream=stream,
            clock=FakeClock(),
            extra_headers=extra_headers,
        )


def json_answer(payload: Any, status_code: int = 200) -> Callable[[Request], Reply]:
    return lambda request: Reply(status_code, json=payload)


def sse(*events: dict[str, Any]) -> bytes:
    return b"".join(f"data: {json.dumps(e)}\n\n".encode() for e in events)


def sse_answer(body: bytes) -> Callable[[Request], Reply]:
    headers = {"content-type": "text/event-stream; charset=utf-8"}
    return lambda request: Reply(200, headers=headers, content=body)


RUN = {
    "function_id": "fn_1",
    "function_run_id": "run_1",
    "session_id": "sess_1",
    "status": "closed",
    "result": "42 items",
}


# the request -----------------------------------------------------------------------------


async def test_request_is_a_post_to_the_run_start_endpoint() -> None:
    recorder = Recorder(json_answer(RUN))
    await send(recorder, function_id="fn_1", variables={"order": 42, "name": "été"})
    [request] = recorder.requests
    assert request.method == "POST"
    assert str(request.url) == f"{BASE_URL}/functions/fn_1/runs/start"


async def test_function_id_is_path_escaped() -> None:
    recorder = Recorder(json_answer(RUN))
    await send(recorder, function_id="a/b c?d")
    [request] = recorder.requests
    assert request.url.raw_path == "/functions/a%2Fb%20c%3Fd/runs/start"


async def test_function_id_with_slash_is_escaped() -> None:
    recorder = Recorder(json_answer(RUN))
    await send(recorder, function_id="a/b")
    [request] = recorder.requests
    assert str(request.url) == f"{BASE_URL}/functions/a%2Fb/runs/start"


async def test_request_carries_the_api_key_and_json_content_type() -> None:
    recorder = Recorder(json_answer(RUN))
    await send(recorder)
    [request] = recorder.requests
    assert request.headers["x-notte-api-key"] == KEY
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["accept"] == "application/json"


async def test_request_names_relay_and_carries_the_target_timeouts() -> None:
    recorder = Recorder(json_answer(RUN))
    target = Target(name="t", base_url=BASE_URL, api_key=KEY, timeout=12.0, connect_timeout=3.0)
    await send(recorder, target=target)
    [request] = recorder.requests
    assert request.headers["user-agent"] == USER_AGENT
    assert request.timeouts == Timeouts(connect=3.0, read=12.0, write=30.0, pool=12.0)


async def test_streamed_request_accepts_event_stream() -> None:
    recorder = Recorder(sse_answer(sse({"type": "result", "message": json.dumps(RUN)})))
    await send(recorder, stream=True)
    assert recorder.requests[0].headers["accept"] == "text/event-stream"


async def test_extra_headers_are_sent() -> None:
    recorder = Recorder(json_answer(RUN))
    await send(recorder, extra_headers={"x-relay-delivery": "dlv_1"})
    assert recorder.requests[0].headers["x-relay-delivery"] == "dlv_1"


@pytest.mark.parametrize("stream", [False, True])
async def test_request_body_is_exactly_the_run_function_request(stream: bool) -> None:
    recorder = Recorder(json_answer(RUN))
    variables = {"order": 42, "name": "été", "nested": {"a": [1, 2]}}
    await send(recorder, function_id="a/b", variables=variables, stream=stream)
    body = json.loads(recorder.requests[0].content)
    assert body == {"workflow_id": "a/b", "variables": variables, "stream": stream}
    assert set(body) == {"workflow_id", "variables", "stream"}


def test_build_request_body_has_only_the_three_keys() -> None:
    body = build_request_body("fn_1", {"x": 1}, True)
    assert json.loads(body) == {"workflow_id": "fn_1", "variables": {"x": 1}, "stream": True}


def test_target_repr_hides_the_api_key() -> None:
    assert KEY not in repr(TARGET)


# non-streamed answers --------------------------------------------------------------------


async def test_closed_run_succeeds_with_run_id_session_and_result() -> None:
    result = await send(Recorder(json_answer(RUN)))
    assert result.outcome is Outcome.SUCCEEDED
    assert result.status_code == 200
    assert result.function_run_id == "run_1"
    assert result.session_id == "sess_1"
    assert result.run_status == "closed"
    assert result.result == "42 items"
    assert result.error is None
    assert result.retry_after is None
    assert result.duration_ms > 0


async def test_failed_run_is_run_failed() -> None:
    result = await send(Recorder(json_answer({**RUN, "status": "failed", "result": None})))
    assert result.outcome is Outcome.RUN_FAILED
    assert result.function_run_id == "run_1"
    assert result.run_status == "failed"


async def test_workflow_run_id_is_accepted_as_the_run_id() -> None:
    answer = {"workflow_run_id": "wfr_1", "status": "closed"}
    result = await send(Recorder(json_answer(answer)))
    assert result.outcome is Outcome.SUCCEEDED
    assert result.function_run_id == "wfr_1"


async def test_answer_that_is_not_json_is_ambiguous_never_a_success() -> None:
    def html(request: Request) -> Reply:
        return Reply(200, content=b"<html>ok</html>", headers={"content-type": "text/html"})

    result = await send(Recorder(html))
    assert result.outcome is Outcome.AMBIGUOUS
    assert result.error == "HTTP 200 answer is not JSON (text/html), and no run id to follow"


async def test_answer_that_is_a_json_list_is_ambiguous_and_kept_as_the_result() -> None:
    result = await send(Recorder(json_answer([1, 2, 3])))
    assert result.outcome is Outcome.AMBIGUOUS
    assert result.result == [1, 2, 3]


@pytest.mark.parametrize("code", [202, 204])
async def test_empty_2xx_answer_is_ambiguous(code: int) -> None:
    result = await send(Recorder(lambda r: Reply(code)))
    assert result.outcome is Outcome.AMBIGUOUS
    assert result.error == f"HTTP {code} with an empty body, and no run id to follow"


async def test_json_route_answered_with_a_failed_event_stream_is_run_failed() -> None:
    body = sse({"type": "result", "message": json.dumps({**RUN, "status": "failed"})})
    result = await send(Recorder(sse_answer(body)), stream=False)
    assert result.outcome is Outcome.RUN_FAILED
    assert result.function_run_id == "run_1"


async def test_active_answer_is_followed_by_its_run_id() -> None:
    result = await send(Recorder(json_answer({**RUN, "status": "active", "result": None})))
    assert result.outcome is Outcome.RUN_ACTIVE
    assert result.function_run_id == "run_1"
    assert result.run_status == "active"


async def test_created_run_is_started_by_its_id_with_the_optional_keys() -> None:
    recorder = Recorder(json_answer(RUN))
    async with FakeSender(recorder) as client:
        result = await send_run(
            client,
            TARGET,
            function_id="fn_1",
            variables={"a": 1},
            stream=False,
            clock=FakeClock(),
            run_id="run_1",
            runtime="extended",
            callback_url="https://example.test/done",
        )
    assert result.outcome is Outcome.SUCCEEDED
    (request,) = recorder.requests
    assert request.url.path == "/functions/fn_1/runs/run_1"
    assert json.loads(request.content) == {
        "workflow_id": "fn_1",
        "variables": {"a": 1},
        "stream": False,
        "runtime": "extended",
        "callback_url": "https://example.test/done",
    }


async def test_second_start_of_a_created_run_refused_409_is_followed() -> None:
    recorder = Recorder(lambda r: Reply(409, json={"detail": "already started"}))
    async with FakeSender(recorder) as client:
        result = await send_run(
            client,
            TARGET,
            function_id="fn_1",
            variables={},
            stream=True,
            clock=FakeClock(),
            run_id="run_9",
        )
    assert result.outcome is Outcome.RUN_ACTIVE
    assert result.function_run_id == "run_9"


async def test_409_of_a_new_run_start_is_fatal() -> None:
    result = await send(Recorder(lambda r: Reply(409, json={"detail": "conflict"})))
    assert result.outcome is Outcome.FATAL


async def test_streamed_request_answered_with_json_is_read_as_json() -> None:
    result = await send(Recorder(json_answer(RUN)), stream=True)
    assert result.outcome is Outcome.SUCCEEDED
    assert result.function_run_id == "run_1"


# streamed answers ------------------------------------------------------------------------


async def test_streamed_answer_gives_logs_session_and_result() -> None:
    run = {k: v for k, v in RUN.items() if k != "session_id"}
    body = sse(
        {"type": "session_start", "message": "sess_stream"},
        {"type": "log", "message": "Starting function..."},
        {"type": "log", "message": "Function finished"},
        {"type": "result", "message": json.dumps(run)},
    )
    result = await send(Recorder(sse_answer(body)), stream=True)
    assert result.outcome is Outcome.SUCCEEDED
    assert result.status_code == 200
    assert result.logs == ("Starting function...", "Function finished")
    assert result.session_id == "sess_stream"
    assert result.function_run_id == "run_1"
    assert result.run_status == "closed"
    assert result.result == "42 items"
    assert result.error is None


async def test_streamed_result_session_id_wins_over_session_start() -> None:
    body = sse(
        {"type": "session_start", "message": "sess_stream"},
        {"type": "result", "message": json.dumps(RUN)},
    )
    result = await send(Recorder(sse_answer(body)), stream=True)
    assert result.session_id == "sess_1"


async def test_streamed_failed_run_is_run_failed() -> None:
    body = sse({"type": "result", "message": json.dumps({**RUN, "status": "failed"})})
    result = await send(Recorder(sse_answer(body)), stream=True)
    assert result.outcome is Outcome.RUN_FAILED


async def test_streamed_result_without_trailing_blank_line_is_read() -> None:
    body = sse({"type": "result", "message": json.dumps(RUN)}).rstrip(b"\n")
    result = await send(Recorder(sse_answer(body)), stream=True)
    assert result.outcome is Outcome.SUCCEEDED
    assert result.function_run_id == "run_1"


async def test_stream_without_result_is_ambiguous() -> None:
    body = sse(
        {"type": "session_start", "message": "sess_stream"},
        {"type": "log", "message": "Starting function..."},
    )
    result = await send(Recorder(sse_answer(body)), stream=True)
    assert result.outcome is Outcome.AMBIGUOUS
    assert result.status_code == 200
    assert result.session_id == "sess_stream"
    assert result.logs == ("Starting function...",)
    assert result.error == "the stream ended before the run's result"


async def test_stream_with_unparsable_result_is_ambiguous_with_the_reason() -> None:
    body = sse({"type": "result", "message": "not json at all"})
    result = await send(Recorder(sse_answer(body)), stream=True)
    assert result.outcome is Outcome.AMBIGUOUS
    assert result.error == "the result event is not JSON"


async def test_stream_cut_mid_way_is_ambiguous() -> None:
    def respond(request: Request) -> Reply:
        cut = AnswerLost("peer closed connection")
        body = [sse({"type": "log", "message": "Starting function..."})]
        return Reply(200, headers={"content-type": "text/event-stream"}, chunks=body, error=cut)

    result = await send(Recorder(respond), stream=True)
    assert result.outcome is Outcome.AMBIGUOUS
    assert result.error is not None
    assert "AnswerLost" in result.error


# HTTP errors -----------------------------------------------------------------------------


async def test_429_with_retry_after_seconds_is_throttled() -> None:
    respond = Recorder(lambda r: Reply(429, headers={"retry-after": "7"}, text="slow down"))
    result = await send(respond)
    assert result.outcome is Outcome.THROTTLED
    assert result.status_code == 429
    assert result.retry_after == 7.0
    assert result.error == "HTTP 429: slow down"


async def test_503_with_retry_after_http_date_is_retryable() -> None:
    when = email.utils.formatdate(NOW + 120, usegmt=True)
    result = await send(Recorder(lambda r: Reply(503, headers={"retry-after": when})))
    assert result.outcome is Outcome.RETRYABLE
    assert result.retry_after == 120.0


@pytest.mark.parametrize("code", [500, 502, 503, 504])
async def test_server_errors_are_retryable(code: int) -> None:
    result = await send(Recorder(lambda r: Reply(code, text="upstream trouble")))
    assert result.outcome is Outcome.RETRYABLE
    assert result.status_code == code
    assert result.retry_after is None
    assert result.error == f"HTTP {code}: upstream trouble"


@pytest.mark.parametrize("code", [400, 401, 403, 404, 409, 422])
async def test_client_errors_are_fatal_with_status_and_snippet(code: int) -> None:
    detail = json.dumps({"detail": "function not found"})
    result = await send(Recorder(lambda r: Reply(code, text=detail)))
    assert result.outcome is Outcome.FATAL
    assert result.status_code == code
    assert result.error == f"HTTP {code}: {detail}"


async def test_error_snippet_is_short_and_on_one_line() -> None:
    text = "line one\n\n   line two\t" + "x" * 2000
    result = await send(Recorder(lambda r: Reply(422, text=text)))
    assert result.error is not None
    assert result.error.startswith("HTTP 422: line one line two xxx")
    assert "\n" not in result.error
    assert result.error.endswith("...")
    assert len(result.error) == len("HTTP 422: ") + 300 + len("...")


async def test_garbage_retry_after_on_429_is_ignored() -> None:
    headers = {"retry-after": "²"}
    result = await send(Recorder(lambda r: Reply(429, headers=headers)))
    assert result.outcome is Outcome.THROTTLED
    assert result.retry_after is None


# transport errors ------------------------------------------------------------------------


def raising(
    make: Callable[[Request], Exception],
) -> Callable[[Request], Reply]:
    def respond(request: Request) -> Reply:
        raise make(request)

    return respond


async def test_connect_error_is_retryable_not_sent() -> None:
    result = await send(Recorder(raising(lambda r: NotSent("connection refused"))))
    assert result.outcome is Outcome.RETRYABLE
    assert result.status_code is None
    assert result.error is not None
    assert result.error.startswith("not sent: NotSent")


async def test_connect_timeout_is_retryable() -> None:
    result = await send(Recorder(raising(lambda r: NotSent("slow"))))
    assert result.outcome is Outcome.RETRYABLE


async def test_read_timeout_is_ambiguous() -> None:
    result = await send(Recorder(raising(lambda r: AnswerTimeout("timed out"))))
    assert result.outcome is Outcome.AMBIGUOUS
    assert result.error == "sent, no answer in time: AnswerTimeout"


async def test_remote_protocol_error_is_ambiguous() -> None:
    result = await send(Recorder(raising(lambda r: AnswerLost("server hung up"))))
    assert result.outcome is Outcome.AMBIGUOUS
    assert result.error is not None
    assert result.error.startswith("sent, connection lost: AnswerLost")


async def test_overall_deadline_is_ambiguous() -> None:
    async def respond(request: Request) -> Reply:
        await asyncio.sleep(10)
        return Reply(200)

    target = Target(name="t", base_url=BASE_URL, api_key=KEY, timeout=0.02, connect_timeout=0.0)
    result = await send(respond, target=target)
    assert result.outcome is Outcome.AMBIGUOUS
    assert result.error == "sent, no answer in time: TimeoutError"


def _error_cases() -> Iterator[tuple[str, Callable[[Request], Reply]]]:
    def echo(code: int) -> Callable[[Request], Reply]:
        # A hostile or careless server that echoes the request headers in its error body.
        return lambda r: Reply(code, text=f"{r.headers} {r.url}")

    for code in (400, 401, 404, 422, 429, 500, 502, 503, 504):
        yield f"http-{code}", echo(code)
    yield "connect", raising(lambda r: NotSent(f"refused {r.url}"))
    yield "read-timeout", raising(lambda r: AnswerTimeout(f"{r.url}"))
    yield "protocol", raising(lambda r: AnswerLost(f"{r.url}"))
    yield "stream-no-result", sse_answer(sse({"type": "log", "message": "hi"}))


_ERROR_CASES = dict(_error_cases())


@pytest.mark.parametrize("case", list(_ERROR_CASES))
async def test_api_key_never_appears_in_the_error(case: str) -> None:
    result = await send(Recorder(_ERROR_CASES[case]), stream=case.startswith("stream"))
    assert result.outcome is not Outcome.SUCCEEDED
    assert result.error is not None
    assert KEY not in repr(result)


async def test_api_key_echoed_in_an_error_body_is_redacted() -> None:
    result = await send(Recorder(lambda r: Reply(400, text=f"bad key {KEY}!")))
    assert result.error == "HTTP 400: bad key [redacted]!"


async def test_api_key_cut_by_the_snippet_limit_leaks_no_prefix() -> None:
    text = "x" * 295 + KEY
    result = await send(Recorder(lambda r: Reply(500, text=text)))
    assert result.error is not None
    assert KEY[:6] not in result.error
    assert result.error.endswith("x[reda...")


# parse_retry_after -----------------------------------------------------------------------


def test_parse_retry_after_none_is_none() -> None:
    assert parse_retry_after(None, NOW) is None


@pytest.mark.parametrize("value", ["", "   ", "soon", "1.5", "-5", "7s", "Mon, 32 Foo 2015", "²"])
def test_parse_retry_after_garbage_is_none(value: str) -> None:
    assert parse_retry_after(value, NOW) is None


@pytest.mark.parametrize(("value", "seconds"), [("0", 0.0), ("7", 7.0), (" 120 ", 120.0)])
def test_parse_retry_after_delta_seconds(value: str, seconds: float) -> None:
    assert parse_retry_after(value, NOW) == seconds


def test_parse_retry_after_huge_delta_is_capped_at_a_day() -> None:
    assert parse_retry_after("99999999999999999999", NOW) == 86400.0


def test_parse_retry_after_http_date_in_the_future() -> None:
    assert parse_retry_after(email.utils.formatdate(NOW + 90, usegmt=True), NOW) == 90.0


def test_parse_retry_after_http_date_in_the_past_is_zero() -> None:
    assert parse_retry_after(email.utils.formatdate(NOW - 3600, usegmt=True), NOW) == 0.0


def test_parse_retry_after_http_date_far_ahead_is_capped_at_a_day() -> None:
    far = email.utils.formatdate(NOW + 30 * 86400, usegmt=True)
    assert parse_retry_after(far, NOW) == 86400.0


@pytest.mark.parametrize(
    "value",
    [
        "Tue, 14 Nov 2023 22:14:50 GMT",  # IMF-fixdate
        "Tuesday, 14-Nov-23 22:14:50 GMT",  # obsolete RFC 850
        "Tue Nov 14 22:14:50 2023",  # obsolete asctime: no zone, means UTC
        "Tue, 14 Nov 2023 22:14:50 -0000",
    ],
)
def test_parse_retry_after_http_date_forms_are_utc_whatever_the_local_zone(
    value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # NOW is 2023-11-14 22:13:20 UTC: every form names a moment 90 seconds later.
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        assert parse_retry_after(value, NOW) == 90.0
    finally:
        monkeypatch.undo()
        time.tzset()


async def start_created_run_cut_after(*events: dict[str, Any]) -> SendResult:
    """Start created run ``run_9`` whose event stream sends ``events``, then is cut."""

    def respond(request: Request) -> Reply:
        cut = AnswerLost("peer closed connection")
        body = [sse(e) for e in events]
        return Reply(200, headers={"content-type": "text/event-stream"}, chunks=body, error=cut)

    async with FakeSender(Recorder(respond)) as client:
        return await send_run(
            client,
            TARGET,
            function_id="fn_1",
            variables={},
            stream=True,
            clock=FakeClock(),
            run_id="run_9",
        )


async def test_stream_cut_after_its_session_started_follows_the_created_run() -> None:
    result = await start_created_run_cut_after({"type": "session_start", "message": "sess_9"})
    assert result.outcome is Outcome.RUN_ACTIVE
    assert result.function_run_id == "run_9"
    assert result.session_id == "sess_9"


async def test_stream_cut_before_its_session_started_leaves_the_created_run_unsettled() -> None:
    result = await start_created_run_cut_after()
    assert result.outcome is Outcome.UNSETTLED
    assert result.function_run_id == "run_9"
    assert result.error is not None
    assert "asks the API whether run run_9 started" in result.error
