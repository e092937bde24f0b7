"""The live routing table and its reloads (file watcher, SIGHUP, admin API).

A new file is read, validated and compiled in a thread, off the request path, then swapped
in with one assignment: a request holds the table it started with until it ends. An invalid
file is refused with its located errors in the log, and the old rules stay in force. Reloads
are serialized.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from relay.clock import Clock
from relay.logs import get_logger
from relay.routing.issues import ConfigErrors
from relay.routing.table import RoutingTable

__all__ = ["ConfigState", "ReloadResult"]


@dataclass(frozen=True, slots=True)
class ReloadResult:
    ok: bool  # the file is valid (whether or not it changed)
    changed: bool  # a new table was swapped in
    trigger: str  # "watch", "sighup", "admin", ...
    config_sha256: str  # the config in force after the reload
    loaded_at: float  # when the config in force was loaded
    errors: tuple[str, ...] = ()  # FILE:LINE:COL: message, when refused
    duration_ms: float = 0.0

    def as_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "changed": self.changed,
            "trigger": self.trigger,
            "config_sha256": self.config_sha256,
            "loaded_at": self.loaded_at,
            "errors": list(self.errors),
            "duration_ms": round(self.duration_ms, 3),
        }


class ConfigState:
    """Holds the table in force; ``reload`` replaces it when the file is valid."""

    def __init__(
        self,
        table: RoutingTable,
        *,
        load: Callable[[], RoutingTable],
        clock: Clock,
        on_swap: Callable[[RoutingTable], None] | None = None,
    ) -> None:
        self._table = table
        self._load = load
        self._clock = clock
        self._on_swap = on_swap
        self._lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[ReloadResult]] = set()
        self._log = get_logger()
        self.last_error: str | None = None  # why the last reload was refused, until one works
        self.last_error_at: float | None = None
        self.on_result: Callable[[ReloadResult], None] | None = None  # told of every reload

    @property
    def table(self) -> RoutingTable:
        return self._table

    def status(self) -> dict[str, Any]:
        return {
            "path": self._table.path,
            "sha256": self._table.sha256,
            "loaded_at": self._table.loaded_at,
            "last_error": self.last_error,
            "last_error_at": self.last_error_at,
        }

    def request_reload(self, trigger: str) -> None:
        """Start a reload from synchronous code (a signal handler)."""
        task = asyncio.get_running_loop().create_task(self.reload(trigger))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def reload(self, trigger: str) -> ReloadResult:
        result = await self._reload(trigger)
        if self.on_result is not None:
            self.on_result(result)
        return result

    async def _reload(self, trigger: str) -> ReloadResult:
        async with self._lock:
            started = self._clock.monotonic()
            old = self._table
            try:
                new = await asyncio.to_thread(self._load)
            except ConfigErrors as exc:
                errors = tuple(issue.format(exc.file) for issue in exc.issues)
                return self._refused(trigger, old, errors, started)
            except Exception as exc:  # never let a bad file take the old rules down
                errors = (f"{old.path}: cannot load: {type(exc).__name__}: {exc}",)
                return self._refused(trigger, old, errors, started)
            self.last_error = self.last_error_at = None
            elapsed = (self._clock.monotonic() - started) * 1000
            if new.sha256 == old.sha256:
                self._log.info("relay.config.unchanged", trigger=trigger, config_sha256=old.sha256)
                return ReloadResult(True, False, trigger, old.sha256, old.loaded_at, (), elapsed)
            self._table = new
            if self._on_swap is not None:
                self._on_swap(new)
            self._log.info(
                "relay.config.reloaded",
                trigger=trigger,
                config_path=new.path,
                config_sha256=new.sha256,
                previous_sha256=old.sha256,
                routes=sum(len(r) for r in new.routes.values()),
                duration_ms=round(elapsed, 3),
            )
            return ReloadResult(True, True, trigger, new.sha256, new.loaded_at, (), elapsed)

    def _refused(
        self, trigger: str, old: RoutingTable, errors: tuple[str, ...], started: float
    ) -> ReloadResult:
        self.last_error = "\n".join(errors)
        self.last_error_at = self._clock.now()
        elapsed = (self._clock.monotonic() - started) * 1000
        self._log.error(
            "relay.config.reload_failed",
            trigger=trigger,
            config_path=old.path,
            config_sha256=old.sha256,
            error_count=len(errors),
            errors=list(errors),
        )
        return ReloadResult(False, False, trigger, old.sha256, old.loaded_at, errors, elapsed)
