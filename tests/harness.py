"""An in-process relay for unit tests: in-memory store, a recorded upstream, ASGI client."""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette

from relay.clock import Clock, SystemClock
from relay.delivery.outbound import FakeSender, Reply, Request
from relay.delivery.worker import DeliveryWorker
from relay.http.app import RelayServices, create_app
from relay.settings import Settings
from relay.store import SqliteStore
from relay.store.base import DeliveryStatus, Store
from relay.store.log_queries import DeliveryQuery
from relay.tracing import Tracing

__all__ = ["Relay", "Upstream", "default_store", "running_relay"]

Handler = Callable[[Request], Reply]


@dataclass
class Upstream:
    """Records run starts and answers like Notte's non-streamed API (or as told)."""

    requests: list[Request] = field(default_factory=list)
    answers: list[Reply] = field(default_factory=list)

    def __call__(self, request: Request) -> Reply:
        self.requests.append(request)
        if self.answers:
            return self.answers.pop(0)
        return Reply(
            200,
            json={
                "function_id": request.url.path.split("/")[2],
                "function_run_id": f"run_{len(self.requests)}",
                "session_id": "sess_1",
                "result": {"ok": True},
                "status": "closed",
            },
        )


class TwoStepApi:
    """The Functions API around a test's handler of run starts, as a two-step start sees it:
    ``POST .../runs/create`` gives a new run id; ``GET .../runs/{id}`` of a created run says
    ``active`` with no session until a start of it was answered 2xx, then ``closed``; every
    start (``runs/start``, or ``POST .../runs/{id}``) goes to the handler, which answers it
    as the test wants."""

    def __init__(self, handler: Callable[[Request], object]) -> None:
        self._handler = handler
        self._created: set[str] = set()
        self._started: set[str] = set()

    async def __call__(self, request: Request) -> Reply:
        parts = request.url.path.strip("/").split("/")  # functions, id, runs, create | id
        created = len(parts) == 4 and parts[2] == "runs" and parts[3] != "start"
        if created and request.method == "POST" and parts[3] == "create":
            run_id = f"run_created_{len(self._created) + 1}"
            self._created.add(run_id)
            return Reply(200, json={"function_id": parts[1], "function_run_id": run_id})
        if created and request.method == "GET" and parts[3] in self._created:
            begun = parts[3] in self._started
            return Reply(
                200,
                json={
                    "function_id": parts[1],
                    "function_run_id": parts[3],
                    "workflow_id": parts[1],
                    "workflow_run_id": parts[3],
                    "status": "closed" if begun else "active",
                    "session_id": "sess_1" if begun else None,
                    "logs": [],
                    "result": '{"ok": true}' if begun else None,
                },
            )
        answer = await _value(self._handler(request))
        if not isinstance(answer, Reply):
            raise TypeError("a handler answers a Reply")
        if created and 200 <= answer.status_code < 300:
            self._started.add(parts[3])
        return answer


async def _value(result: object) -> object:
    return await result if inspect.isawaitable(result) else result


@dataclass
class Relay:
    client: httpx.AsyncClient
    store: Store
    upstream: Upstream
    app: Starlette

    async def post(
        self, body: bytes, headers: dict[str, str], source: str = "github"
    ) -> httpx.Response:
        return await self.client.post(f"/hooks/{source}", content=body, headers=headers)

    async def wait_for(self, predicate: Callable[[], object], within: float = 5.0) -> None:
        deadline = asyncio.get_running_loop().time() + within
        while not await _value(predicate()):
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError("condition not met in time")
            await asyncio.sleep(0.01)

    async def delivery_status(self, route: str) -> DeliveryStatus | None:
        rows = await self.store.query_deliveries(DeliveryQuery(route=route))
        return rows[0].status if rows else None

    async def status_is(self, route: str, status: DeliveryStatus) -> bool:
        return await self.delivery_status(route) is status

    @property
    def services(self) -> RelayServices:
        services: RelayServices = self.app.state.services
        return services

    @property
    def worker(self) -> DeliveryWorker:
        return self.services.worker


def default_store() -> Store:
    """The store of a relay whose test names none (tests/unit/delivery runs on each backend
    by replacing this)."""
    return SqliteStore(":memory:")


@asynccontextmanager
async def running_relay(
    config: Path,
    upstream: Upstream | None = None,
    *,
    handler: Callable[[Request], Coroutine[None, None, Reply]] | None = None,
    clock: Clock | None = None,
    store: Store | None = None,
    whole_api: bool = False,
    tracing: Tracing | None = None,
    **settings_overrides: Any,
) -> AsyncIterator[Relay]:
    """A relay on an in-memory store whose run starts go to ``upstream`` (or ``handler``).

    ``clock`` drives the relay's wall time (a ``FakeClock`` makes pauses and backoff
    deterministic); ``settings_overrides`` replace ``Settings`` fields."""
    upstream = upstream or Upstream()
    store = store or default_store()
    answer: Any = handler or upstream
    if not whole_api:  # the handler answers run starts; creates and looks are answered here
        answer = TwoStepApi(answer)
    outgoing = FakeSender(answer)
    settings = Settings(
        config_path=str(config), database_url=":memory:", env={}, poll_interval=0.05
    )
    settings = dataclasses.replace(settings, **settings_overrides)
    app = create_app(
        settings, store=store, http_client=outgoing, clock=clock or SystemClock(), tracing=tracing
    )
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://relay") as client:
            yield Relay(client, store, upstream, app)
    await outgoing.aclose()
