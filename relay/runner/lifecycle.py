"""A run's life: created, started (a task running the function), ended or stopped, announced.

- ``start`` gives the run its session, runs ``DIR/<function_id>.py`` in a task and counts it in
  flight until the task ends (or is cancelled).
- ``stop`` cancels the task (a function in a worker thread may go on, but what it returns is
  discarded) and ends the run ``failed`` with ``stopped_at`` set.
- When a run ends, its ``FunctionRunResponse`` is POSTed to its ``callback_url`` in the
  background (best effort: one try, a short timeout, logged; never delaying the run or an answer).
"""

from __future__ import annotations

import asyncio
import copy
import uuid
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

import httpx

from relay.logs import get_logger
from relay.runner.functions import FunctionLoader, RunOutcome
from relay.runner.runs import Run, RunnerState, RunStatus
from relay.runner.wire import RunFunctionRequest, log_line

__all__ = ["STOPPED_RESULT", "RunEngine"]

Sleep = Callable[[float], Awaitable[object]]
STOPPED_RESULT = "Function run stopped"


class RunEngine:
    def __init__(
        self,
        state: RunnerState,
        loader: FunctionLoader,
        *,
        run_duration: float,
        sleep: Sleep,
        http: httpx.AsyncClient | None,
        callback_timeout: float,
    ) -> None:
        self._state = state
        self._loader = loader
        self._run_duration = run_duration
        self._sleep = sleep
        self._http = http
        self._callback_timeout = callback_timeout
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._callbacks: set[asyncio.Task[None]] = set()
        self._log = get_logger()

    def create(self, function_id: str, headers: dict[str, str], received_at: float) -> Run:
        now = self._state.clock.now()
        run = Run(
            function_id=function_id,
            function_run_id=f"run_{uuid.uuid4().hex}",
            created_at=now,
            updated_at=now,
            headers=headers,
            received_at=received_at,
        )
        self._state.add(run)
        return run

    def start(
        self, run: Run, request: RunFunctionRequest, headers: dict[str, str], received_at: float
    ) -> None:
        """Start ``run`` (admitted already: counted in flight by ``RunnerState.try_admit``)."""
        now = self._state.clock.now()
        run.started = True
        run.start_count += 1
        run.session_id = f"session_{uuid.uuid4().hex}"
        run.variables = copy.deepcopy(request.variables)
        run.stream = request.stream
        run.runtime = request.runtime
        run.callback_url = request.callback_url
        run.headers = headers
        run.received_at = received_at
        run.updated_at = now
        run.logs.append(log_line(now, f"Starting function {run.function_id}"))
        self._state.total += 1
        variables = dict(request.variables or {})
        released = False

        def release() -> None:  # once: when the run ends, or when its task does
            nonlocal released
            if not released:
                released = True
                self._state.release()

        async def execute() -> None:
            try:
                if self._run_duration > 0:  # the run itself takes time, counted as in flight
                    await self._sleep(self._run_duration)
                outcome: RunOutcome = await self._loader.run(run.function_id, variables)
            finally:
                release()  # before the answer goes out (a done callback would come later)
            self.finish(run, outcome.status, outcome.result)

        task = asyncio.create_task(execute())
        self._tasks[run.function_run_id] = task

        def finished(done: asyncio.Task[None]) -> None:
            self._tasks.pop(run.function_run_id, None)
            release()  # a task cancelled before it started

        task.add_done_callback(finished)

    def finish(self, run: Run, status: RunStatus, result: Any, *, stopped: bool = False) -> None:
        """End ``run`` (once: a run that already ended keeps its outcome) and announce it."""
        if run.finished:
            return
        now = self._state.clock.now()
        run.status = status
        run.result = result
        run.updated_at = now
        if stopped:
            run.stopped_at = now
            run.logs.append(log_line(now, STOPPED_RESULT, level="ERROR"))
        else:
            text = f"Function {run.function_id} finished with status {status}"
            run.logs.append(log_line(now, text, level="ERROR" if status == "failed" else "INFO"))
        run.ended.set()
        if run.callback_url is not None:
            callback = asyncio.create_task(self._call_back(run.callback_url, run))
            self._callbacks.add(callback)
            callback.add_done_callback(self._callbacks.discard)

    def stop(self, run: Run) -> None:
        """Stop an active run: its task is cancelled and it ends ``failed``."""
        task = self._tasks.pop(run.function_run_id, None)
        self.finish(run, "failed", STOPPED_RESULT, stopped=True)
        if task is not None:
            task.cancel()

    async def wait(self, run: Run, seconds: float) -> None:
        """Until ``run`` ends or ``seconds`` have passed, whichever comes first."""
        if run.finished:
            return
        try:
            await asyncio.wait_for(run.ended.wait(), seconds)
        except TimeoutError:
            return

    async def _call_back(self, url: str, run: Run) -> None:
        host = urlsplit(url).hostname or ""  # never the whole URL: it may carry a token
        if urlsplit(url).scheme not in ("http", "https"):
            self._log.warning(
                "relay.runner.callback_skipped", run_id=run.function_run_id, reason="not http(s)"
            )
            return
        client = self._http
        if client is None:
            client = self._http = httpx.AsyncClient(follow_redirects=False)
        try:
            response = await client.post(url, json=run.answer(), timeout=self._callback_timeout)
        except httpx.HTTPError as exc:
            self._log.warning(
                "relay.runner.callback_failed",
                run_id=run.function_run_id,
                callback_host=host,
                error=type(exc).__name__,
            )
            return
        self._log.info(
            "relay.runner.callback_sent",
            run_id=run.function_run_id,
            callback_host=host,
            status_code=response.status_code,
        )
