"""The ASGI application: ``create_app(settings, *, store, http_client, clock)``, and the one
place relay is put together: the webhook endpoint, the admin API (relay/admin), the page
(relay/ui) and what they share (relay/web), over the store, routing and delivery.

The lifespan owns the services: it opens the store, starts the delivery worker and the
config file watcher, and stops them in reverse order. ``RelayServices.reload()`` (also run by
the watcher, SIGHUP and ``POST /api/config/reload``) swaps in a new routing table.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from relay.admin.endpoints import HEALTHZ, READYZ, RECEIVE_WEBHOOK
from relay.admin.mount import admin_routes
from relay.alerts.notifier import Notifier
from relay.alerts.observer import AlertingObserver
from relay.clock import Clock
from relay.delivery.outbound import Sender
from relay.delivery.worker import DeliveryWorker
from relay.exposure import check_exposure
from relay.faults import Faults
from relay.http.handed_secrets import HandedSecrets
from relay.http.hook_log import HookLog
from relay.http.hook_route import HookShortcut
from relay.http.readiness import WriteHealth
from relay.http.receive import HookEndpoint
from relay.logs import get_logger
from relay.metrics.relay_metrics import RelayMetrics
from relay.routing.issues import ConfigErrors, ConfigIssue
from relay.routing.loader import load_file
from relay.routing.reloader import ConfigState, ReloadResult
from relay.routing.table import RoutingTable, compile_document
from relay.routing.watch import ConfigWatcher
from relay.settings import Settings
from relay.store.base import NewDelivery, NotifiesNewWork, Store
from relay.store.retention import Purger
from relay.targets import Target
from relay.tracing import Tracing
from relay.ui.mount import ui_routes
from relay.web.auth import AdminAuth
from relay.web.body_limit import AdminBodyLimit
from relay.web.deps import AdminDeps
from relay.web.errors import ApiError, http_exception_handler
from relay.web.session import LoginThrottle, Sessions

__all__ = ["RelayServices", "create_app", "load_table"]


def load_table(settings: Settings, clock: Clock) -> RoutingTable:
    """Load, validate and compile the config file; raises ``ConfigErrors``, also for a config
    that relay serve would refuse to start with on its address (demo secrets or provider:
    none reachable from other machines, unless --allow-insecure): a reload cannot do what a
    start may not."""
    doc = load_file(settings.config_path, settings.env)
    table = compile_document(doc, loaded_at=clock.now())
    if not settings.allow_insecure:
        exposure = check_exposure(
            doc.config,
            doc.text,
            host=settings.bind_host,
            insecure_sources=table.unverified_sources(),
        )
        if exposure:
            issue = ConfigIssue((), 1, 1, exposure.explain(settings.bind_host, reload=True))
            raise ConfigErrors(doc.path, [issue], doc.text)
    return table


def warn_insecure_sources(table: RoutingTable) -> None:
    """Say loudly, at every start, which sources accept unauthenticated requests."""
    for name in table.unverified_sources():
        get_logger().warning(
            "relay.source.insecure", source=name, detail="provider none: no verification"
        )


class RelayServices:
    """What the request handlers share: the live routing table, the store, the worker."""

    def __init__(
        self,
        settings: Settings,
        table: RoutingTable,
        store: Store,
        http_client: Sender,
        clock: Clock,
        rng: random.Random | None = None,
        tracing: Tracing | None = None,
    ) -> None:
        self.settings = settings
        self.tracing = tracing or Tracing.off()  # spans, when OpenTelemetry is handed in
        self.faults = Faults.from_env(settings.env)  # test-only crash points (RELAY_FAULT)
        self.handed = HandedSecrets(store)
        self.config = ConfigState(
            table, load=lambda: self.handed.apply(load_table(settings, clock)), clock=clock
        )
        self.store = store
        self.clock = clock
        self.metrics = RelayMetrics()  # /metrics: one registry per app
        self.config.on_result = self.metrics.reload_finished
        # operators' notifications (the config's alerts: section), sent off the hot paths
        self.alerts = Notifier(lambda: self.config.table.alerts, http_client, clock)
        # counts events, stores rejections, raises mapping alerts
        self.hook_log = HookLog(store, self.metrics, clock, alerts=self.alerts)
        self.write_health = WriteHealth(store, clock)  # /readyz: do writes work?
        self.worker = DeliveryWorker(
            store=store,
            targets=self.targets,
            http_client=http_client,
            clock=clock,
            owner=settings.instance_id,
            rng=rng,
            poll_interval=settings.poll_interval,
            recover_interval=settings.recover_interval,
            exclusive=settings.exclusive_store,
            faults=self.faults,
            observer=AlertingObserver(self.metrics, self.alerts),
            tracing=self.tracing,
        )
        self.purger = Purger(
            store, lambda: self.table.retention, clock, interval=settings.retention_interval
        )

    @property
    def table(self) -> RoutingTable:
        """The routing table in force (a request keeps the one it started with)."""
        return self.config.table

    def current_table(self) -> RoutingTable:
        return self.config.table

    async def reload(self, trigger: str = "api") -> ReloadResult:
        """Load the config file again; new rules only when it is valid (see ConfigState)."""
        return await self.config.reload(trigger)

    @property
    def config_sha256(self) -> str:
        return self.config.table.sha256

    @property
    def config_loaded_at(self) -> float:
        return self.config.table.loaded_at

    @property
    def config_last_error(self) -> str | None:
        return self.config.last_error

    def targets(self) -> dict[str, Target]:
        return dict(self.table.targets)

    def on_stored(self, deliveries: list[NewDelivery]) -> None:
        for target in {d.target for d in deliveries}:
            self.worker.notify(target)


def create_app(
    settings: Settings,
    *,
    store: Store,
    http_client: Sender,
    clock: Clock,
    table: RoutingTable | None = None,
    rng: random.Random | None = None,
    store_opened: bool = False,
    tracing: Tracing | None = None,
) -> Starlette:
    """``store_opened``: the caller opened the store already (``relay serve`` does, to say
    why it cannot before the server starts); the app still closes it when it stops.
    ``tracing``: OpenTelemetry spans (relay/tracing.py; ``relay serve`` builds it from the
    ``OTEL_*`` variables); None: none, at no cost. The caller shuts it down."""
    services = RelayServices(
        settings, table or load_table(settings, clock), store, http_client, clock, rng, tracing
    )
    if isinstance(store, NotifiesNewWork):  # shared stores: other instances' new work
        store.on_new_work(services.worker.notify)
    hooks = HookEndpoint(
        table=services.current_table,
        store=store,
        clock=clock,
        on_stored=services.on_stored,
        handed=services.handed,
        observer=services.hook_log,
        health=services.write_health,
        receive_timeout=settings.receive_timeout,
        faults=services.faults,
        body_memory=settings.body_memory,
        tracing=services.tracing,
    )
    admin = _admin_deps(services)  # /api, /ui, /metrics: behind AdminAuth
    log = get_logger()
    watcher = ConfigWatcher(
        settings.config_path,
        current_sha256=lambda: services.config_sha256,
        on_change=lambda: services.reload("watch"),
        interval=settings.config_watch_interval,
    )

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> Response:
        store_ok = await store.ping()
        writes = await services.write_health.check()  # a failed write: until one works again
        worker_ok = services.worker.alive
        ready = store_ok and writes.ok and worker_ok
        body = {
            "ready": ready,
            "store": store_ok,
            "store_writes": writes.ok,
            "store_writes_failing_since": writes.failing_since,
            "worker": worker_ok,
            "config_sha256": services.table.sha256,
            "config": services.config.status(),
        }
        return JSONResponse(body, status_code=200 if ready else 503)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if not store_opened:
            await store.open()
        await services.handed.load()
        services.handed.apply(services.table)
        warn_insecure_sources(services.table)
        if services.faults.armed:
            log.warning("relay.faults.armed", **services.faults.armed)
        services.alerts.start()
        await services.worker.start()
        services.purger.start()
        if settings.config_watch_interval > 0:
            watcher.start()
        log.info(
            "relay.started", instance_id=settings.instance_id, config_sha256=services.table.sha256
        )
        try:
            yield
        finally:
            await watcher.stop()
            await services.purger.stop()
            await services.worker.stop(settings.shutdown_grace)
            await services.hook_log.drain()
            await services.alerts.stop()
            await store.close()
            if services.tracing.enabled:  # the spans batched so far, before the process ends
                await asyncio.to_thread(services.tracing.flush)
            log.info("relay.stopped", instance_id=settings.instance_id)

    app = Starlette(
        routes=[
            # the receiver's POST is documented; its other methods answer a handshake or 405
            Route(
                RECEIVE_WEBHOOK.path,
                hooks.handle,
                methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            ),
            HEALTHZ.route(healthz),
            READYZ.route(readyz),
            *admin_routes(admin),
            *ui_routes(admin),
        ],
        middleware=[Middleware(HookShortcut, hooks=hooks.asgi), *_admin_middleware(admin)],
        exception_handlers={
            HTTPException: http_exception_handler,
            ApiError: http_exception_handler,
        },
        lifespan=lifespan,
    )
    app.state.services = services
    return app


def _admin_deps(services: RelayServices) -> AdminDeps:
    """The admin surfaces' view of a running relay (``RELAY_ADMIN_TOKEN`` from its env)."""
    token = services.settings.env.get("RELAY_ADMIN_TOKEN") or None
    return AdminDeps(
        store=services.store,
        clock=services.clock,
        config=services.config,
        reload=services.reload,
        worker=services.worker,
        metrics=services.metrics,
        sessions=Sessions(token, services.clock, store=services.store),
        throttle=LoginThrottle(services.clock),
        admin_token=token,
        handed_secrets=lambda: [s for v in services.handed.known.values() for s in v],
        receive_timeout=services.settings.receive_timeout,
        admin_loopback=services.settings.admin_loopback,
    )


def _admin_middleware(deps: AdminDeps) -> list[Middleware]:
    """Who may ask first (``AdminAuth``), then the body's size cap and receipt deadline
    (``AdminBodyLimit``: 413, 408) for everything but ``/hooks/*``."""
    return [
        Middleware(
            AdminAuth,
            token=deps.admin_token,
            sessions=deps.sessions,
            throttle=deps.throttle,
            loopback=deps.admin_loopback,
        ),
        Middleware(AdminBodyLimit, max_bytes=deps.max_body_bytes, within=deps.receive_timeout),
    ]
