"""The Notte Functions API calls around a run start: create a run (two-step start), read a
run (``GetFunctionRunResponse``), stop a run. Each answer is reduced to a small value; HTTP
and transport failures are mapped here, at the boundary, and never raised."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from relay import __version__
from relay.delivery.outbound import Sender, SendError, Timeouts
from relay.delivery.retry import Outcome

__all__ = ["ApiFailure", "RunState", "create_run", "get_run", "stop_run"]

_TIMEOUTS = Timeouts(connect=10.0, read=30.0, write=30.0, pool=30.0)
_RETRYABLE_STATUS = frozenset({500, 502, 503, 504})


@dataclass(frozen=True, slots=True)
class ApiFailure:
    """A call that did not get its answer: what it means for the delivery (``outcome``:
    ``RETRYABLE``, ``THROTTLED`` or ``FATAL``), the status code and why."""

    outcome: Outcome
    error: str
    status_code: int | None = None
    retry_after: float | None = None


@dataclass(frozen=True, slots=True)
class RunState:
    """A ``GetFunctionRunResponse`` as relay reads it."""

    run_id: str
    status: str | None  # "closed" | "active" | "failed" (anything else: unknown)
    session_id: str | None
    result: Any
    logs: tuple[str, ...] | None
    stopped: bool  # ``stopped_at`` is set

    @property
    def started(self) -> bool:
        """Whether the run shows any sign of having started (a created run that was never
        started has no session and no logs, and is still ``active``)."""
        return (
            self.status in ("closed", "failed")
            or self.session_id is not None
            or bool(self.logs)
            or self.stopped
        )


def _headers(api_key: str) -> dict[str, str]:
    return {
        "User-Agent": f"relay/{__version__}",
        "x-notte-api-key": api_key,
        "Authorization": f"Bearer {api_key}",
        "Accept": "application/json",
    }


def _runs_url(base_url: str, function_id: str, run_id: str | None = None) -> str:
    url = f"{base_url}/functions/{quote(function_id, safe='')}/runs"
    return url if run_id is None else f"{url}/{quote(run_id, safe='')}"


def _snippet(text: str, api_key: str) -> str:
    text = " ".join(text.split())
    if api_key:
        text = text.replace(api_key, "[redacted]")
    return text if len(text) <= 300 else text[:300] + "..."


@dataclass(frozen=True, slots=True)
class _Reply:
    status_code: int
    headers: Mapping[str, str]
    body: bytes


async def _exchange(
    client: Sender, method: str, url: str, headers: dict[str, str], body: bytes | None
) -> _Reply:
    """One request, its answer read whole."""
    answer = await client.send(method, url, headers, body or b"", timeouts=_TIMEOUTS)
    try:
        raw = await answer.read()
    finally:
        await answer.close()
    return _Reply(answer.status_code, answer.headers, raw)


async def _call(
    client: Sender, method: str, url: str, api_key: str, body: bytes | None = None
) -> _Reply | ApiFailure:
    headers = _headers(api_key)
    if body is not None:
        headers["Content-Type"] = "application/json"
    try:
        reply = await _exchange(client, method, url, headers, body)
    except SendError as exc:
        return ApiFailure(Outcome.RETRYABLE, f"{method} {url}: {type(exc).__name__}: {exc}")
    code = reply.status_code
    if 200 <= code < 300:
        return reply
    text = reply.body.decode("utf-8", "replace")
    error = f"HTTP {code}: {_snippet(text, api_key)}"
    if code == 429:
        retry = reply.headers.get("retry-after", "")
        wait = float(retry) if retry.isascii() and retry.isdigit() else None
        return ApiFailure(Outcome.THROTTLED, error, code, wait)
    if code in _RETRYABLE_STATUS:
        return ApiFailure(Outcome.RETRYABLE, error, code)
    return ApiFailure(Outcome.FATAL, error, code)


def _json_object(reply: _Reply) -> Mapping[str, Any] | None:
    try:
        data = json.loads(reply.body)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


async def create_run(
    client: Sender, *, base_url: str, api_key: str, function_id: str
) -> str | ApiFailure:
    """``POST /functions/{id}/runs/create``: the new run's id. Creating has no side effects,
    so every failure to create is retryable or final, never ambiguous."""
    # no body, as the SDK's create_run sends it
    answer = await _call(client, "POST", f"{_runs_url(base_url, function_id)}/create", api_key)
    if isinstance(answer, ApiFailure):
        return answer
    data = _json_object(answer)
    run_id = None if data is None else data.get("function_run_id") or data.get("workflow_run_id")
    if not isinstance(run_id, str) or not run_id:
        return ApiFailure(
            Outcome.RETRYABLE,
            f"runs/create answered HTTP {answer.status_code} without a function_run_id",
            answer.status_code,
        )
    return run_id


def _result(value: Any) -> Any:
    """``GetFunctionRunResponse.result`` is the result's JSON text (or plain text)."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


async def get_run(
    client: Sender, *, base_url: str, api_key: str, function_id: str, run_id: str
) -> RunState | ApiFailure:
    """``GET /functions/{id}/runs/{run_id}``; a 404 is a ``FATAL`` failure (the API does not
    know the run)."""
    answer = await _call(client, "GET", _runs_url(base_url, function_id, run_id), api_key)
    if isinstance(answer, ApiFailure):
        return answer
    data = _json_object(answer)
    if data is None:
        return ApiFailure(
            Outcome.RETRYABLE, f"the run's status answer (HTTP {answer.status_code}) is not JSON"
        )
    status, session, logs = data.get("status"), data.get("session_id"), data.get("logs")
    return RunState(
        run_id=run_id,
        status=status if isinstance(status, str) else None,
        session_id=session if isinstance(session, str) else None,
        result=_result(data.get("result")),
        logs=tuple(str(line) for line in logs) if isinstance(logs, list) else None,
        stopped=data.get("stopped_at") is not None,
    )


async def stop_run(
    client: Sender, *, base_url: str, api_key: str, function_id: str, run_id: str
) -> ApiFailure | None:
    """``DELETE /functions/{id}/runs/{run_id}`` (the SDK's ``stop_run``): None once stopped."""
    answer = await _call(client, "DELETE", _runs_url(base_url, function_id, run_id), api_key)
    return answer if isinstance(answer, ApiFailure) else None
