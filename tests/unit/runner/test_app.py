from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from relay.runner.app import RunnerOptions, RunnerState, create_runner_app
from relay.runner.cli import add_parser

KEY = "test-key"
AUTH = {"x-notte-api-key": KEY}
START = "/functions/{}/runs/start"


@asynccontextmanager
async def client_for(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://runner") as client:
        yield client


@asynccontextmanager
async def runner(
    options: RunnerOptions | None = None,
    state: RunnerState | None = None,
    rng: random.Random | None = None,
    sleep: Callable[[float], Awaitable[object]] | None = None,
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_runner_app(
        options or RunnerOptions(echo_unknown=True),
        state=state,
        rng=rng,
        sleep=sleep if sleep is not None else asyncio.sleep,
    )
    async with client_for(app) as client:
        yield client


def run_body(variables: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    return {"workflow_id": "fn", "variables": variables or {}, **extra}


def log_text(message: str) -> str:
    """A streamed log line's text, as the SDK reads it (what follows the third ``|``)."""
    return re.sub(r"\x1b\[[0-9;]*m", "", message).split("|", 3)[-1].strip()


def sse_events(text: str) -> list[dict[str, str]]:
    chunks = [chunk for chunk in text.split("\n\n") if chunk]
    assert all(chunk.startswith("data: ") for chunk in chunks)
    return [json.loads(chunk.removeprefix("data: ")) for chunk in chunks]


def write_function(directory: Path, function_id: str, source: str) -> Path:
    path = directory / f"{function_id}.py"
    path.write_text(source)
    return path


# --- authentication ------------------------------------------------------------------------


async def test_a_run_without_any_api_key_is_refused_with_401() -> None:
    async with runner() as client:
        response = await client.post(START.format("fn"), json=run_body())
        basic = await client.post(
            START.format("fn"), json=run_body(), headers={"Authorization": f"Basic {KEY}"}
        )
    assert response.status_code == 401
    assert response.json() == {"detail": "Not authenticated"}
    assert basic.status_code == 401


async def test_a_bearer_token_alone_is_accepted_as_the_api_key() -> None:
    options = RunnerOptions(api_key=KEY, echo_unknown=True)
    async with runner(options) as client:
        right = await client.post(
            START.format("fn"),
            json=run_body(stream=False),
            headers={"Authorization": f"Bearer {KEY}"},
        )
        wrong = await client.post(
            START.format("fn"), json=run_body(), headers={"Authorization": "Bearer nope"}
        )
    assert right.status_code == 200
    assert right.json()["status"] == "closed"
    assert (wrong.status_code, wrong.json()) == (401, {"detail": "Invalid API key"})


async def test_any_api_key_is_accepted_when_none_is_configured() -> None:
    async with runner() as client:
        response = await client.post(
            START.format("fn"),
            json=run_body(stream=False),
            headers={"x-notte-api-key": "whatever", "Authorization": "Bearer other"},
        )
    assert response.status_code == 200


async def test_a_wrong_api_key_is_refused_when_a_key_is_configured() -> None:
    async with runner(RunnerOptions(api_key=KEY, echo_unknown=True)) as client:
        wrong = await client.post(
            START.format("fn"), json=run_body(), headers={"x-notte-api-key": "nope"}
        )
        right = await client.post(START.format("fn"), json=run_body(stream=False), headers=AUTH)
    assert wrong.status_code == 401
    assert wrong.json() == {"detail": "Invalid API key"}
    assert right.status_code == 200


# --- request validation (FastAPI-shaped 422) ---------------------------------------------------


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        pytest.param(
            {"workflow_id": "fn", "variables": {}, "local": False},
            [
                {
                    "type": "extra_forbidden",
                    "loc": ["body", "local"],
                    "msg": "Extra inputs are not permitted",
                    "input": False,
                }
            ],
            id="extra-key",
        ),
        pytest.param(
            {"workflow_id": "fn", "variables": {}, "function_id": "fn"},
            [
                {
                    "type": "extra_forbidden",
                    "loc": ["body", "function_id"],
                    "msg": "Extra inputs are not permitted",
                    "input": "fn",
                }
            ],
            id="both-id-spellings",
        ),
        pytest.param(
            {"variables": {}},
            [
                {
                    "type": "missing",
                    "loc": ["body", "workflow_id"],
                    "msg": "Field required",
                    "input": {"variables": {}},
                }
            ],
            id="missing-function-id",
        ),
        pytest.param(
            {"workflow_id": "fn", "runtime": "huge"},
            [
                {
                    "type": "literal_error",
                    "loc": ["body", "runtime"],
                    "msg": "Input should be 'standard' or 'extended'",
                    "input": "huge",
                    "ctx": {"expected": "'standard' or 'extended'"},
                }
            ],
            id="unknown-runtime",
        ),
        pytest.param(
            {"workflow_id": 7, "variables": [1], "stream": "false"},
            [
                {
                    "type": "string_type",
                    "loc": ["body", "workflow_id"],
                    "msg": "Input should be a valid string",
                    "input": 7,
                },
                {
                    "type": "dict_type",
                    "loc": ["body", "variables"],
                    "msg": "Input should be a valid dictionary",
                    "input": [1],
                },
                {
                    "type": "bool_type",
                    "loc": ["body", "stream"],
                    "msg": "Input should be a valid boolean",
                    "input": "false",
                },
            ],
            id="wrong-types",
        ),
        pytest.param(
            [1, 2],
            [
                {
                    "type": "model_attributes_type",
                    "loc": ["body"],
                    "msg": "Input should be a valid dictionary or object to extract fields from",
                    "input": [1, 2],
                }
            ],
            id="not-an-object",
        ),
        pytest.param(
            None,
            [{"type": "missing", "loc": ["body"], "msg": "Field required", "input": None}],
            id="json-null",
        ),
    ],
)
async def test_an_invalid_body_is_refused_with_fastapi_validation_details(
    body: Any, errors: list[dict[str, Any]]
) -> None:
    state = RunnerState()
    async with runner(state=state) as client:
        response = await client.post(START.format("fn"), json=body, headers=AUTH)
    assert response.status_code == 422
    assert response.json() == {"detail": errors}
    assert state.runs == []
    assert state.total == 0


async def test_a_body_that_is_not_json_is_refused_as_json_invalid() -> None:
    raw = b'{"workflow_id": "fn", "variables": {'
    async with runner() as client:
        response = await client.post(
            START.format("fn"),
            content=raw,
            headers={**AUTH, "content-type": "application/json"},
        )
    assert response.status_code == 422
    assert response.json() == {
        "detail": [
            {
                "type": "json_invalid",
                "loc": ["body", len(raw)],
                "msg": "JSON decode error",
                "input": {},
                "ctx": {"error": "Expecting property name enclosed in double quotes"},
            }
        ]
    }


async def test_an_empty_body_is_refused_as_a_missing_body() -> None:
    async with runner() as client:
        response = await client.post(START.format("fn"), headers=AUTH)
    assert response.status_code == 422
    assert response.json()["detail"] == [
        {"type": "missing", "loc": ["body"], "msg": "Field required", "input": None}
    ]


async def test_invalid_json_is_reported_before_the_api_key_is_checked() -> None:
    async with runner() as client:
        response = await client.post(
            START.format("fn"), content=b"{", headers={"content-type": "application/json"}
        )
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "json_invalid"


async def test_a_json_body_sent_as_form_data_is_not_parsed() -> None:
    raw = json.dumps(run_body())
    async with runner() as client:
        response = await client.post(
            START.format("fn"),
            content=raw,
            headers={**AUTH, "content-type": "application/x-www-form-urlencoded"},
        )
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "model_attributes_type"
    assert response.json()["detail"][0]["input"] == raw


# --- answers -------------------------------------------------------------------------------------


async def test_a_non_streamed_run_without_a_function_file_echoes_its_variables() -> None:
    async with runner() as client:
        response = await client.post(
            START.format("func_abc123"),
            json=run_body({"url": "https://example.com", "n": 2}, stream=False),
            headers=AUTH,
        )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    answer = response.json()
    assert list(answer) == ["function_id", "function_run_id", "session_id", "result", "status"]
    assert answer["function_id"] == "func_abc123"
    assert re.fullmatch(r"run_[0-9a-f]{32}", answer["function_run_id"])
    assert re.fullmatch(r"session_[0-9a-f]{32}", answer["session_id"])
    assert answer["result"] == {"echo": {"url": "https://example.com", "n": 2}}
    assert answer["status"] == "closed"


async def test_a_run_streams_by_default_session_start_then_logs_then_the_result() -> None:
    async with runner() as client:
        response = await client.post(START.format("fn"), json=run_body({"a": 1}), headers=AUTH)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    events = sse_events(response.text)
    assert [event["type"] for event in events] == ["session_start", "log", "log", "result"]
    assert log_text(events[1]["message"]) == "Starting function fn"
    assert log_text(events[2]["message"]) == "Function fn finished with status closed"
    assert events[1]["message"].startswith("\x1b[32m")  # coloured, as the real API's lines
    answer = json.loads(events[-1]["message"])
    assert answer["session_id"] == events[0]["message"]
    assert answer["function_id"] == "fn"
    assert answer["result"] == {"echo": {"a": 1}}
    assert answer["status"] == "closed"


async def test_a_function_file_is_run_with_the_variables_as_keyword_arguments(
    tmp_path: Path,
) -> None:
    write_function(tmp_path, "add", "def run(a, b):\n    return a + b\n")
    async with runner(RunnerOptions(functions_dir=tmp_path)) as client:
        response = await client.post(
            START.format("add"), json=run_body({"a": 2, "b": 3}, stream=False), headers=AUTH
        )
    assert response.json()["result"] == 5
    assert response.json()["status"] == "closed"


async def test_an_async_function_is_awaited(tmp_path: Path) -> None:
    source = (
        "import asyncio\n\n"
        "async def run(name):\n"
        "    await asyncio.sleep(0)\n"
        "    return {'hi': name}\n"
    )
    write_function(tmp_path, "greet", source)
    async with runner(RunnerOptions(functions_dir=tmp_path)) as client:
        response = await client.post(
            START.format("greet"), json=run_body({"name": "x"}, stream=False), headers=AUTH
        )
    assert response.json()["result"] == {"hi": "x"}


async def test_an_edited_function_file_is_reloaded(tmp_path: Path) -> None:
    path = write_function(tmp_path, "v", "def run():\n    return 1\n")
    async with runner(RunnerOptions(functions_dir=tmp_path)) as client:
        first = await client.post(START.format("v"), json=run_body(stream=False), headers=AUTH)
        path.write_text("def run():\n    return 2\n")
        stat = path.stat()
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
        second = await client.post(START.format("v"), json=run_body(stream=False), headers=AUTH)
    assert (first.json()["result"], second.json()["result"]) == (1, 2)


@pytest.mark.parametrize(
    ("source", "error"),
    [
        pytest.param("def run(x):\n    raise ValueError('boom')", "ValueError: boom", id="raises"),
        pytest.param("def run():\n    return 1\n", "TypeError: run() got an unexpected", id="args"),
        pytest.param("def run(x):\n    return {1, 2}\n", "TypeError: Object of type set", id="set"),
        pytest.param("run = 3\n", "AttributeError: f.py does not define", id="no-run"),
        pytest.param("def run(:\n", "SyntaxError", id="syntax"),
    ],
)
async def test_a_failing_function_is_reported_as_a_failed_run_with_status_200(
    tmp_path: Path, source: str, error: str
) -> None:
    write_function(tmp_path, "f", source)
    async with runner(RunnerOptions(functions_dir=tmp_path)) as client:
        plain = await client.post(
            START.format("f"), json=run_body({"x": 1}, stream=False), headers=AUTH
        )
        streamed = await client.post(START.format("f"), json=run_body({"x": 1}), headers=AUTH)
    assert plain.status_code == 200
    assert plain.json()["status"] == "failed"
    assert plain.json()["result"].startswith(error)
    events = sse_events(streamed.text)
    assert log_text(events[2]["message"]) == "Function f finished with status failed"
    assert json.loads(events[-1]["message"])["status"] == "failed"


# --- function ids --------------------------------------------------------------------------------


@pytest.mark.parametrize("function_id", ["..%2Fevil", "..%2F..%2Fevil", "a%20b", "x" * 129])
async def test_a_function_id_outside_the_allowed_form_is_not_found_and_not_imported(
    tmp_path: Path, function_id: str
) -> None:
    functions = tmp_path / "functions"
    functions.mkdir()
    marker = tmp_path / "imported"
    (tmp_path / "evil.py").write_text(f"open({str(marker)!r}, 'w').close()\ndef run(): pass\n")
    state = RunnerState()
    async with runner(RunnerOptions(functions_dir=functions), state=state) as client:
        response = await client.post(
            START.format(function_id), json=run_body(stream=False), headers=AUTH
        )
    assert response.status_code == 404
    assert "detail" in response.json()
    assert not marker.exists()
    assert state.runs == []


async def test_a_symlink_leaving_the_functions_directory_is_not_followed(tmp_path: Path) -> None:
    functions = tmp_path / "functions"
    functions.mkdir()
    marker = tmp_path / "imported"
    outside = tmp_path / "outside.py"
    outside.write_text(f"open({str(marker)!r}, 'w').close()\ndef run(): pass\n")
    (functions / "link.py").symlink_to(outside)
    async with runner(RunnerOptions(functions_dir=functions)) as client:
        response = await client.post(START.format("link"), json=run_body(), headers=AUTH)
    assert response.status_code == 404
    assert not marker.exists()


async def test_unknown_paths_and_methods_get_json_404_and_405() -> None:
    async with runner() as client:
        missing = await client.post("/functions/fn/runs/x/begin", json=run_body(), headers=AUTH)
        wrong_method = await client.put(START.format("fn"), headers=AUTH)
    assert (missing.status_code, missing.json()) == (404, {"detail": "Not Found"})
    assert (wrong_method.status_code, wrong_method.json()) == (
        405,
        {"detail": "Method Not Allowed"},
    )


# --- fault injection -----------------------------------------------------------------------------


async def test_failure_rate_one_answers_500_without_running_or_recording(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    write_function(tmp_path, "f", f"def run():\n    open({str(marker)!r}, 'w').close()\n")
    state = RunnerState()
    options = RunnerOptions(functions_dir=tmp_path, failure_rate=1.0)
    async with runner(options, state=state, rng=random.Random(1)) as client:
        response = await client.post(START.format("f"), json=run_body(), headers=AUTH)
    assert response.status_code == 500
    assert response.json() == {"detail": "injected failure"}
    assert not marker.exists()
    assert state.total == 0


async def test_failure_rate_follows_the_injected_random_generator() -> None:
    expected_rng = random.Random(42)
    expected = [500 if expected_rng.random() < 0.5 else 200 for _ in range(20)]
    options = RunnerOptions(failure_rate=0.5, echo_unknown=True)
    async with runner(options, rng=random.Random(42)) as client:
        statuses = [
            (
                await client.post(START.format("fn"), json=run_body(stream=False), headers=AUTH)
            ).status_code
            for _ in range(20)
        ]
    assert statuses == expected
    assert 200 in statuses
    assert 500 in statuses


async def test_latency_is_slept_before_answering() -> None:
    slept: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        slept.append(seconds)

    async with runner(RunnerOptions(latency=2.5, echo_unknown=True), sleep=fake_sleep) as client:
        ok = await client.post(START.format("fn"), json=run_body(stream=False), headers=AUTH)
        refused = await client.post(START.format("fn"), json=run_body())
    assert ok.status_code == 200
    assert refused.status_code == 401
    assert slept == [2.5, 2.5]


async def test_no_sleep_happens_without_latency() -> None:
    slept: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        slept.append(seconds)

    async with runner(sleep=fake_sleep) as client:
        await client.post(START.format("fn"), json=run_body(stream=False), headers=AUTH)
    assert slept == []


async def wait_until(condition: Callable[[], bool]) -> None:
    for _ in range(1000):
        if condition():
            return
        await asyncio.sleep(0.005)
    pytest.fail("condition not reached within 5 seconds")


async def test_runs_above_max_concurrency_are_answered_429_with_retry_after(
    tmp_path: Path,
) -> None:
    gate = tmp_path / "gate"
    source = (
        "import asyncio, os\n\n"
        "async def run(gate):\n"
        "    while not os.path.exists(gate):\n"
        "        await asyncio.sleep(0.005)\n"
        "    return 'done'\n"
    )
    write_function(tmp_path, "slow", source)
    state = RunnerState()
    options = RunnerOptions(functions_dir=tmp_path, max_concurrency=1)
    body = run_body({"gate": str(gate)}, stream=False)
    async with runner(options, state=state) as client:
        first = asyncio.create_task(client.post(START.format("slow"), json=body, headers=AUTH))
        await wait_until(lambda: state.in_flight == 1)
        second = await client.post(START.format("slow"), json=body, headers=AUTH)
        gate.touch()
        first_response = await first
        await wait_until(lambda: state.in_flight == 0)
        third = await client.post(START.format("slow"), json=body, headers=AUTH)
        stats = (await client.get("/_local/stats")).json()
    assert second.status_code == 429
    assert second.headers["retry-after"] == "1"
    assert second.json() == {"detail": "Too many concurrent runs"}
    assert first_response.json()["result"] == "done"
    assert third.status_code == 200
    assert stats["in_flight"] == 0
    assert (stats["peak_in_flight"], stats["total"], stats["throttled"]) == (1, 2, 1)


# --- inspection ----------------------------------------------------------------------------------


async def test_local_runs_records_variables_and_masks_credentials_newest_last() -> None:
    state = RunnerState()
    headers = {**AUTH, "Authorization": f"Bearer {KEY}", "X-Trace": "t1"}
    async with runner(RunnerOptions(api_key=KEY, echo_unknown=True), state=state) as client:
        await client.post(START.format("one"), json=run_body({"n": 1}), headers=headers)
        await client.post(START.format("two"), json=run_body({"n": 2}, stream=False), headers=AUTH)
        await client.post(START.format("three"), json=run_body(), headers={"x-notte-api-key": "x"})
        listed = (await client.get("/_local/runs")).json()
        stats = (await client.get("/_local/stats")).json()
        cleared = await client.delete("/_local/runs")
        after = (await client.get("/_local/runs")).json()
    assert [run["function_id"] for run in listed] == ["one", "two"]
    first = listed[0]
    assert set(first) >= {
        "function_id",
        "function_run_id",
        "status",
        "started",
        "start_count",
        "start_attempts",
        "session_id",
        "variables",
        "stream",
        "headers",
        "received_at",
    }
    assert (first["status"], first["started"], first["start_count"]) == ("closed", True, 1)
    assert first["variables"] == {"n": 1}
    assert first["stream"] is True
    assert listed[1]["stream"] is False
    assert first["headers"]["x-notte-api-key"] == "***"
    assert first["headers"]["authorization"] == "***"
    assert first["headers"]["x-trace"] == "t1"
    assert KEY not in json.dumps(listed)
    assert (stats["in_flight"], stats["peak_in_flight"], stats["total"]) == (0, 1, 2)
    assert stats["throttled"] == 0
    assert cleared.status_code == 204
    assert after == []
    assert state.total == 2


async def test_the_recorded_run_id_matches_the_answer() -> None:
    state = RunnerState()
    async with runner(state=state) as client:
        response = await client.post(START.format("fn"), json=run_body(stream=False), headers=AUTH)
    assert state.runs[0].function_run_id == response.json()["function_run_id"]


# --- options and command line --------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [
        {"failure_rate": 1.5},
        {"failure_rate": -0.1},
        {"latency": -1.0},
        {"max_concurrency": 0},
        {"sync_wait": -1.0},
        {"fail_next": -1},
        {"cut_after_start": -2},
    ],
)
def test_runner_options_refuse_out_of_range_values(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="must be"):
        RunnerOptions(**kwargs)


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="relay")
    add_parser(parser.add_subparsers(dest="command"))
    return parser


def test_local_runner_flags_have_the_documented_defaults() -> None:
    args = make_parser().parse_args(["local-runner"])
    assert (args.host, args.port, args.functions, args.api_key) == ("127.0.0.1", 8787, None, None)
    assert (args.latency, args.failure_rate, args.max_concurrency) == (0.0, 0.0, None)
    assert (args.echo_unknown, args.sync_wait) == (False, 300.0)
    assert (args.fail_next, args.throttle_next, args.cut_after_start) == (0, 0, 0)


def test_local_runner_flags_are_parsed() -> None:
    args = make_parser().parse_args(
        [
            "local-runner",
            "--port=9000",
            "--functions=fns",
            "--api-key=k",
            "--latency=0.5",
            "--failure-rate=0.25",
            "--max-concurrency=3",
            "--echo-unknown",
            "--sync-wait=2",
            "--fail-next=1",
            "--throttle-next=2",
            "--cut-after-start=3",
        ]
    )
    assert (args.port, args.functions, args.api_key) == (9000, Path("fns"), "k")
    assert (args.latency, args.failure_rate, args.max_concurrency) == (0.5, 0.25, 3)
    assert (args.echo_unknown, args.sync_wait) == (True, 2.0)
    assert (args.fail_next, args.throttle_next, args.cut_after_start) == (1, 2, 3)


@pytest.mark.parametrize(
    "flag",
    [
        "--failure-rate=1.5",
        "--latency=-1",
        "--max-concurrency=0",
        "--latency=x",
        "--sync-wait=-1",
        "--fail-next=-1",
        "--cut-after-start=x",
    ],
)
def test_local_runner_refuses_out_of_range_flags(flag: str) -> None:
    with pytest.raises(SystemExit) as exited:
        make_parser().parse_args(["local-runner", flag])
    assert exited.value.code == 2
