"""The crash test's two actors: a provider that retries what relay did not acknowledge
(same delivery id, same body), and a killer that SIGKILLs and restarts relay by plan.

A plan step is either a random kill (some time after the start is ready) or a crash point
(``RELAY_FAULT``): relay is started armed and kills itself exactly after a commit and before
its answer (``after_commit``), or after a run start was sent and before its outcome is
recorded (``after_send``).
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
    relay: RelayProcess
    rng: random.Random
    kills: int = 0
    faults_fired: Counter[str] = field(default_factory=Counter)
    faults_missed: list[str] = field(default_factory=list)

    async def run(self, plan: list[Step]) -> None:
        """Each step: start relay (armed for a fault step), then end it by that step's kill;
        relay is left stopped (the caller starts the final, unarmed one)."""
        for step in plan:
            env = {"RELAY_FAULT": step.fault} if step.kind == "fault" else None
            await asyncio.to_thread(self.relay.start, env)
            if step.kind == "random":
                await asyncio.sleep(self.rng.uniform(0.3, 1.5))
                await asyncio.to_thread(self.relay.kill)
                self.kills += 1
                continue
            if await self._exits_by_itself(within=60.0):
                self.faults_fired[step.fault.split(":")[0]] += 1
            else:
                self.faults_missed.append(step.fault)
                await asyncio.to_thread(self.relay.kill)
            self.kills += 1

    async def _exits_by_itself(self, within: float) -> bool:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while self.relay.alive:
            if loop.time() > deadline:
                return False
            await asyncio.sleep(0.02)
        return self.relay.returncode == -9
