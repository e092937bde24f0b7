from __future__ import annotations

import json

from relay.delivery.sse import MAX_LOG_BYTES, MAX_LOG_LINES, RunStream

RESULT = {
    "function_id": "fn_1",
    "function_run_id": "run_1",
    "session_id": "sess_1",
    "status": "closed",
    "result": "done",
}

# A streamed run as Notte sends it: one JSON object per `data:` line, events separated by a
# blank line, the result's message being the run response serialised as JSON text.
DOCUMENTED_STREAM = [
    'data: {"type": "session_start", "message": "sess_1"}',
    "",
    'data: {"type": "log", "message": "Starting function..."}',
    "",
    'data: {"type": "log", "message": "Opening https://example.com"}',
    "",
    "data: " + json.dumps({"type": "result", "message": json.dumps(RESULT)}),
    "",
]


def feed_all(lines: list[str], *, close: bool = True) -> RunStream:
    run = RunStream()
    for line in lines:
        run.feed(line)
    if close:
        run.close()
    return run


def log_event(message: str) -> list[str]:
    return ["data: " + json.dumps({"type": "log", "message": message}), ""]


def test_documented_stream_gives_logs_session_and_result() -> None:
    run = feed_all(DOCUMENTED_STREAM)
    assert list(run.logs) == ["Starting function...", "Opening https://example.com"]
    assert run.session_id == "sess_1"
    assert run.result == RESULT
    assert run.result_error is None
    assert run.dropped_logs == 0


def test_lines_with_trailing_newlines_are_accepted() -> None:
    run = feed_all([line + "\r\n" for line in DOCUMENTED_STREAM], close=False)
    assert run.session_id == "sess_1"
    assert run.result == RESULT
    assert len(run.logs) == 2


def test_data_without_a_space_after_the_colon() -> None:
    run = feed_all(['data:{"type":"log","message":"tight"}', ""])
    assert list(run.logs) == ["tight"]


def test_only_one_leading_space_is_stripped() -> None:
    run = feed_all(["data:   not json", ""])
    assert list(run.logs) == ["  not json"]


def test_multi_line_data_is_joined_with_newlines() -> None:
    run = feed_all(['data: {"type": "result",', 'data:  "message": {"status": "closed"}}', ""])
    assert run.result == {"status": "closed"}


def test_result_message_may_be_a_json_object() -> None:
    run = feed_all(['data: {"type": "result", "message": {"status": "closed", "x": 1}}', ""])
    assert run.result == {"status": "closed", "x": 1}
    assert run.result_error is None


def test_result_message_that_is_not_json_sets_result_error() -> None:
    run = feed_all(['data: {"type": "result", "message": "this is not json"}', ""])
    assert run.result is None
    assert run.result_error is not None
    assert "not JSON" in run.result_error


def test_result_message_that_is_json_but_not_an_object_sets_result_error() -> None:
    run = feed_all(['data: {"type": "result", "message": "[1, 2]"}', ""])
    assert run.result is None
    assert run.result_error == "the result event is not a JSON object"


def test_session_start_with_non_string_message_is_serialised() -> None:
    run = feed_all(['data: {"type": "session_start", "message": {"id": "s"}}', ""])
    assert run.session_id == '{"id": "s"}'


def test_non_string_log_message_is_serialised() -> None:
    run = feed_all(['data: {"type": "log", "message": {"step": 1}}', ""])
    assert list(run.logs) == ['{"step": 1}']


def test_non_json_data_lines_become_log_lines() -> None:
    run = feed_all(["data: plain text progress", "", "data: [1, 2, 3]", ""])
    assert list(run.logs) == ["plain text progress", "[1, 2, 3]"]
    assert run.result is None
    assert run.session_id is None


def test_comments_and_other_fields_are_ignored() -> None:
    lines = [
        ": ping",
        "",
        "event: message",
        "id: 7",
        "retry: 1000",
        'data: {"type": "log", "message": "hello"}',
        ": keep-alive",
        "",
    ]
    run = feed_all(lines)
    assert list(run.logs) == ["hello"]


def test_blank_lines_without_data_dispatch_nothing() -> None:
    run = feed_all(["", "", ""])
    assert list(run.logs) == []
    assert run.result is None


def test_close_flushes_a_final_event_without_trailing_blank_line() -> None:
    run = RunStream()
    run.feed('data: {"type": "result", "message": "{\\"status\\": \\"closed\\"}"}')
    assert run.result is None
    run.close()
    assert run.result == {"status": "closed"}


def test_close_twice_does_not_duplicate_the_last_event() -> None:
    run = RunStream()
    run.feed('data: {"type": "log", "message": "once"}')
    run.close()
    run.close()
    assert list(run.logs) == ["once"]


def test_log_line_cap_drops_the_oldest_and_counts_them() -> None:
    lines: list[str] = []
    for i in range(MAX_LOG_LINES + 50):
        lines += log_event(f"line {i}")
    run = feed_all(lines)
    assert len(run.logs) == MAX_LOG_LINES
    assert run.dropped_logs == 50
    assert run.logs[0] == "line 50"
    assert run.logs[-1] == f"line {MAX_LOG_LINES + 49}"
    assert run.log_bytes == sum(len(line.encode()) for line in run.logs)


def test_log_byte_cap_drops_the_oldest_and_counts_them() -> None:
    size = 10_000
    lines: list[str] = []
    for i in range(10):
        lines += log_event(str(i) * size)
    run = feed_all(lines)
    kept = MAX_LOG_BYTES // size  # 6 lines of 10 000 bytes fit in 64 KiB
    assert len(run.logs) == kept
    assert run.dropped_logs == 10 - kept
    assert run.logs[0] == str(10 - kept) * size
    assert run.logs[-1] == "9" * size
    assert run.log_bytes == kept * size
    assert run.log_bytes <= MAX_LOG_BYTES


def test_log_byte_cap_counts_utf8_bytes_not_characters() -> None:
    line = "é" * 20_000  # 40 000 bytes
    run = feed_all(log_event(line) + log_event(line))
    assert list(run.logs) == [line]
    assert run.dropped_logs == 1
    assert run.log_bytes == 40_000


def test_logs_and_result_coexist_with_caps() -> None:
    lines: list[str] = []
    for i in range(MAX_LOG_LINES + 1):
        lines += log_event(f"l{i}")
    lines += ['data: {"type": "result", "message": {"status": "failed"}}', ""]
    run = feed_all(lines)
    assert run.result == {"status": "failed"}
    assert run.dropped_logs == 1


def _body(lines: list[str], end: str) -> bytes:
    return "".join(line + end for line in lines).encode()


def test_a_body_fed_in_pieces_cut_anywhere_reads_as_its_lines() -> None:
    for end in ("\n", "\r\n", "\r"):
        body = _body(DOCUMENTED_STREAM, end)
        for cut in range(1, len(body)):
            run = RunStream()
            run.feed_bytes(body[:cut])
            run.feed_bytes(body[cut:])
            run.close()
            assert run.session_id == "sess_1", (end, cut)
            assert run.result == RESULT, (end, cut)
            assert list(run.logs) == ["Starting function...", "Opening https://example.com"]


def test_a_character_split_between_pieces_is_decoded_whole() -> None:
    body = _body(log_event("été ✓"), "\n")
    run = RunStream()
    for i in range(len(body)):
        run.feed_bytes(body[i : i + 1])
    run.close()
    assert list(run.logs) == ["été ✓"]


def test_a_last_line_without_its_end_is_read_at_close() -> None:
    run = RunStream()
    run.feed_bytes(("data: " + json.dumps({"type": "result", "message": RESULT})).encode())
    assert run.result is None
    run.close()
    assert run.result == RESULT


def test_a_lone_cr_at_the_end_of_a_piece_waits_for_what_follows() -> None:
    run = RunStream()
    run.feed_bytes(b'data: {"type": "log", "message": "a"}\r')
    run.feed_bytes(b"\n\r\n")
    assert list(run.logs) == ["a"]
