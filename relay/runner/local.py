"""``/_local/...``: what tests read and set on the runner (not part of Notte's API).

- ``GET /_local/runs``: every run, oldest first (``Run.to_local``); ``DELETE`` forgets them.
- ``GET /_local/stats``: the counters (``RunnerState.stats``).
- ``GET /_local/faults``: the fault plan, e.g. ``{"fail_next": 0, "throttle_next": 0,
  "cut_after_start": 0}``; ``POST`` a JSON object with any of these keys (integers >= 0) sets
  them (the others are kept) and answers the whole plan; anything else is refused with 422.
"""

from __future__ import annotations

import json

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from relay.runner.runs import Faults, RunnerState
from relay.runner.wire import detail

__all__ = ["local_routes"]


def local_routes(state: RunnerState) -> list[Route]:
    async def list_runs(request: Request) -> Response:
        return JSONResponse([run.to_local() for run in state.runs])

    async def clear_runs(request: Request) -> Response:
        state.clear_runs()
        return Response(status_code=204)

    async def stats(request: Request) -> Response:
        return JSONResponse(state.stats())

    async def get_faults(request: Request) -> Response:
        return JSONResponse(state.faults.to_json())

    async def set_faults(request: Request) -> Response:
        try:
            body = json.loads(await request.body())
        except (json.JSONDecodeError, UnicodeDecodeError):
            return detail(422, "the body must be a JSON object")
        if not isinstance(body, dict):
            return detail(422, "the body must be a JSON object")
        unknown = sorted(set(body) - set(Faults.names()))
        if unknown:
            return detail(422, f"unknown faults: {', '.join(unknown)}")
        try:
            wanted = Faults(**{**state.faults.to_json(), **body})
        except (TypeError, ValueError) as exc:
            return detail(422, str(exc))
        state.faults = wanted
        return JSONResponse(state.faults.to_json())

    return [
        Route("/_local/runs", list_runs, methods=["GET"]),
        Route("/_local/runs", clear_runs, methods=["DELETE"]),
        Route("/_local/stats", stats, methods=["GET"]),
        Route("/_local/faults", get_faults, methods=["GET"]),
        Route("/_local/faults", set_faults, methods=["POST"]),
    ]
