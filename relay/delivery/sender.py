"""Send one delivery to a Notte Functions API and classify what happened."""

from __future__ import annotations

import asyncio
import datetime
import email.utils
import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from urllib.parse import quote

from relay import __version__
from relay._json import dumps_bytes
from relay.clock import Clock
from relay.delivery.aiohttp_sender import AiohttpSender
from relay.delivery.answers import judge_answer, judge_stream
from relay.delivery.outbound import (
    CONNECTING,
    SENDING,
    Answer,
    AnswerTimeout,
    NotSent,
    Sender,
    SendError,
    Timeouts,
)
from relay.delivery.retry import Outcome
from relay.delivery.sse import RunStream
from relay.targets import Target

__all__ = [
    "USER_AGENT",
    "SendProgress",
    "SendResult",
    "SendStage",
    "build_request_body",
    "delivery_client",
    "parse_retry_after",
    "request_headers",
    "send_run",
]

USER_AGENT = f"relay/{__version__}"
_RETRYABLE_STATUS = frozenset({500, 502, 503, 504})
_ERROR_SNIPPET = 300


def delivery_client() -> AiohttpSender:
    """The sender relay starts runs (and sends alerts) with: aiohttp, no cap on connections
    (each target's ``max_concurrency`` caps what is in flight), no redirects followed, no
    cookies kept. Closing it closes its connections."""
    return AiohttpSender(max_connections=None)


def request_headers(target: Target, delivery_id: str) -> dict[str, str]:
    """Headers a delivery adds to its run start: the idempotency key, when asked for."""
    return {target.idempotency_header: delivery_id} if target.idempotency_header else {}


class SendStage(StrEnum):
    PREPARING = "preparing"  # not handed to the HTTP client yet
    HANDED_OVER = "handed_over"  # the sender has it; whether bytes left is unknown
    CONNECTING = "connecting"  # the sender reports connecting: nothing sent yet
    SENT = "sent"  # the sender reports the request going out


@dataclass(slots=True)
class SendProgress:
    """How far one request got, from the sender's ``progress`` (relay/delivery/outbound.py),
    so that an attempt cut short can tell "may have started the run" from "certainly did
    not": ``CONNECTING`` means the sender is getting a connection (nothing was sent);
    ``SENDING`` comes before the first byte of the request is written."""

    stage: SendStage = SendStage.PREPARING
    run_id: str | None = None  # the run a two-step start created (stored before its start)

    async def trace(self, name: str) -> None:
        if name == SENDING:
            self.stage = SendStage.SENT
        elif name == CONNECTING and self.stage is not SendStage.SENT:
            self.stage = SendStage.CONNECTING

    @property
    def may_have_been_sent(self) -> bool:
        return self.stage in (SendStage.HANDED_OVER, SendStage.SENT)


@dataclass(frozen=True, slots=True)
class SendResult:
    outcome: Outcome
    duration_ms: float
    status_code: int | None = None
    error: str | None = None
    retry_after: float | None = None
    function_run_id: str | None = None
    session_id: str | None = None
    run_status: str | None = None
    result: Any = None
    logs: tuple[str, ...] = ()


@functools.lru_cache(maxsize=1024)
def _run_start_url(base_url: str, function_id: str, run_id: str | None = None) -> str:
    """Built once per target and function (and run); with ``run_id``: the start of that
    created run."""
    last = "start" if run_id is None else quote(run_id, safe="")
    return f"{base_url}/functions/{quote(function_id, safe='')}/runs/{last}"


def build_request_body(
    function_id: str,
    variables: Mapping[str, Any],
    stream: bool,
    *,
    runtime: str | None = None,
    callback_url: str | None = None,
) -> bytes:
    """The RunFunctionRequest schema: these three keys, plus ``runtime`` and
    ``callback_url`` only when set."""
    body: dict[str, Any] = {
        "workflow_id": function_id,
        "variables": dict(variables),
        "stream": stream,
    }
    if runtime is not None:
        body["runtime"] = runtime
    if callback_url is not None:
        body["callback_url"] = callback_url
    return dumps_bytes(body, default=None)


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP date)."""
    if value is None:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        return float(min(int(value), 86400))
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # asctime and "-0000" dates carry no zone; HTTP dates are UTC
        when = when.replace(tzinfo=datetime.UTC)
    return max(0.0, min(when.timestamp() - now, 86400.0))


def _snippet(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _ERROR_SNIPPET else text[:_ERROR_SNIPPET] + "..."


async def send_run(
    client: Sender,
    target: Target,
    *,
    function_id: str,
    variables: Mapping[str, Any],
    stream: bool,
    clock: Clock,
    extra_headers: Mapping[str, str] | None = None,
    progress: SendProgress | None = None,
    run_id: str | None = None,
    runtime: str | None = None,
    callback_url: str | None = None,
) -> SendResult:
    """Start a run: a new one (``runs/start``), or with ``run_id`` the run created for it
    (``runs/{run_id}``; the API refuses a second start of it with 409, read here as "already
    started: follow it")."""
    url = _run_start_url(target.base_url, function_id, run_id)
    headers = {
        "User-Agent": USER_AGENT,
        "x-notte-api-key": target.api_key,
        "Authorization": f"Bearer {target.api_key}",
        "Content-Type": "application/json",
        "Accept": "text/event-stream" if stream else "application/json",
        **(extra_headers or {}),
    }
    body = build_request_body(
        function_id, variables, stream, runtime=runtime, callback_url=callback_url
    )
    timeouts = _timeouts(target.connect_timeout, target.timeout)
    started = clock.monotonic()
    progress = progress if progress is not None else SendProgress()
    run = RunStream()  # what a cut stream had said (session id, logs) is kept

    def done(outcome: Outcome, **kwargs: Any) -> SendResult:
        return SendResult(outcome, (clock.monotonic() - started) * 1000.0, **kwargs)

    try:
        async with asyncio.timeout(target.timeout + target.connect_timeout):
            progress.stage = SendStage.HANDED_OVER
            response = await client.send(
                "POST", url, headers, body, timeouts=timeouts, progress=progress.trace
            )
            try:
                return await _read_response(response, clock, done, target.api_key, run, run_id)
            finally:
                await response.close()
    except NotSent as exc:
        return done(Outcome.RETRYABLE, error=f"not sent: {type(exc).__name__}: {exc}")
    except (TimeoutError, SendError) as exc:
        name = type(exc).__name__
        if not progress.may_have_been_sent:
            return done(Outcome.RETRYABLE, error=f"not sent: {name} while connecting")
        partial: dict[str, Any] = {"session_id": run.session_id, "logs": tuple(run.logs)}
        if isinstance(exc, TimeoutError | AnswerTimeout):
            what = f"sent, no answer in time: {name}"
        else:
            what = f"sent, connection lost: {name}: {exc}"
        if run_id is None:
            return done(Outcome.AMBIGUOUS, error=what, **partial)
        if run.session_id is not None:  # its session started: the run is under way
            return done(
                Outcome.RUN_ACTIVE,
                error=f"{what}; run {run_id} started: following it",
                function_run_id=run_id,
                **partial,
            )
        return done(
            Outcome.UNSETTLED,
            error=f"{what}; the next attempt asks the API whether run {run_id} started",
            function_run_id=run_id,
            **partial,
        )


@functools.lru_cache(maxsize=64)
def _timeouts(connect: float, read: float) -> Timeouts:
    return Timeouts(connect=connect, read=read, write=30.0, pool=read)


async def _read_response(
    response: Answer,
    clock: Clock,
    done: Callable[..., SendResult],
    api_key: str,
    run: RunStream,
    run_id: str | None,
) -> SendResult:
    code = response.status_code
    if code >= 300:
        text = (await response.read()).decode("utf-8", "replace")
        if api_key:  # a server may echo the request's headers back in its error body
            text = text.replace(api_key, "[redacted]")
        retry_after = parse_retry_after(response.headers.get("retry-after"), clock.now())
        error = f"HTTP {code}: {_snippet(text)}"
        if code == 409 and run_id is not None:  # the created run was started already
            return done(
                Outcome.RUN_ACTIVE,
                status_code=code,
                error=f"{error}; run {run_id} was started already: following it",
                function_run_id=run_id,
            )
        if code == 429:
            outcome = Outcome.THROTTLED
        elif code in _RETRYABLE_STATUS:
            outcome = Outcome.RETRYABLE
        else:  # other 4xx, 501, 505+; and redirects, which are never followed
            outcome = Outcome.FATAL
        return done(outcome, status_code=code, error=error, retry_after=retry_after)
    content_type = response.headers.get("content-type", "")
    judged = None
    if not content_type.startswith("text/event-stream"):
        raw = await response.read()
        judged = judge_answer(raw, content_type, code, run_id)
        if judged is None:  # events, whatever the route asked for
            run.feed_bytes(raw)
    if judged is None:
        async for chunk in response.chunks():  # UTF-8, always, for event streams
            run.feed_bytes(chunk)
        run.close()
        judged = judge_stream(run, run_id)
    outcome = judged.outcome
    if outcome is Outcome.AMBIGUOUS and run_id is not None:
        outcome = Outcome.UNSETTLED  # the API can tell whether the created run started
    return done(
        outcome,
        status_code=code,
        error=judged.error,
        function_run_id=judged.function_run_id,
        session_id=judged.session_id,
        run_status=judged.run_status,
        result=judged.result,
        logs=tuple(run.logs),
    )
