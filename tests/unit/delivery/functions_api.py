"""An in-process Notte Functions API for the worker tests (a ``FakeSender``
handler), following the SDK's contract: ``runs/create`` gives a run id; ``POST runs/{id}``
starts it once (a second start is 409); ``GET runs/{id}`` is a ``GetFunctionRunResponse``
(a created run that never started is ``active`` with no session and no logs); ``DELETE
runs/{id}`` stops it. How each run goes is the test's: ``looks_until_done`` GETs answered
``active`` first, then ``outcome``. The real thing over sockets is ``relay local-runner``
(tests/integration)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from relay.delivery.outbound import AnswerLost, Reply, Request

__all__ = ["FunctionsApi", "Run"]


@dataclass
class Run:
    run_id: str
    function_id: str
    starts: int = 0
    looks: int = 0
    stopped: bool = False
    variables: dict[str, Any] = field(default_factory=dict)
    body: dict[str, Any] = field(default_factory=dict)


@dataclass
class FunctionsApi:
    outcome: str = "closed"  # how runs end: "closed" | "failed" | "never" (run forever)
    result: Any = "done"
    looks_until_done: int = 1  # GETs answered "active" before the outcome
    start_answer: str = "active"  # what a start answers: "active" or the outcome at once
    cut_start: int = 0  # the next N starts run, but their answer is lost (a transport error)
    runs: dict[str, Run] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)

    def _status(self, run: Run) -> str:
        if run.stopped:
            return "failed"
        if run.starts == 0:
            return "active"
        if self.outcome == "never" or run.looks <= self.looks_until_done:
            return "active"
        return self.outcome

    def _run_json(self, run: Run, status: str) -> dict[str, Any]:
        done = status != "active"
        return {
            "function_id": run.function_id,
            "function_run_id": run.run_id,
            "session_id": f"sess_{run.run_id}" if run.starts else None,
            "result": json.dumps(self.result) if done and not run.stopped else None,
            "status": status,
        }

    def __call__(self, request: Request) -> Reply:
        parts = request.url.path.strip("/").split("/")  # functions, fid, runs, x
        self.requests.append((request.method, request.url.path))
        function_id, last = parts[1], parts[-1]
        if request.method == "POST" and last == "create":
            run_id = f"run_{len(self.runs) + 1}"
            self.runs[run_id] = Run(run_id, function_id)
            return Reply(200, json={"function_id": function_id, "function_run_id": run_id})
        if request.method == "POST" and last == "start":
            run_id = f"run_{len(self.runs) + 1}"
            self.runs[run_id] = Run(run_id, function_id)
            return self._start(request, self.runs[run_id])
        run = self.runs.get(last)
        if run is None:
            return Reply(404, json={"detail": "Function run not found"})
        if request.method == "POST":
            if run.starts:
                return Reply(409, json={"detail": "Function run already started"})
            return self._start(request, run)
        if request.method == "GET":
            if run.starts:
                run.looks += 1
            body = self._run_json(run, self._status(run))
            body.update(
                workflow_id=run.function_id,
                workflow_run_id=run.run_id,
                logs=["step"] if run.starts else [],
                stopped_at=1.0 if run.stopped else None,
            )
            return Reply(200, json=body)
        if request.method == "DELETE":
            run.stopped = True
            return Reply(200, json={"function_run_id": run.run_id, "status": "stopped"})
        return Reply(405)

    def _start(self, request: Request, run: Run) -> Reply:
        run.starts += 1
        run.body = json.loads(request.content)
        run.variables = run.body.get("variables") or {}
        if self.cut_start:
            self.cut_start -= 1
            raise AnswerLost("connection reset after the start")
        status = "active" if self.start_answer == "active" else self._status(run)
        return Reply(200, json=self._run_json(run, status))

    def started(self) -> dict[str, int]:
        return {r.run_id: r.starts for r in self.runs.values()}
