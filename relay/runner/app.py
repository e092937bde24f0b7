"""A local fake of Notte's Functions API (as notte-sdk 1.10.0 calls it), plus /_local routes.

Paths (``{id}`` a function, ``{run_id}`` one of its runs):

- ``GET /health``; ``GET /functions/{id}`` (the function's metadata, with a ``url`` to its code)
- ``POST /functions/{id}/runs/start`` (a new run) and ``POST /functions/{id}/runs/{run_id}``
  (start a created run; once: a second start is refused with 409)
- ``POST /functions/{id}/runs/create``; ``GET /functions/{id}/runs/`` (paginated)
- ``GET /functions/{id}/runs/{run_id}``; ``DELETE /functions/{id}/runs/{run_id}`` (stop)

A start is checked in the order FastAPI would apply to the real endpoint: the body is read and
JSON-decoded (422 ``json_invalid``), the API key checked (401), the body validated (422); then
come injected failures (500), the function (404), the run (404, or 409 once started or
stopped) and the concurrency limit (429). Only a start past all of these starts a run.

A function exists when ``DIR/<id>.py`` does; with ``echo_unknown``, any well-formed id does
(such a run echoes its variables). Runs live in memory (runs.py): a created run that was never
started is ``active`` with ``session_id`` null and no logs, which is how relay recognises a run
that never started. Stopping a run that already ended is refused with 409 (its outcome stands).
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TypeVar

import httpx
from pydantic import BaseModel, ConfigDict, Field
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from relay.runner._cut import Silence, cut, keep_connection
from relay.runner._fast import EVENT_STREAM_HEADERS, EventStream, StartRunShortcut
from relay.runner.cli import DEFAULT_SYNC_WAIT
from relay.runner.functions import FunctionLoader, InvalidFunctionIdError
from relay.runner.lifecycle import RunEngine
from relay.runner.local import local_routes
from relay.runner.runs import Faults, Run, RunnerState
from relay.runner.wire import (
    RunFunctionRequest,
    StartRunRequest,
    check_api_key,
    detail,
    iso,
    masked_headers,
    read_body,
    sse,
    validate,
)

__all__ = ["RunFunctionRequest", "RunnerApp", "RunnerOptions", "RunnerState", "create_runner_app"]

Sleep = Callable[[float], Awaitable[object]]
Q = TypeVar("Q", bound=BaseModel)


@dataclass(frozen=True, slots=True)
class RunnerOptions:
    """How the local runner behaves; the defaults answer every valid run at once.

    ``sync_wait``: how long a non-streamed start waits for its run before answering ``active``.
    ``fail_next``, ``throttle_next``, ``cut_after_start``: the initial fault plan (runs.Faults).
    """

    functions_dir: Path | None = None
    api_key: str | None = None
    latency: float = 0.0
    run_duration: float = 0.0
    failure_rate: float = 0.0
    max_concurrency: int | None = None
    echo_unknown: bool = False
    sync_wait: float = DEFAULT_SYNC_WAIT
    callback_timeout: float = 5.0
    fail_next: int = 0
    throttle_next: int = 0
    cut_after_start: int = 0

    def __post_init__(self) -> None:
        if self.latency < 0 or self.run_duration < 0 or self.sync_wait < 0:
            raise ValueError("latency, run_duration and sync_wait must be >= 0")
        if self.callback_timeout <= 0:
            raise ValueError("callback_timeout must be > 0")
        if not 0.0 <= self.failure_rate <= 1.0:
            raise ValueError("failure_rate must be between 0 and 1")
        if self.max_concurrency is not None and self.max_concurrency < 1:
            raise ValueError("max_concurrency must be >= 1")
        self.faults()  # the counts must be >= 0

    def faults(self) -> Faults:
        return Faults(self.fail_next, self.throttle_next, self.cut_after_start)


class ListRunsQuery(BaseModel):
    """``GET /functions/{id}/runs/``'s query (the SDK sends ``only_active=True``)."""

    model_config = ConfigDict(extra="ignore")

    page: int = Field(default=1, ge=1)
    page_size: int = Field(default=10, ge=1, le=100)
    only_active: bool = False


class RunQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    payload_mode: Literal["inline", "references"] = "inline"


def _query(model: type[Q], params: Mapping[str, str]) -> Q | Response:
    response = validate(model, dict(params))
    if isinstance(response, Response):
        errors = json.loads(bytes(response.body))["detail"]
        for error in errors:
            error["loc"] = ["query", *error["loc"][1:]]
        return detail(422, errors)
    return response


async def _http_error(request: Request, exc: Exception) -> Response:
    """JSON errors for unknown paths (404) and methods (405), as FastAPI answers them."""
    if not isinstance(exc, HTTPException):
        raise exc
    return detail(exc.status_code, exc.detail, exc.headers)


class RunnerApp(Starlette):
    """Starlette, keeping each request's connection at hand for ``cut_after_start``."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            keep_connection(scope, send)
        await super().__call__(scope, receive, send)


def create_runner_app(
    options: RunnerOptions,
    *,
    state: RunnerState | None = None,
    sleep: Sleep = asyncio.sleep,
    rng: random.Random | None = None,
    http: httpx.AsyncClient | None = None,
) -> RunnerApp:
    """The local runner as an ASGI app; pass ``state`` to inspect what arrived, ``http`` for
    the client that POSTs to callback URLs."""
    runner_state = state if state is not None else RunnerState(faults=options.faults())
    if state is not None:
        for name, count in options.faults().to_json().items():
            if count:
                setattr(runner_state.faults, name, count)
    chance = rng if rng is not None else random.Random()
    loader = FunctionLoader(options.functions_dir)
    engine = RunEngine(
        runner_state,
        loader,
        run_duration=options.run_duration,
        sleep=sleep,
        http=http,
        callback_timeout=options.callback_timeout,
    )

    def function_exists(function_id: str) -> bool:
        try:
            path = loader.path_for(function_id)
        except InvalidFunctionIdError:
            return False
        return options.echo_unknown or (path is not None and path.is_file())

    def find_run(request: Request) -> Run | Response:
        function_id: str = request.path_params["function_id"]
        if not function_exists(function_id):
            return detail(404, f"Function {function_id} not found")
        run_id: str = request.path_params["run_id"]
        run = runner_state.get(function_id, run_id)
        if run is None:
            return detail(404, f"Function run {run_id} not found")
        return run

    async def start(request: Request, run_id: str | None) -> Response:
        received_at = runner_state.clock.now()
        if options.latency > 0:
            await sleep(options.latency)
        body = await read_body(request)
        if isinstance(body, Response):
            return body
        refused = check_api_key(request, options.api_key)
        if refused is not None:
            return refused
        parsed = validate(RunFunctionRequest if run_id is None else StartRunRequest, body)
        if isinstance(parsed, Response):
            return parsed
        named = getattr(parsed, "workflow_run_id", None)
        if named is not None and named != run_id:
            error = {
                "type": "value_error",
                "loc": ["body", "workflow_run_id"],
                "msg": "Value error, workflow_run_id does not match the run id of the path",
                "input": named,
            }
            return detail(422, [error])
        if runner_state.faults.take("fail_next") or (
            options.failure_rate > 0 and chance.random() < options.failure_rate
        ):
            runner_state.injected_failures += 1
            return detail(500, "injected failure")
        function_id: str = request.path_params["function_id"]
        if not function_exists(function_id):
            return detail(404, f"Function {function_id} not found")
        run: Run | None = None
        if run_id is not None:
            run = runner_state.get(function_id, run_id)
            if run is None:
                return detail(404, f"Function run {run_id} not found")
            run.start_attempts += 1
            if run.started or run.finished:
                runner_state.conflicts += 1
                why = "was already started" if run.started else f"has ended ({run.status})"
                return detail(409, f"Function run {run_id} {why}: it cannot be started again")
        if runner_state.faults.take("throttle_next"):
            runner_state.throttled += 1
            return detail(429, "Too many concurrent runs", {"Retry-After": "1"})
        if not runner_state.try_admit(options.max_concurrency):
            return detail(429, "Too many concurrent runs", {"Retry-After": "1"})

        headers = masked_headers(request)
        if run is None:
            run = engine.create(function_id, headers, received_at)
            run.start_attempts += 1
        engine.start(run, parsed, headers, received_at)
        cut_now = runner_state.faults.take("cut_after_start")
        if cut_now:
            runner_state.cut += 1
        return await answer(request, run, parsed.stream, cut_now)

    async def answer(request: Request, run: Run, stream: bool, cut_now: bool) -> Response:
        if not stream:
            if cut_now:
                await cut(request.scope)
                return Silence()
            await engine.wait(run, options.sync_wait)
            return JSONResponse(run.answer())
        sent = len(run.logs)
        head = sse({"type": "session_start", "message": run.session_id or ""}) + b"".join(
            sse({"type": "log", "message": line}) for line in run.logs
        )

        async def rest() -> bytes:
            await run.ended.wait()
            logs = b"".join(sse({"type": "log", "message": line}) for line in run.logs[sent:])
            return logs + sse({"type": "result", "message": json.dumps(run.answer())})

        if cut_now:
            return EventStream(head, rest, cut_after_head=True)
        if not run.finished:
            await asyncio.sleep(0)  # a run that takes no time has ended by now
        if run.finished:  # the whole stream at once
            return Response(
                head + await rest(), media_type="text/event-stream", headers=EVENT_STREAM_HEADERS
            )
        return EventStream(head, rest)

    async def start_new(request: Request) -> Response:
        return await start(request, None)

    async def start_created(request: Request) -> Response:
        return await start(request, request.path_params["run_id"])

    async def create_run(request: Request) -> Response:
        refused = check_api_key(request, options.api_key)
        if refused is not None:
            return refused
        function_id: str = request.path_params["function_id"]
        if not function_exists(function_id):
            return detail(404, f"Function {function_id} not found")
        run = engine.create(function_id, masked_headers(request), runner_state.clock.now())
        return JSONResponse(run.created())

    async def get_run(request: Request) -> Response:
        refused = check_api_key(request, options.api_key)
        if refused is not None:
            return refused
        query = _query(RunQuery, request.query_params)
        if isinstance(query, Response):
            return query
        run = find_run(request)
        return run if isinstance(run, Response) else JSONResponse(run.details())

    async def stop_run(request: Request) -> Response:
        refused = check_api_key(request, options.api_key)
        if refused is not None:
            return refused
        run = find_run(request)
        if isinstance(run, Response):
            return run
        if run.finished:
            reason = f"Function run {run.function_run_id} already ended with status {run.status}"
            return detail(409, reason)
        engine.stop(run)
        return JSONResponse(run.stopped())

    async def list_runs(request: Request) -> Response:
        refused = check_api_key(request, options.api_key)
        if refused is not None:
            return refused
        query = _query(ListRunsQuery, request.query_params)
        if isinstance(query, Response):
            return query
        function_id: str = request.path_params["function_id"]
        if not function_exists(function_id):
            return detail(404, f"Function {function_id} not found")
        runs = [
            run
            for run in reversed(runner_state.runs)
            if run.function_id == function_id and not (query.only_active and run.finished)
        ]
        first = (query.page - 1) * query.page_size
        page = runs[first : first + query.page_size]
        return JSONResponse(
            {
                "items": [run.list_item() for run in page],
                "page": query.page,
                "page_size": query.page_size,
                "has_next": first + query.page_size < len(runs),
                "has_previous": query.page > 1,
            }
        )

    async def get_function(request: Request) -> Response:
        refused = check_api_key(request, options.api_key)
        if refused is not None:
            return refused
        function_id: str = request.path_params["function_id"]
        if not function_exists(function_id):
            return detail(404, f"Function {function_id} not found")
        path = loader.path_for(function_id)
        changed = path.stat().st_mtime if path is not None and path.is_file() else None
        since = runner_state.started_at if changed is None else changed
        return JSONResponse(
            {
                "function_id": function_id,
                "workflow_id": function_id,
                "name": function_id,
                "description": None,
                "variables": await asyncio.to_thread(loader.parameters, function_id),
                "created_at": iso(since),
                "updated_at": iso(since),
                "latest_version": "1",
                "versions": ["1"],
                "status": "active",
                "default_runtime": "standard",
                "shared": False,
                "url": f"{str(request.base_url).rstrip('/')}/_local/functions/{function_id}/code",
            }
        )

    async def function_code(request: Request) -> Response:
        function_id: str = request.path_params["function_id"]
        try:
            path = loader.path_for(function_id)
        except InvalidFunctionIdError:
            path = None
        if path is None or not path.is_file():
            return detail(404, f"Function {function_id} has no code file")
        return PlainTextResponse(await asyncio.to_thread(path.read_text))

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    routes = [  # the first is also reached by a shortcut past the router (runner/_fast.py)
        Route("/functions/{function_id}/runs/start", start_new, methods=["POST"]),
        Route("/functions/{function_id}/runs/create", create_run, methods=["POST"]),
        Route("/functions/{function_id}/runs/", list_runs, methods=["GET"]),
        Route("/functions/{function_id}/runs/{run_id}", start_created, methods=["POST"]),
        Route("/functions/{function_id}/runs/{run_id}", get_run, methods=["GET"]),
        Route("/functions/{function_id}/runs/{run_id}", stop_run, methods=["DELETE"]),
        Route("/functions/{function_id}", get_function, methods=["GET"]),
        Route("/health", health, methods=["GET"]),
        Route("/_local/functions/{function_id}/code", function_code, methods=["GET"]),
        *local_routes(runner_state),
    ]
    return RunnerApp(
        routes=routes,
        exception_handlers={HTTPException: _http_error},
        middleware=[Middleware(StartRunShortcut, handler=start_new)],
    )
