"""A local fake of Notte's ``POST /functions/{function_id}/runs/start``, plus inspection routes.

Checks happen in the order FastAPI would apply them to the real endpoint: the body is read
and JSON-decoded (422 ``json_invalid``), then the API key is checked (401), then the body is
validated against ``RunFunctionRequest`` (422). After that come the fault knobs: injected
failures (500), the function id (404) and the concurrency limit (429). Only a run that got
past all of these is recorded and started.
"""

from __future__ import annotations

import asyncio
import copy
import email.message
import hmac
import json
import random
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from relay.clock import Clock, SystemClock
from relay.runner._fast import EVENT_STREAM_HEADERS, EventStream, StartRunShortcut
from relay.runner.functions import FunctionLoader, InvalidFunctionIdError, RunOutcome

__all__ = ["RunFunctionRequest", "RunnerOptions", "RunnerState", "create_runner_app"]

Sleep = Callable[[float], Awaitable[object]]
MASKED_HEADERS = frozenset({"x-notte-api-key", "authorization"})


@dataclass(frozen=True, slots=True)
class RunnerOptions:
    """How the local runner behaves; the defaults answer every valid run at once."""

    functions_dir: Path | None = None
    api_key: str | None = None
    latency: float = 0.0
    run_duration: float = 0.0
    failure_rate: float = 0.0
    max_concurrency: int | None = None

    def __post_init__(self) -> None:
        if self.latency < 0 or self.run_duration < 0:
            raise ValueError("latency and run_duration must be >= 0")
        if not 0.0 <= self.failure_rate <= 1.0:
            raise ValueError("failure_rate must be between 0 and 1")
        if self.max_concurrency is not None and self.max_concurrency < 1:
            raise ValueError("max_concurrency must be >= 1")


class RunFunctionRequest(BaseModel):
    """The request body of ``POST /functions/{function_id}/runs/start``."""

    model_config = ConfigDict(extra="forbid", strict=True)

    workflow_id: str
    variables: dict[str, Any]
    stream: bool = True


@dataclass(frozen=True, slots=True)
class RecordedRun:
    function_id: str
    function_run_id: str
    variables: dict[str, Any]
    stream: bool
    headers: dict[str, str]
    received_at: float

    def to_json(self) -> dict[str, Any]:
        return {
            "function_id": self.function_id,
            "function_run_id": self.function_run_id,
            "variables": self.variables,
            "stream": self.stream,
            "headers": self.headers,
            "received_at": self.received_at,
        }


class RunnerState:
    """Runs that were started (oldest first) and concurrency counters, for tests and /_local.

    ``in_flight`` counts runs in progress, ``peak_in_flight`` its highest value so far,
    ``total`` every run started and ``throttled`` every 429 answered (``clear_runs`` resets
    neither).
    """

    def __init__(self, clock: Clock | None = None) -> None:
        self.clock: Clock = clock if clock is not None else SystemClock()
        self._runs: list[RecordedRun] = []
        self.in_flight = 0
        self.peak_in_flight = 0
        self.total = 0
        self.throttled = 0

    @property
    def runs(self) -> list[RecordedRun]:
        return list(self._runs)

    def try_admit(self, limit: int | None) -> bool:
        """Count one more run in progress, unless ``limit`` runs are already in progress."""
        if limit is not None and self.in_flight >= limit:
            self.throttled += 1
            return False
        self.in_flight += 1
        self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        return True

    def release(self) -> None:
        self.in_flight -= 1

    def record(self, run: RecordedRun) -> None:
        self._runs.append(run)
        self.total += 1

    def clear_runs(self) -> None:
        """Forget the recorded runs; the counters are kept."""
        self._runs.clear()

    def stats(self) -> dict[str, int]:
        return {
            "in_flight": self.in_flight,
            "peak_in_flight": self.peak_in_flight,
            "total": self.total,
            "throttled": self.throttled,
        }


def _detail(status_code: int, detail: Any, headers: Mapping[str, str] | None = None) -> Response:
    return JSONResponse({"detail": detail}, status_code=status_code, headers=headers)


def _is_json_content_type(value: str | None) -> bool:
    if not value:
        return True
    message = email.message.Message()
    message["content-type"] = value
    subtype = message.get_content_subtype()
    return message.get_content_maintype() == "application" and (
        subtype == "json" or subtype.endswith("+json")
    )


async def _read_body(request: Request) -> Any:
    """The body as FastAPI hands it to validation, or an error response.

    Empty body -> ``None``; JSON content type (or none) -> decoded JSON; otherwise raw bytes.
    """
    raw = await request.body()
    if not raw:
        return None
    if not _is_json_content_type(request.headers.get("content-type")):
        return raw
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        error = {
            "type": "json_invalid",
            "loc": ["body", exc.pos],
            "msg": "JSON decode error",
            "input": {},
            "ctx": {"error": exc.msg},
        }
        return _detail(422, [error])
    except UnicodeDecodeError:
        return _detail(400, "There was an error parsing the body")


def _validate(body: Any) -> RunFunctionRequest | Response:
    if body is None:
        missing = {"type": "missing", "loc": ["body"], "msg": "Field required", "input": None}
        return _detail(422, [missing])
    try:
        return RunFunctionRequest.model_validate(body, from_attributes=True)
    except ValidationError as exc:
        errors = json.loads(exc.json(include_url=False))
        for error in errors:
            error["loc"] = ["body", *error["loc"]]
        return _detail(422, errors)


def _check_api_key(request: Request, expected: str | None) -> Response | None:
    given = request.headers.get("x-notte-api-key")
    if given is None:
        return _detail(401, "Missing x-notte-api-key header")
    if expected is not None and not hmac.compare_digest(given.encode(), expected.encode()):
        return _detail(401, "Invalid API key")
    return None


def _masked_headers(request: Request) -> dict[str, str]:
    return {
        name: "***" if name in MASKED_HEADERS else value for name, value in request.headers.items()
    }


def _sse(event: Mapping[str, str]) -> bytes:
    return f"data: {json.dumps(event)}\n\n".encode()


async def _http_error(request: Request, exc: Exception) -> Response:
    """JSON errors for unknown paths (404) and methods (405), as FastAPI answers them."""
    assert isinstance(exc, HTTPException)
    return _detail(exc.status_code, exc.detail, exc.headers)


def create_runner_app(
    options: RunnerOptions,
    *,
    state: RunnerState | None = None,
    sleep: Sleep = asyncio.sleep,
    rng: random.Random | None = None,
) -> Starlette:
    """The local runner as an ASGI app; pass ``state`` to inspect what arrived."""
    runner_state = state if state is not None else RunnerState()
    chance = rng if rng is not None else random.Random()
    loader = FunctionLoader(options.functions_dir)
    tasks: set[asyncio.Task[RunOutcome]] = set()

    async def execute(function_id: str, variables: dict[str, Any]) -> RunOutcome:
        if options.run_duration > 0:  # the run itself takes time, counted as in flight
            await sleep(options.run_duration)
        return await loader.run(function_id, variables)

    def spawn(function_id: str, variables: dict[str, Any]) -> asyncio.Task[RunOutcome]:
        released = False

        def release() -> None:  # once: when the run ends, or when its task does
            nonlocal released
            if not released:
                released = True
                runner_state.release()

        async def run() -> RunOutcome:
            try:
                return await execute(function_id, variables)
            finally:
                release()  # before the answer goes out (a done callback would come later)

        task = asyncio.create_task(run())
        tasks.add(task)

        def finished(done: asyncio.Task[RunOutcome]) -> None:
            tasks.discard(done)
            release()  # a task cancelled before it started

        task.add_done_callback(finished)
        return task

    async def start_run(request: Request) -> Response:
        received_at = runner_state.clock.now()
        if options.latency > 0:
            await sleep(options.latency)
        body = await _read_body(request)
        if isinstance(body, Response):
            return body
        refused = _check_api_key(request, options.api_key)
        if refused is not None:
            return refused
        parsed = _validate(body)
        if isinstance(parsed, Response):
            return parsed
        if options.failure_rate > 0 and chance.random() < options.failure_rate:
            return _detail(500, "injected failure")
        function_id: str = request.path_params["function_id"]
        try:
            loader.path_for(function_id)
        except InvalidFunctionIdError:
            return _detail(404, "Function not found")
        if not runner_state.try_admit(options.max_concurrency):
            return _detail(429, "Too many concurrent runs", {"Retry-After": "1"})

        run_id = f"run_{uuid.uuid4().hex}"
        session_id = f"session_{uuid.uuid4().hex}"
        runner_state.record(
            RecordedRun(
                function_id=function_id,
                function_run_id=run_id,
                variables=copy.deepcopy(parsed.variables),
                stream=parsed.stream,
                headers=_masked_headers(request),
                received_at=received_at,
            )
        )
        task = spawn(function_id, parsed.variables)

        def answer(outcome: RunOutcome) -> dict[str, Any]:
            return {
                "function_id": function_id,
                "function_run_id": run_id,
                "session_id": session_id,
                "result": outcome.result,
                "status": outcome.status,
            }

        if not parsed.stream:
            return JSONResponse(answer(await asyncio.shield(task)))

        head = _sse({"type": "session_start", "message": session_id}) + _sse(
            {"type": "log", "message": f"Starting function {function_id}"}
        )

        async def tail() -> bytes:
            outcome = await asyncio.shield(task)
            finished = f"Function {function_id} finished with status {outcome.status}"
            return _sse({"type": "log", "message": finished}) + _sse(
                {"type": "result", "message": json.dumps(answer(outcome))}
            )

        if not task.done():
            await asyncio.sleep(0)  # a run that takes no time has ended by now
        if task.done():  # the whole stream at once
            return Response(
                head + await tail(), media_type="text/event-stream", headers=EVENT_STREAM_HEADERS
            )
        return EventStream(head, tail())

    async def list_runs(request: Request) -> Response:
        return JSONResponse([run.to_json() for run in runner_state.runs])

    async def clear_runs(request: Request) -> Response:
        runner_state.clear_runs()
        return Response(status_code=204)

    async def stats(request: Request) -> Response:
        return JSONResponse(runner_state.stats())

    routes = [  # the first is also reached by a shortcut past the router (runner/_fast.py)
        Route("/functions/{function_id}/runs/start", start_run, methods=["POST"]),
        Route("/_local/runs", list_runs, methods=["GET"]),
        Route("/_local/runs", clear_runs, methods=["DELETE"]),
        Route("/_local/stats", stats, methods=["GET"]),
    ]
    return Starlette(
        routes=routes,
        exception_handlers={HTTPException: _http_error},
        middleware=[Middleware(StartRunShortcut, handler=start_run)],
    )
