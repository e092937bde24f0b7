"""``relay serve``: load the config, open the store, run the app with uvicorn (SIGHUP reloads)."""

from __future__ import annotations

import asyncio
import dataclasses
import fcntl
import math
import os
import signal
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

import uvicorn

from relay._heap import settle_startup_heap
from relay._server import AnnouncingServer, http_url
from relay.clock import SystemClock
from relay.delivery.sender import delivery_client
from relay.exposure import allowed, check_exposure, in_container, missing_config_help
from relay.http.app import create_app
from relay.http.protocol import header_deadline_protocol
from relay.logs import configure_logging, get_logger
from relay.routing.loader import ConfigErrors, load_file
from relay.routing.table import RoutingTable, compile_document
from relay.settings import Settings
from relay.store import SqliteStore, is_postgres_url, open_store
from relay.store._sqlite_files import open_private, too_open
from relay.store.base import StoreUnavailable
from relay.store.postgres import DEFAULT_LEASE_TTL
from relay.tracing import tracing_from_env

if TYPE_CHECKING:
    from relay.logs import Logger

__all__ = ["serve"]


def _lock(path: str) -> IO[str] | None:
    """Hold an exclusive lock next to a SQLite file: one ``relay serve`` per database.
    None: another process holds it; ``OSError``: the lock file cannot be opened."""
    handle = os.fdopen(open_private(path + ".lock"), "a")  # 0600, like the database
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        return None
    return handle


def _banner(table: RoutingTable, base: str, data: str) -> str:
    """The start-up text for people (console log format)."""
    lines = [f"relay listening on {base}", "webhook URLs:"]
    for name, source in table.sources.items():
        lines.append(f"  {base}/hooks/{name}  (provider: {source.spec.name})")
        if source.unverified:
            lines.append(f"  WARNING: {name} accepts unauthenticated requests (provider none)")
    for target in table.targets.values():
        lines.append(
            f"target {target.name}: {target.base_url} "
            f"(max {target.max_concurrency} concurrent runs)"
        )
    lines.append(f"data: {data}")
    if table.defaulted:
        lines.append(
            "demo defaults in use (set these to run for real): " + ", ".join(table.defaulted)
        )
    return "\n".join(lines)


def _log_start(log: Logger, table: RoutingTable, base: str, data: str, admin: str) -> None:
    """The banner's facts as log events (JSON log format): ``relay.serve.listening``, then a
    warning naming the demo defaults in use (the app has already warned of each
    unauthenticated source: ``relay.source.insecure``)."""
    log.info(
        "relay.serve.listening",
        url=base,
        webhooks=[
            {"source": name, "url": f"{base}/hooks/{name}", "provider": source.spec.name}
            for name, source in table.sources.items()
        ],
        targets=[
            {"target": t.name, "base_url": t.base_url, "max_concurrency": t.max_concurrency}
            for t in table.targets.values()
        ],
        data=data,
        admin=admin,
    )
    if table.defaulted:
        log.warning(
            "relay.serve.demo_defaults",
            names=list(table.defaulted),
            detail="demo defaults in use: set these to run for real",
        )


def _redacted(url: str) -> str:
    """A database URL without its password, for the banner."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def _admin(settings: Settings, host: str, port: int) -> str:
    """Where the page and the admin API are, and who may use them."""
    base = http_url(host, port)
    if not settings.admin_loopback:  # in a container: reached through the published port
        where = f"http://<host>:<published port>/ui/ (here {base}/ui/) and /api/"
        if settings.env.get("RELAY_ADMIN_TOKEN"):
            return (
                f"{where}: log in with RELAY_ADMIN_TOKEN, or send "
                "Authorization: Bearer <token>; /metrics takes the same token"
            )
        return (
            f"closed: set RELAY_ADMIN_TOKEN to use {where} "
            "(in a container loopback clients are not trusted)"
        )
    if settings.env.get("RELAY_ADMIN_TOKEN"):
        return f"{base}/ui/ and {base}/api/ (RELAY_ADMIN_TOKEN required)"
    return f"{base}/ui/ and {base}/api/ answer loopback clients only: RELAY_ADMIN_TOKEN is not set"


def _admin_line(settings: Settings, host: str, port: int) -> str:
    """The banner's admin line."""
    return f"\nadmin: {_admin(settings, host, port)}"


def _run_on_fastest_loop(main: Callable[[], Coroutine[Any, Any, None]]) -> None:
    """Run on uvloop when it is installed (uvicorn[standard] brings it), else asyncio's loop.

    uvicorn's own ``loop=`` setting does not apply: relay starts uvicorn inside its own loop.
    """
    try:
        import uvloop
    except ImportError:
        asyncio.run(main())
        return
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(main())


def serve(
    *,
    config: str,
    host: str,
    port: int,
    db: str,
    shutdown_grace: float | None = None,
    lease_ttl: float | None = None,
    receive_timeout: float | None = None,
    allow_insecure: bool = False,
    forwarded_allow_ips: str | None = None,
    body_memory: int | None = None,
) -> int:
    # One format for everything relay prints once it starts: JSON lines (the banner's facts
    # as log events) or, on a terminal, text (the banner, and console log lines).
    json_lines = configure_logging(cache=True)
    log = get_logger()
    settings = Settings(config_path=config, database_url=db)
    if shutdown_grace is not None:
        settings = dataclasses.replace(settings, shutdown_grace=shutdown_grace)
    if receive_timeout is not None:
        settings = dataclasses.replace(settings, receive_timeout=receive_timeout)
    container = in_container(settings.env)
    if container:
        settings = dataclasses.replace(settings, admin_loopback=False)
    if not Path(config).exists():
        print(missing_config_help(config, container=container), file=sys.stderr)
        return 2
    if body_memory is not None:
        settings = dataclasses.replace(settings, body_memory=body_memory)
    clock = SystemClock()
    try:
        doc = load_file(settings.config_path, settings.env)
        table = compile_document(doc, loaded_at=clock.now())
    except ConfigErrors as exc:
        print(str(exc), file=sys.stderr)
        return 1
    exposure = check_exposure(
        doc.config, doc.text, host=host, insecure_sources=table.unverified_sources()
    )
    allow = allowed(settings.env, allow_insecure)
    # reloads are held to the same rule (relay.http.app.load_table)
    settings = dataclasses.replace(settings, bind_host=host, allow_insecure=allow)
    if exposure and not allow:
        print(exposure.explain(host), file=sys.stderr)
        return 2
    if exposure:
        log.warning(
            "relay.serve.insecure_allowed",
            host=host,
            demo_secret_sources=list(exposure.demo_secret_sources),
            unauthenticated_sources=list(exposure.unauthenticated_sources),
        )
    try:
        store = open_store(db, lease_ttl=lease_ttl)
    except ValueError as exc:
        print(f"relay: {exc}", file=sys.stderr)
        return 2
    lock = None
    data = db
    if is_postgres_url(db):
        # Several instances share the database: no single-owner lock, a start only takes back
        # expired leases and those of gone instances (never another live instance's), and
        # sweeps come often enough that a crashed instance's attempts are taken back about one
        # lease ttl after it died when its liveness token could not tell it sooner.
        ttl = lease_ttl or DEFAULT_LEASE_TTL
        settings = dataclasses.replace(
            settings,
            exclusive_store=False,
            recover_interval=min(settings.recover_interval, ttl / 3),
        )
        data = _redacted(db)
    elif isinstance(store, SqliteStore) and store.path != ":memory:":
        data = os.path.abspath(store.path)
        try:
            lock = _lock(store.path)
        except OSError as exc:
            print(f"relay: cannot open the lock file {data}.lock: {exc.strerror}", file=sys.stderr)
            return 1
        if lock is None:
            print(f"relay: another relay serve is using {data}", file=sys.stderr)
            return 1
        for path, mode in too_open(store.path):
            log.warning(
                "relay.store.file_too_open",
                path=path,
                mode=f"{mode:04o}",
                detail="others may read events and secrets in it: chmod 600",
            )

    refused: list[str] = []  # why the store could not be opened

    async def main() -> None:
        # relay's sender (aiohttp), no pool cap: the targets' max_concurrency caps what is in
        # flight. Leaving the block closes its connections.
        async with delivery_client() as client:
            app = create_app(
                settings,
                store=store,
                http_client=client,
                clock=clock,
                table=table,
                store_opened=True,
                tracing=tracing,
            )
            # Opened here (after the app has registered its listeners) rather than by the
            # app's lifespan: a store that cannot be opened (a read-only file, a database that
            # refuses) is one message and an exit status, not the traceback uvicorn prints
            # for a lifespan that fails.
            try:
                await store.open()
            except StoreUnavailable as exc:
                refused.append(str(exc))
                return
            # SIGHUP reloads the config file (like the file watcher and the admin API).
            reload = app.state.services.config.request_reload
            asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, reload, "sighup")
            server_config = uvicorn.Config(
                app,
                host=host,
                port=port,
                log_level="warning",
                access_log=False,  # relay logs each webhook itself (relay.hook.received)
                lifespan="on",
                timeout_graceful_shutdown=max(1, math.ceil(settings.shutdown_grace)),
                # a deadline for each request's headers (slowloris), and a cap on their size
                http=header_deadline_protocol(settings.receive_timeout),
                # X-Forwarded-For / -Proto only from the proxies named: by default none, not
                # uvicorn's 127.0.0.1 (a local process could claim any address, and the
                # login throttle and client_ip would believe it)
                proxy_headers=bool(forwarded_allow_ips),
                forwarded_allow_ips=forwarded_allow_ips or None,
            )

            def started(bound_port: int) -> None:
                # the app, its store and worker are up: what exists now lives as long as the
                # process, and full collections need not walk it again (relay/_heap.py)
                log.info("relay.serve.heap_settled", frozen_objects=settle_startup_heap())
                base = http_url(host, bound_port)
                if json_lines:
                    _log_start(log, table, base, data, _admin(settings, host, bound_port))
                    return
                print(
                    _banner(table, base, data) + _admin_line(settings, host, bound_port),
                    flush=True,
                )

            server = AnnouncingServer(server_config, started)
            await server.serve()

    # OpenTelemetry spans when the OTEL_* variables ask for them (relay/tracing.py)
    tracing = tracing_from_env(settings.env)
    try:
        _run_on_fastest_loop(main)
    finally:
        tracing.shutdown()  # the spans still batched go out
        if lock is not None:
            lock.close()
    if refused:
        print(f"relay: {refused[0]}", file=sys.stderr)
        return 1
    log.info("relay.exit")
    return 0
