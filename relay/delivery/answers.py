"""What a run start's answer means: the HTTP answer (JSON or server-sent events, whichever
came, whatever was asked for) to an ``Outcome`` with the run's fields.

Only a run that says it ended well (``status: "closed"``) is a success. ``failed`` (or an
SSE ``error`` event) is a failed run; ``active``, a missing or unknown status, or an answer
that is not a run at all (not JSON, empty, a list) is followed through the API when the run
id is known (``RUN_ACTIVE``), and otherwise cannot be settled (``AMBIGUOUS``, with what it
was). Nothing is a success by default.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from relay.delivery.retry import Outcome
from relay.delivery.sse import RunStream

__all__ = ["RUN_STATUSES", "Judged", "judge_answer", "judge_stream", "run_fields"]

RUN_STATUSES = frozenset({"closed", "active", "failed"})
_SNIPPET = 120


@dataclass(frozen=True, slots=True)
class Judged:
    outcome: Outcome
    error: str | None
    function_run_id: str | None
    session_id: str | None
    run_status: str | None
    result: Any


def run_fields(answer: Mapping[str, Any]) -> tuple[str | None, str | None, str | None, Any]:
    """(run id, session id, status, result) of a ``FunctionRunResponse``-shaped object."""
    status = answer.get("status")
    run_id = answer.get("function_run_id") or answer.get("workflow_run_id")
    session = answer.get("session_id")
    return (
        run_id if isinstance(run_id, str) else None,
        session if isinstance(session, str) else None,
        status if isinstance(status, str) else None,
        answer.get("result"),
    )


def _unclear(what: str, run_id: str | None, **fields: Any) -> Judged:
    """An answer that does not say how the run ended: followed when its id is known."""
    if run_id is not None:
        return Judged(Outcome.RUN_ACTIVE, f"{what}: following run {run_id}", run_id, **fields)
    return Judged(Outcome.AMBIGUOUS, f"{what}, and no run id to follow", None, **fields)


def _judge_run(answer: Mapping[str, Any], known_run_id: str | None, how: str) -> Judged:
    run_id, session, status, result = run_fields(answer)
    run_id = run_id or known_run_id
    fields: dict[str, Any] = {"session_id": session, "run_status": status, "result": result}
    if status == "closed":
        return Judged(Outcome.SUCCEEDED, None, run_id, **fields)
    if status == "failed":
        return Judged(Outcome.RUN_FAILED, None, run_id, **fields)
    if status == "active":
        if run_id is not None:
            return Judged(Outcome.RUN_ACTIVE, None, run_id, **fields)
        return _unclear(f"{how} says the run is active", None, **fields)
    if status is None:
        return _unclear(f"{how} has no run status", run_id, **fields)
    shown = status if len(status) <= _SNIPPET else status[:_SNIPPET] + "..."
    return _unclear(f"{how} has an unknown run status {shown!r}", run_id, **fields)


def judge_answer(
    raw: bytes, content_type: str, code: int, known_run_id: str | None
) -> Judged | None:
    """A 2xx answer read whole. None when it is an event stream (``judge_stream`` reads it:
    a route that asked for JSON may still be answered with events)."""
    if content_type.startswith("text/event-stream") or raw.lstrip()[:5] in (b"data:", b"event"):
        return None
    if not raw.strip():
        return _unclear(f"HTTP {code} with an empty body", known_run_id, **_none())
    try:
        answer = json.loads(raw)
    except ValueError:
        kind = content_type.split(";", 1)[0].strip() or "no content type"
        return _unclear(f"HTTP {code} answer is not JSON ({kind})", known_run_id, **_none())
    if not isinstance(answer, dict):
        return _unclear(
            f"HTTP {code} answer is a JSON {type(answer).__name__}, not a run",
            known_run_id,
            **{**_none(), "result": answer},
        )
    return _judge_run(answer, known_run_id, f"HTTP {code} answer")


def judge_stream(run: RunStream, known_run_id: str | None) -> Judged:
    """A finished event stream."""
    if run.result is not None:
        judged = _judge_run(run.result, known_run_id, "the stream's result")
        if judged.session_id is None and run.session_id is not None:
            return Judged(
                judged.outcome,
                judged.error,
                judged.function_run_id,
                run.session_id,
                judged.run_status,
                judged.result,
            )
        return judged
    if run.error is not None:
        return Judged(
            Outcome.RUN_FAILED,
            f"the run reported an error: {run.error}",
            known_run_id,
            run.session_id,
            "failed",
            None,
        )
    what = run.result_error or "the stream ended before the run's result"
    started = known_run_id if run.session_id is not None else None
    if started is not None:
        return Judged(
            Outcome.RUN_ACTIVE,
            f"{what}: following run {started}",
            started,
            run.session_id,
            None,
            None,
        )
    return Judged(Outcome.AMBIGUOUS, what, known_run_id, run.session_id, None, None)


def _none() -> dict[str, Any]:
    return {"session_id": None, "run_status": None, "result": None}
