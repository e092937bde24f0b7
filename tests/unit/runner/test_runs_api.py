"""The runner's run lifecycle as the Functions API exposes it: create, start by id (once), get,
stop, list, the non-streamed wait, callbacks and the counted faults."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from relay.runner.app import RunnerOptions, RunnerState, create_runner_app

KEY = "test-key"
AUTH = {"x-notte-api-key": KEY}
GATED = (
    "import asyncio, os\n\n"
    "async def run(gate, marker=None):\n"
    "    if marker:\n"
    "        open(marker, 'a').write('x')\n"
    "    while not os.path.exists(gate):\n"
    "        await asyncio.sleep(0.005)\n"
    "    return {'gate': 'open'}\n"
)


@asynccontextmanager
async def runner(
    tmp_path: Path, state: RunnerState | None = None, **options: Any
) -> AsyncIterator[httpx.AsyncClient]:
    (tmp_path / "gated.py").write_text(GATED)
    (tmp_path / "add.py").write_text("def run(a, b=2):\n    return a + b\n")
    app = create_runner_app(RunnerOptions(functions_dir=tmp_path, **options), state=state)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://runner", headers=AUTH
    ) as client:
        yield client


async def wait_until(condition: Callable[[], bool]) -> None:
    for _ in range(2000):
        if condition():
            return
        await asyncio.sleep(0.005)
    pytest.fail("condition not reached within 10 seconds")


async def get_run(client: httpx.AsyncClient, function_id: str, run_id: str) -> dict[str, Any]:
    response = await client.get(f"/functions/{function_id}/runs/{run_id}")
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def create(client: httpx.AsyncClient, function_id: str) -> str:
    response = await client.post(f"/functions/{function_id}/runs/create", json={})
    assert response.status_code == 200, response.text
    run_id: str = response.json()["function_run_id"]
    return run_id


def sse_types(text: str) -> list[str]:
    return [json.loads(c.removeprefix("data: "))["type"] for c in text.split("\n\n") if c]


# --- create, start by id, once ----------------------------------------------------------------


async def test_a_created_run_is_active_without_a_session_until_it_starts(tmp_path: Path) -> None:
    async with runner(tmp_path) as client:
        created = await client.post("/functions/add/runs/create", json={})
        run_id = created.json()["function_run_id"]
        before = await get_run(client, "add", run_id)
        started = await client.post(
            f"/functions/add/runs/{run_id}",
            json={"workflow_id": "add", "workflow_run_id": run_id, "variables": {"a": 1}},
        )
        after = await get_run(client, "add", run_id)
    assert created.json()["status"] == "created"
    assert created.json()["function_id"] == "add"
    assert (before["status"], before["session_id"], before["logs"]) == ("active", None, [])
    assert before["result"] is None
    assert started.status_code == 200
    assert after["status"] == "closed"
    assert after["session_id"] is not None
    assert after["result"] == "3"  # the result column is text: JSON of a non-string result
    assert after["variables"] == {"a": 1}


async def test_a_second_start_of_a_run_is_refused_with_409_and_never_runs_it_again(
    tmp_path: Path,
) -> None:
    marker = tmp_path / "ran"
    gate = tmp_path / "gate"
    state = RunnerState()
    body = {
        "workflow_id": "gated",
        "variables": {"gate": str(gate), "marker": str(marker)},
        "stream": False,
    }
    async with runner(tmp_path, state, sync_wait=0.0) as client:
        run_id = await create(client, "gated")
        first = await client.post(f"/functions/gated/runs/{run_id}", json=body)
        second = await client.post(f"/functions/gated/runs/{run_id}", json=body)
        gate.touch()
        await wait_until(lambda: state.runs[0].finished)
        third = await client.post(f"/functions/gated/runs/{run_id}", json=body)
        local = (await client.get("/_local/runs")).json()
    assert first.status_code == 200
    assert second.status_code == 409
    assert "already started" in second.json()["detail"]
    assert third.status_code == 409
    assert marker.read_text() == "x"
    assert (local[0]["start_count"], local[0]["start_attempts"]) == (1, 3)
    assert state.stats()["conflicts"] == 2


async def test_a_start_naming_another_run_in_its_body_is_refused(tmp_path: Path) -> None:
    async with runner(tmp_path) as client:
        run_id = await create(client, "add")
        response = await client.post(
            f"/functions/add/runs/{run_id}",
            json={"workflow_id": "add", "workflow_run_id": "run_other", "variables": {"a": 1}},
        )
        after = await get_run(client, "add", run_id)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "workflow_run_id"]
    assert after["session_id"] is None


async def test_function_id_is_accepted_as_the_workflow_id_alias(tmp_path: Path) -> None:
    async with runner(tmp_path) as client:
        response = await client.post(
            "/functions/add/runs/start",
            json={"function_id": "add", "variables": {"a": 5}, "stream": False},
        )
    assert response.status_code == 200
    assert response.json()["result"] == 7


async def test_variables_runtime_and_callback_url_are_optional_and_recorded(
    tmp_path: Path,
) -> None:
    async with runner(tmp_path) as client:
        response = await client.post(
            "/functions/add/runs/start",
            json={"workflow_id": "add", "variables": None, "runtime": "extended", "stream": False},
        )
        local = (await client.get("/_local/runs")).json()
    assert response.status_code == 200
    assert response.json()["status"] == "failed"  # run() misses its argument `a`
    assert (local[0]["runtime"], local[0]["variables"]) == ("extended", None)


# --- not found ----------------------------------------------------------------------------------


async def test_an_unknown_function_is_404_everywhere(tmp_path: Path) -> None:
    state = RunnerState()
    async with runner(tmp_path, state) as client:
        answers = [
            await client.get("/functions/nope"),
            await client.post("/functions/nope/runs/start", json={"workflow_id": "nope"}),
            await client.post("/functions/nope/runs/create", json={}),
            await client.get("/functions/nope/runs/"),
            await client.get("/functions/nope/runs/run_x"),
            await client.delete("/functions/nope/runs/run_x"),
        ]
    assert [a.status_code for a in answers] == [404] * 6
    assert all("not found" in a.json()["detail"] for a in answers)
    assert state.runs == []


async def test_an_unknown_run_is_404_to_start_get_and_stop(tmp_path: Path) -> None:
    async with runner(tmp_path) as client:
        other = await create(client, "gated")
        answers = [
            await client.post("/functions/add/runs/run_x", json={"workflow_id": "add"}),
            await client.get("/functions/add/runs/run_x"),
            await client.delete("/functions/add/runs/run_x"),
            await client.get(f"/functions/add/runs/{other}"),  # a run of another function
        ]
    assert [a.status_code for a in answers] == [404] * 4
    assert answers[0].json() == {"detail": "Function run run_x not found"}


async def test_echo_unknown_lets_a_function_without_a_file_run(tmp_path: Path) -> None:
    async with runner(tmp_path, echo_unknown=True) as client:
        response = await client.post(
            "/functions/nope/runs/start",
            json={"workflow_id": "nope", "variables": {"n": 1}, "stream": False},
        )
    assert response.json()["result"] == {"echo": {"n": 1}}


# --- the non-streamed wait and stop -------------------------------------------------------------


async def test_a_run_longer_than_sync_wait_answers_active_then_closes_in_the_background(
    tmp_path: Path,
) -> None:
    gate = tmp_path / "gate"
    state = RunnerState()
    async with runner(tmp_path, state, sync_wait=0.0) as client:
        response = await client.post(
            "/functions/gated/runs/start",
            json={"workflow_id": "gated", "variables": {"gate": str(gate)}, "stream": False},
        )
        run_id = response.json()["function_run_id"]
        during = await get_run(client, "gated", run_id)
        gate.touch()
        await wait_until(lambda: state.runs[0].finished)
        after = await get_run(client, "gated", run_id)
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["result"]) == ("active", None)
    assert response.json()["session_id"] is not None
    assert during["status"] == "active"
    assert (after["status"], json.loads(after["result"])) == ("closed", {"gate": "open"})


async def test_stop_cancels_a_run_which_ends_failed_and_its_stream_with_it(
    tmp_path: Path,
) -> None:
    gate = tmp_path / "gate"
    state = RunnerState()
    async with runner(tmp_path, state) as client:
        streaming = asyncio.create_task(
            client.post(
                "/functions/gated/runs/start",
                json={"workflow_id": "gated", "variables": {"gate": str(gate)}},
            )
        )
        await wait_until(lambda: state.in_flight == 1)
        run_id = state.runs[0].function_run_id
        stopped = await client.delete(f"/functions/gated/runs/{run_id}")
        stream = await streaming
        after = await get_run(client, "gated", run_id)
        again = await client.delete(f"/functions/gated/runs/{run_id}")
        gate.touch()
    assert stopped.status_code == 200
    assert stopped.json()["status"] == "stopped"
    assert stopped.json()["function_run_id"] == run_id
    assert sse_types(stream.text)[-1] == "result"
    result = json.loads(stream.text.strip().split("\n\n")[-1].removeprefix("data: "))
    assert json.loads(result["message"])["status"] == "failed"
    assert after["status"] == "failed"
    assert after["stopped_at"] is not None
    assert state.in_flight == 0
    assert again.status_code == 409
    assert "already ended with status failed" in again.json()["detail"]


async def test_a_stopped_run_that_never_started_cannot_be_started(tmp_path: Path) -> None:
    async with runner(tmp_path) as client:
        run_id = await create(client, "add")
        stopped = await client.delete(f"/functions/add/runs/{run_id}")
        start = await client.post(f"/functions/add/runs/{run_id}", json={"workflow_id": "add"})
        after = await get_run(client, "add", run_id)
    assert stopped.status_code == 200
    assert start.status_code == 409
    assert (after["status"], after["session_id"]) == ("failed", None)


# --- list ---------------------------------------------------------------------------------------


async def test_runs_are_listed_newest_first_by_page_and_only_active_on_request(
    tmp_path: Path,
) -> None:
    async with runner(tmp_path) as client:
        created = [await create(client, "add") for _ in range(3)]
        await client.post(f"/functions/add/runs/{created[0]}", json={"workflow_id": "add"})
        first = (await client.get("/functions/add/runs/", params={"page_size": 2})).json()
        second = (await client.get("/functions/add/runs/?page=2&page_size=2")).json()
        active = (await client.get("/functions/add/runs/?only_active=True")).json()
        bad = await client.get("/functions/add/runs/?page_size=101")
    assert [item["function_run_id"] for item in first["items"]] == created[::-1][:2]
    assert (first["has_next"], first["has_previous"]) == (True, False)
    assert [item["function_run_id"] for item in second["items"]] == [created[0]]
    assert (second["has_next"], second["has_previous"]) == (False, True)
    assert {item["function_run_id"] for item in active["items"]} == set(created[1:])
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["loc"] == ["query", "page_size"]


# --- callbacks ----------------------------------------------------------------------------------


@contextmanager
def callback_server() -> Iterator[tuple[str, list[tuple[str, bytes]]]]:
    received: list[tuple[str, bytes]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", "0"))
            received.append((self.path, self.rfile.read(length)))
            self.send_response(204)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", received
    finally:
        server.shutdown()
        server.server_close()


async def test_the_callback_url_receives_the_final_answer_when_the_run_ends(
    tmp_path: Path,
) -> None:
    with callback_server() as (url, received):
        async with runner(tmp_path) as client:
            response = await client.post(
                "/functions/add/runs/start",
                json={
                    "workflow_id": "add",
                    "variables": {"a": 40},
                    "stream": False,
                    "callback_url": f"{url}/done?token=t",
                },
            )
            await wait_until(lambda: len(received) == 1)
    [(path, body)] = received
    assert path == "/done?token=t"
    assert json.loads(body) == response.json()
    assert json.loads(body)["result"] == 42


async def test_an_unreachable_callback_url_does_not_hold_the_run(tmp_path: Path) -> None:
    with callback_server() as (url, _):
        pass  # closed: nothing listens there any more
    async with runner(tmp_path) as client:
        response = await client.post(
            "/functions/add/runs/start",
            json={
                "workflow_id": "add",
                "variables": {"a": 1},
                "stream": False,
                "callback_url": url,
            },
        )
    assert response.json()["status"] == "closed"


# --- faults -------------------------------------------------------------------------------------


async def test_fail_next_and_throttle_next_are_used_up_one_start_each(tmp_path: Path) -> None:
    state = RunnerState()
    body = {"workflow_id": "add", "variables": {"a": 1}, "stream": False}
    async with runner(tmp_path, state, fail_next=1) as client:
        plan = await client.post("/_local/faults", json={"throttle_next": 2})
        statuses = [
            (await client.post("/functions/add/runs/start", json=body)).status_code
            for _ in range(4)
        ]
        throttled = await client.post("/functions/add/runs/start", json=body)  # none left: answered
        left = (await client.get("/_local/faults")).json()
        await client.post("/_local/faults", json={"throttle_next": 1})
        refused = await client.post("/functions/add/runs/start", json=body)
    assert plan.json() == {"fail_next": 1, "throttle_next": 2, "cut_after_start": 0}
    assert statuses == [500, 429, 429, 200]
    assert throttled.status_code == 200
    assert left == {"fail_next": 0, "throttle_next": 0, "cut_after_start": 0}
    assert (refused.status_code, refused.headers["retry-after"]) == (429, "1")
    assert len(state.runs) == 2  # only the answered starts made runs
    assert state.stats()["injected_failures"] == 1


@pytest.mark.parametrize(
    "body",
    [{"fail_next": -1}, {"fail_next": "2"}, {"fail_next": True}, {"explode": 1}, [1]],
)
async def test_a_fault_plan_that_is_not_counts_is_refused(tmp_path: Path, body: Any) -> None:
    async with runner(tmp_path) as client:
        response = await client.post("/_local/faults", json=body)
        plan = (await client.get("/_local/faults")).json()
    assert response.status_code == 422
    assert plan == {"fail_next": 0, "throttle_next": 0, "cut_after_start": 0}


async def test_health_answers_200_json(tmp_path: Path) -> None:
    async with runner(tmp_path) as client:
        response = await client.get("/health", headers={"x-notte-api-key": ""})
    assert (response.status_code, response.json()) == (200, {"status": "ok"})
