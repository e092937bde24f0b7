"""The run start's own way through the runner (past Starlette's router): what goes out on the
wire, message by message, for a run that ends at once and for one that takes time."""

from __future__ import annotations

import asyncio
import json
from collections.abc import MutableMapping
from typing import Any

import httpx

from relay.runner.app import RunnerOptions, RunnerState, create_runner_app

BODY = json.dumps({"workflow_id": "fn", "variables": {"n": 1}}).encode()


def scope(path: str = "/functions/fn/runs/start", root_path: str = "") -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": root_path,
        "query_string": b"",
        "headers": [(b"x-notte-api-key", b"k"), (b"content-type", b"application/json")],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 2),
    }


class Wire:
    """The ASGI messages an app sends, with an event per message."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        self.sent = asyncio.Event()

    async def receive(self) -> dict[str, Any]:
        return {"type": "http.request", "body": BODY, "more_body": False}

    async def send(self, message: MutableMapping[str, Any]) -> None:
        self.messages.append(dict(message))
        self.sent.set()

    @property
    def bodies(self) -> list[bytes]:
        return [m["body"] for m in self.messages if m["type"] == "http.response.body"]

    @property
    def headers(self) -> dict[bytes, bytes]:
        return dict(self.messages[0]["headers"])


def events(raw: bytes) -> list[str]:
    chunks = [c for c in raw.decode().split("\n\n") if c]
    return [json.loads(c.removeprefix("data: "))["type"] for c in chunks]


async def test_a_run_that_ends_at_once_is_answered_in_one_body_with_its_length() -> None:
    wire = Wire()
    await create_runner_app(RunnerOptions(echo_unknown=True))(scope(), wire.receive, wire.send)
    assert wire.messages[0]["status"] == 200
    assert wire.headers[b"content-type"] == b"text/event-stream; charset=utf-8"
    assert wire.headers[b"cache-control"] == b"no-cache"
    [body] = wire.bodies
    assert wire.headers[b"content-length"] == str(len(body)).encode()
    assert events(body) == ["session_start", "log", "log", "result"]


async def test_a_run_that_takes_time_streams_its_session_before_it_ends() -> None:
    gate = asyncio.Event()

    async def sleep(seconds: float) -> None:
        await gate.wait()

    state = RunnerState()
    app = create_runner_app(
        RunnerOptions(run_duration=5.0, echo_unknown=True), state=state, sleep=sleep
    )
    wire = Wire()
    answering = asyncio.create_task(app(scope(), wire.receive, wire.send))
    async with asyncio.timeout(5):
        while len(wire.bodies) < 1:
            await wire.sent.wait()
            wire.sent.clear()
    assert b"content-length" not in wire.headers  # chunked: the length is not known yet
    assert events(wire.bodies[0]) == ["session_start", "log"]
    assert state.in_flight == 1
    gate.set()
    await answering
    _, rest = wire.bodies
    assert events(rest) == ["log", "result"]
    assert wire.messages[-1]["more_body"] is False
    assert state.in_flight == 0


async def test_a_run_start_under_a_root_path_takes_the_router() -> None:
    app = create_runner_app(RunnerOptions(echo_unknown=True))
    transport = httpx.ASGITransport(app=app, root_path="/api")
    async with httpx.AsyncClient(transport=transport, base_url="http://runner") as client:
        answer = await client.post(
            "/api/functions/fn/runs/start",
            content=json.dumps({"workflow_id": "fn", "variables": {}, "stream": False}),
            headers={"x-notte-api-key": "k"},
        )
    assert answer.status_code == 200
    assert answer.json()["result"] == {"echo": {}}


async def test_a_path_the_router_would_not_match_is_not_taken_as_a_run_start() -> None:
    app = create_runner_app(RunnerOptions(echo_unknown=True))
    for path in (
        "/functions/a/b/runs/start",
        "/functions/fn/runs/start/",
        "/functions//runs/start",
    ):
        wire = Wire()
        await app(scope(path), wire.receive, wire.send)
        assert wire.messages[0]["status"] in (404, 307), path
