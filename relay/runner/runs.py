"""Runs kept in memory, and the runner's counters and fault plan (what /_local shows and sets).

A run is ``active`` from ``runs/create`` (or ``runs/start``) until it ends ``closed`` or
``failed``; a stopped run is ``failed`` with ``stopped_at`` set. A created run that was never
started is ``active`` with ``session_id`` null and no logs: relay tells a run that never
started by its null ``session_id``.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field, fields
from typing import Any, Literal

from relay.clock import Clock, SystemClock
from relay.runner.wire import iso

__all__ = ["Faults", "Run", "RunStatus", "RunnerState", "result_text"]

RunStatus = Literal["active", "closed", "failed"]


def result_text(result: Any) -> str | None:
    """The stored result, as ``GetFunctionRunResponse.result`` carries it: text or null.

    A string is kept as it is; any other value is its JSON text (as the SDK stores results).
    """
    if result is None or isinstance(result, str):
        return result
    return json.dumps(result)


@dataclass(slots=True, eq=False)
class Run:
    """One run. ``headers`` are the (masked) headers of the request that started it, or of the
    one that created it while it was not started; ``start_count`` counts executions (0 or 1),
    ``start_attempts`` every start request that named this run (a refused 409 included)."""

    function_id: str
    function_run_id: str
    created_at: float
    updated_at: float
    headers: dict[str, str]
    received_at: float
    status: RunStatus = "active"
    started: bool = False
    start_count: int = 0
    start_attempts: int = 0
    session_id: str | None = None
    logs: list[str] = field(default_factory=list)
    variables: dict[str, Any] | None = None
    result: Any = None
    stopped_at: float | None = None
    runtime: str | None = None
    callback_url: str | None = None
    stream: bool | None = None
    ended: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def finished(self) -> bool:
        return self.status != "active"

    def _ids(self) -> dict[str, str]:
        return {
            "function_id": self.function_id,
            "function_run_id": self.function_run_id,
            "workflow_id": self.function_id,
            "workflow_run_id": self.function_run_id,
        }

    def answer(self) -> dict[str, Any]:
        """``FunctionRunResponse``: what a start answers (and a stream's ``result`` event)."""
        return {
            "function_id": self.function_id,
            "function_run_id": self.function_run_id,
            "session_id": self.session_id,
            "result": self.result,
            "status": self.status,
        }

    def details(self) -> dict[str, Any]:
        """``GetFunctionRunResponse``: ``GET /functions/{id}/runs/{run_id}``."""
        return {
            **self._ids(),
            "created_at": iso(self.created_at),
            "updated_at": iso(self.updated_at),
            "status": self.status,
            "session_id": self.session_id,
            "logs": list(self.logs),
            "variables": self.variables,
            "result": result_text(self.result),
            "stopped_at": iso(self.stopped_at),
            "local": False,
            "function_version": None,
        }

    def list_item(self) -> dict[str, Any]:
        """``FunctionRunListItemResponse``: one item of ``GET /functions/{id}/runs/``."""
        return {
            **self._ids(),
            "created_at": iso(self.created_at),
            "updated_at": iso(self.updated_at),
            "status": self.status,
            "session_id": self.session_id,
            "local": False,
        }

    def created(self) -> dict[str, Any]:
        """``CreateFunctionRunResponse``: what ``runs/create`` answers."""
        return {**self._ids(), "created_at": iso(self.created_at), "status": "created"}

    def stopped(self) -> dict[str, Any]:
        """``UpdateFunctionRunResponse``: what a stop answers."""
        return {**self._ids(), "updated_at": iso(self.updated_at), "status": "stopped"}

    def to_local(self) -> dict[str, Any]:
        """The run as ``GET /_local/runs`` lists it (tests read it)."""
        return {
            "function_id": self.function_id,
            "function_run_id": self.function_run_id,
            "status": self.status,
            "started": self.started,
            "start_count": self.start_count,
            "start_attempts": self.start_attempts,
            "session_id": self.session_id,
            "variables": self.variables,
            "stream": self.stream,
            "runtime": self.runtime,
            "callback_url": self.callback_url,
            "result": self.result,
            "headers": self.headers,
            "received_at": self.received_at,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "stopped_at": self.stopped_at,
        }


@dataclass(slots=True)
class Faults:
    """Counted faults for the next run starts (each start that meets one uses one up):

    - ``fail_next``: answer 500 ``injected failure`` before anything is recorded or started;
    - ``throttle_next``: answer 429 with ``Retry-After: 1``, nothing recorded or started;
    - ``cut_after_start``: record and start the run, then close the connection without an
      answer (a stream: right after its ``session_start`` event).
    """

    fail_next: int = 0
    throttle_next: int = 0
    cut_after_start: int = 0

    def __post_init__(self) -> None:
        for name in self.names():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{name} must be an integer >= 0")

    @staticmethod
    def names() -> tuple[str, ...]:
        return tuple(f.name for f in fields(Faults))

    def take(self, name: str) -> bool:
        """Use up one ``name`` fault; ``False`` when none is left."""
        left: int = getattr(self, name)
        if left <= 0:
            return False
        setattr(self, name, left - 1)
        return True

    def to_json(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in self.names()}


class RunnerState:
    """Every run (oldest first), the fault plan and the counters, for tests and /_local.

    ``in_flight`` counts runs executing, ``peak_in_flight`` its highest value so far, ``total``
    every run started, ``created`` every run created (by ``runs/create`` or ``runs/start``),
    ``throttled`` every 429, ``conflicts`` every 409 on a second start, ``injected_failures``
    every injected 500 and ``cut`` every connection closed by ``cut_after_start``
    (``clear_runs`` resets none of them).
    """

    def __init__(self, clock: Clock | None = None, faults: Faults | None = None) -> None:
        self.clock: Clock = clock if clock is not None else SystemClock()
        self.faults = faults if faults is not None else Faults()
        self.started_at = self.clock.now()
        self._runs: dict[str, Run] = {}
        self.in_flight = 0
        self.peak_in_flight = 0
        self.total = 0
        self.created = 0
        self.throttled = 0
        self.conflicts = 0
        self.injected_failures = 0
        self.cut = 0

    @property
    def runs(self) -> list[Run]:
        return list(self._runs.values())

    def add(self, run: Run) -> None:
        self._runs[run.function_run_id] = run
        self.created += 1

    def get(self, function_id: str, run_id: str) -> Run | None:
        """The run ``run_id`` of ``function_id``; ``None`` when there is no such run."""
        run = self._runs.get(run_id)
        return run if run is not None and run.function_id == function_id else None

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

    def clear_runs(self) -> None:
        """Forget the runs (running ones go on, unlisted); the counters are kept."""
        self._runs.clear()

    def stats(self) -> dict[str, int]:
        return {
            "in_flight": self.in_flight,
            "peak_in_flight": self.peak_in_flight,
            "total": self.total,
            "created": self.created,
            "throttled": self.throttled,
            "conflicts": self.conflicts,
            "injected_failures": self.injected_failures,
            "cut": self.cut,
        }
