"""Dispatch baselines: a client posting the bodies relay would post, straight to the runner.

Same runner, same request bodies, same concurrency, the streamed (SSE) answer read to its
end. Used by ``bench.dispatch``.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from bench import _common as c

__all__ = ["BASELINES", "baseline_row"]


def _request(runner: c.Proc, number: int) -> tuple[str, bytes, dict[str, str]]:
    """What relay sends for delivery ``number`` of ``issue_payload``."""
    payload = json.loads(c.issue_payload(number))
    variables = {
        "repo": payload["repository"]["full_name"],
        "number": payload["issue"]["number"],
        "title": payload["issue"]["title"],
    }
    body = {"workflow_id": c.FUNCTION_ID, "variables": variables, "stream": True}
    headers = {
        "x-notte-api-key": c.API_KEY,
        "Authorization": f"Bearer {c.API_KEY}",
        "Content-Type": "application/json",
        "Accept": "text/event-stream",
    }
    url = f"{runner.url}/functions/{c.FUNCTION_ID}/runs/start"
    return url, json.dumps(body, separators=(",", ":")).encode(), headers


async def _fan_out(
    count: int, concurrency: int, one: Callable[[], Awaitable[object]]
) -> Counter[str]:
    statuses: Counter[str] = Counter()
    remaining = count

    async def worker() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            try:
                statuses[str(await one())] += 1
            except Exception as exc:  # counted, not fatal: a baseline is a measurement
                statuses[type(exc).__name__] += 1

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return statuses


async def _httpx(
    url: str, body: bytes, headers: dict[str, str], count: int, concurrency: int
) -> Counter[str]:
    limits = httpx.Limits(max_connections=None, max_keepalive_connections=100)
    async with httpx.AsyncClient(limits=limits) as client:

        async def one() -> int:
            request = client.build_request("POST", url, content=body, headers=headers)
            response = await client.send(request, stream=True)
            try:
                async for _ in response.aiter_lines():
                    pass
            finally:
                await response.aclose()
            return response.status_code

        return await _fan_out(count, concurrency, one)


async def _aiohttp(
    url: str, body: bytes, headers: dict[str, str], count: int, concurrency: int
) -> Counter[str]:
    import aiohttp

    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def one() -> int:
            async with session.post(url, data=body, headers=headers) as response:
                async for _ in response.content:
                    pass
                return response.status

        return await _fan_out(count, concurrency, one)


async def _sender(
    url: str, body: bytes, headers: dict[str, str], count: int, concurrency: int
) -> Counter[str]:
    """relay's sender alone (relay/delivery/aiohttp_sender.py), the answer read to its end."""
    from relay.delivery.outbound import Timeouts
    from relay.delivery.sender import delivery_client

    timeouts = Timeouts()
    async with delivery_client() as sender:

        async def one() -> int:
            answer = await sender.send("POST", url, headers, body, timeouts=timeouts)
            try:
                async for _ in answer.chunks():
                    pass
            finally:
                await answer.close()
            return answer.status_code

        return await _fan_out(count, concurrency, one)


async def _send_run(runner: c.Proc, count: int, concurrency: int) -> Counter[str]:
    """relay's sender alone: ``send_run`` over relay's client, what the worker calls."""
    from relay.clock import SystemClock
    from relay.delivery.sender import delivery_client, send_run

    try:
        from relay.targets import Target
    except ImportError:  # a relay from before relay/targets.py (--relay-src git:REV)
        from relay.delivery.sender import Target  # type: ignore[attr-defined,no-redef]

    payload = json.loads(c.issue_payload(7))
    variables = {
        "repo": payload["repository"]["full_name"],
        "number": payload["issue"]["number"],
        "title": payload["issue"]["title"],
    }
    target = Target("bench", runner.url, c.API_KEY, max_concurrency=concurrency)
    clock = SystemClock()
    async with delivery_client() as client:

        async def one() -> str:
            sent = await send_run(
                client,
                target,
                function_id=c.FUNCTION_ID,
                variables=variables,
                stream=True,
                clock=clock,
            )
            return sent.outcome.value

        return await _fan_out(count, concurrency, one)


BASELINES = (
    "httpx",
    "aiohttp",
    "relay's sender",
    "relay's send_run",
)


def baseline_row(
    client: str,
    runner: c.Proc,
    count: int,
    concurrency: int,
    quiet_wait: float,
    note: str = "",
    title: str | None = None,
) -> dict[str, Any]:
    title = title or f"baseline: {client}"
    url, body, headers = _request(runner, 7)
    c.clear_runs(runner)
    busy_before = c.wait_quiet(quiet_wait)
    window = c.CpuWindow(runner)
    started = time.perf_counter()
    try:
        if client == "aiohttp":
            statuses = c.run_async(_aiohttp(url, body, headers, count, concurrency))
        elif client == "relay's sender":
            statuses = c.run_async(_sender(url, body, headers, count, concurrency))
        elif client == "relay's send_run":
            statuses = c.run_async(_send_run(runner, count, concurrency))
        else:
            statuses = c.run_async(_httpx(url, body, headers, count, concurrency))
    except ImportError as exc:
        return {"row": title, "skipped": True, "note": f"skipped: {exc}"}
    elapsed = time.perf_counter() - started
    cpu = window.finish()
    return {
        "row": title,
        "count": count,
        "statuses": dict(statuses),
        "busy_cores_before": busy_before,
        "elapsed_s": round(elapsed, 3),
        "per_s": round(count / elapsed, 1),
        "cpu_ms": round(cpu["harness_cpu_s"] / count * 1000.0, 3),
        "client_cores": round(cpu["harness_cpu_s"] / elapsed, 3),
        "runner_cores": cpu["server_cores"],
        "other_cores": cpu["other_cores"],
        "note": note,
    }
