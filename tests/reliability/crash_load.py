"""The crash test's two actors: a provider that retries what relay did not acknowledge
(same delivery id, same body), and a killer that SIGKILLs and restarts relay by plan.

A plan step is either a random kill (some time after the start is ready) or a crash point
(``RELAY_FAULT``): relay is started armed and kills itself exactly after a commit and before
its answer (``after_commit``), or after a run start was sent and before its outcome is
recorded (``after_send``). Under load a crash point can be reached before the start answers
its readiness probe (the worker resends the backlog as soon as it starts, the sender's retries
arrive as soon as the socket is bound): that is a fired crash point, not a failed start.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Literal

import httpx

from tests.helpers import github_headers, issue_opened
from tests.reliability.kit import RelayProcess

__all__ = ["AckingSender", "Killer", "Step", "provider_id"]


def provider_id(number: int) -> str:
    return f"crash-{number}"


class AckingSender:
    """Sends webhooks 0..count-1 from ``concurrency`` tasks, each until it is acknowledged
    (a 2xx); connection errors and 503s are retried, anything else is recorded as wrong."""

    def __init__(self, url: str, count: int, *, concurrency: int = 16) -> None:
        self.url = url
        self.count = count
        self.concurrency = concurrency
        self.acknowledged: set[str] = set()
        self.acked_on_retry_as_duplicate = 0  # stored by a try whose answer a kill cut off
        self.tries = 0
        self.failures: Counter[str] = Counter()
        self.wrong: list[str] = []  # answers that are neither 2xx nor retryable
        self._numbers = iter(range(count))

    async def run(self) -> None:
        limits = httpx.Limits(max_connections=self.concurrency * 2)
        async with httpx.AsyncClient(timeout=15.0, limits=limits) as client:
            await asyncio.gather(*(self._worker(client) for _ in range(self.concurrency)))

    async def _worker(self, client: httpx.AsyncClient) -> None:
        for number in self._numbers:
            await self._send(client, number)

    async def _send(self, client: httpx.AsyncClient, number: int) -> None:
        ident = provider_id(number)
        body = issue_opened(number)
        headers = github_headers(body, delivery=ident)
        failed_before = False
        while True:
            self.tries += 1
            try:
                reply = await client.post(f"{self.url}/hooks/github", content=body, headers=headers)
            except httpx.HTTPError as exc:
                self.failures[type(exc).__name__] += 1
            else:
                if 200 <= reply.status_code < 300:
                    self.acknowledged.add(ident)
                    if failed_before and reply.json().get("duplicate") is True:
                        self.acked_on_retry_as_duplicate += 1
                    return
                self.failures[f"HTTP {reply.status_code}"] += 1
                if reply.status_code != 503:
                    self.wrong.append(f"{ident}: HTTP {reply.status_code} {reply.text[:200]}")
                    return
            failed_before = True
            await asyncio.sleep(0.2)  # a provider's retry, compressed


@dataclass(frozen=True, slots=True)
class Step:
    kind: Literal["random", "fault"]
    fault: str = ""  # RELAY_FAULT for a fault step, e.g. "after_commit:40"


@dataclass
class Killer:
    """Runs a plan against ``relay``. A crash point counts as fired when relay ends by its
    own SIGKILL, whenever that comes: during the start, before the first readiness probe
    answers, or later under load. One not reached within ``fault_within`` seconds of the
    start being ready is missed (relay is then killed) and the plan moves on."""

    relay: RelayProcess
    rng: random.Random
    fault_within: float = 60.0
    kills: int = 0
    faults_fired: Counter[str] = field(default_factory=Counter)
    faults_fired_starting: Counter[str] = field(default_factory=Counter)  # before ready
    faults_missed: list[str] = field(default_factory=list)

    async def run(self, plan: list[Step]) -> None:
        """Each step: start relay (armed for a fault step), then end it by that step's kill;
        relay is left stopped (the caller starts the final, unarmed one)."""
        for step in plan:
            if step.kind == "random":
                await asyncio.to_thread(self.relay.start)
                await asyncio.sleep(self.rng.uniform(0.3, 1.5))
                await asyncio.to_thread(self.relay.kill)
            else:
                await self._crash_point(step.fault)
            self.kills += 1

    async def _crash_point(self, fault: str) -> None:
        await asyncio.to_thread(self.relay.start, {"RELAY_FAULT": fault}, wait=False)
        ready = await asyncio.to_thread(self.relay.wait_ready, crash_ok=True)
        point = fault.split(":")[0]
        if not ready:
            self.faults_fired_starting[point] += 1
        if not ready or await self._exits_by_itself(within=self.fault_within):
            self.faults_fired[point] += 1
            return
        self.faults_missed.append(fault)
        await asyncio.to_thread(self.relay.kill)

    async def _exits_by_itself(self, within: float) -> bool:
        """True once relay crashes on its crash point; False if it is still up after
        ``within`` seconds. Any other exit is a failure of its own, not a missed point."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while self.relay.alive:
            if loop.time() > deadline:
                return False
            await asyncio.sleep(0.02)
        if not self.relay.crashed:
            tail = self.relay.log.read_text(errors="replace")[-2000:]
            raise AssertionError(f"relay exited ({self.relay.returncode}), not crashed:\n{tail}")
        return True
