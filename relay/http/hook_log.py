"""What ``/hooks/{source}`` reports beyond its answer: accepted events and rejections are
counted for ``/metrics``, and rejections are stored and logged, off the request path.

Rejections come from anyone: they must never slow a hook down nor grow the disk with the
request rate. They are counted in windows: every request refused for one source, reason and
client within one ``window`` (a minute) is one row (``RejectionRecord``: how many, the first
and last time, up to ``MAX_SAMPLES`` distinct detail messages) and at most two log lines
(``relay.hook.rejected`` for the first, ``relay.hook.rejections`` with the count when the
window closes, if more came). Beyond ``max_windows`` windows at a time, further clients of a
source and reason share one window whose client is ``*``. Rows are written by one
background flush at a time, every ``flush_interval`` seconds while there is something new:
a flood of unsigned requests costs the store one small write a second, not one per request.
A flush the store refuses is counted (``relay_rejections_dropped_total``) and logged.
Requests that end before they are read (the client went away, a body too large or too slow)
are logged the same way: a line per kind, source and client a minute.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from dataclasses import dataclass, field
from typing import Final, Protocol

from relay.alerts.config import AlertKind
from relay.alerts.notifier import Notifier
from relay.clock import Clock
from relay.ids import new_id
from relay.logs import get_logger
from relay.metrics.relay_metrics import RelayMetrics
from relay.store.base import Store
from relay.store.log_queries import RejectionRecord

__all__ = ["FOLDED_CLIENT", "MAX_SAMPLES", "HookLog", "HookObserver"]

#: The client of a window that stands for every client beyond ``max_windows``.
FOLDED_CLIENT: Final = "*"
MAX_SAMPLES: Final = 3
_SAMPLE_CHARS: Final = 200
_Key = tuple[str, str, str | None, int]  # source, reason, client, window number


class HookObserver(Protocol):
    def received(self, source: str, status: str, duplicate: bool) -> None:
        """An event was stored (or recognised as a re-delivery)."""
        ...

    def rejected(
        self, source: str, reason: str, detail: str | None, client_ip: str | None, now: float
    ) -> None:
        """A request was refused with a 401 for ``reason`` (a verification reason code;
        ``detail`` is relay's own message, never a header value)."""
        ...

    def incomplete(
        self, event: str, source: str, client_ip: str | None, now: float, **fields: object
    ) -> None:
        """A request ended before it was read (``event``: its log line's name): the client
        went away, the body was too large or too slow."""
        ...

    def mapping_failed(
        self, source: str, route: str, event_id: str, delivery_id: str, error: str
    ) -> None:
        """A delivery was stored as ``mapping_failed`` (its variables could not be resolved)."""
        ...

    def store_failed(self, source: str, operation: str, error: str) -> None:
        """The store refused a write; the webhook was answered 503."""
        ...


@dataclass(slots=True)
class _Window:
    id: str
    source: str
    reason: str
    client_ip: str | None
    first: float
    last: float
    count: int = 1
    samples: list[str] = field(default_factory=list)

    def record(self) -> RejectionRecord:
        return RejectionRecord(
            self.id,
            self.source,
            self.first,
            self.reason,
            self.client_ip,
            self.count,
            self.last,
            tuple(self.samples),
        )


class HookLog:
    def __init__(
        self,
        store: Store,
        metrics: RelayMetrics,
        clock: Clock,
        *,
        window: float = 60.0,
        max_windows: int = 256,
        flush_interval: float = 1.0,
        alerts: Notifier | None = None,
    ) -> None:
        self._store = store
        self._metrics = metrics
        self._clock = clock
        self._alerts = alerts
        self._window = window
        self._max_windows = max_windows
        self._flush_interval = flush_interval
        self._windows: dict[_Key, _Window] = {}
        self._dirty: set[_Key] = set()
        self._timer: asyncio.TimerHandle | None = None
        self._flushing: asyncio.Task[None] | None = None
        self._lines: set[tuple[str, str, str | None]] = set()  # incomplete: logged
        self._lines_window = -1
        self._log = get_logger()

    def received(self, source: str, status: str, duplicate: bool) -> None:
        self._metrics.event_received(source, status, duplicate)

    def mapping_failed(
        self, source: str, route: str, event_id: str, delivery_id: str, error: str
    ) -> None:
        self._metrics.mapping_failed(source, route)
        if self._alerts is not None:
            self._alerts.notify(
                AlertKind.MAPPING_FAILED,
                route,
                source=source,
                event_id=event_id,
                delivery_id=delivery_id,
                error=error[:300],
            )

    def store_failed(self, source: str, operation: str, error: str) -> None:
        self._metrics.store_write_failed(operation)

    def rejected(
        self, source: str, reason: str, detail: str | None, client_ip: str | None, now: float
    ) -> None:
        self._metrics.event_rejected(source, reason)
        reason = reason[:64]
        number = math.floor(now / self._window)
        key: _Key = (source, reason, client_ip, number)
        found = self._windows.get(key)
        if found is None and len(self._windows) >= self._max_windows:
            key = (source, reason, FOLDED_CLIENT, number)
            found = self._windows.get(key)
        sample = (detail or reason)[:_SAMPLE_CHARS]
        if found is None:
            self._windows[key] = _Window(
                new_id("rej", now), source, reason, key[2], now, now, samples=[sample]
            )
            self._log.warning(
                "relay.hook.rejected",
                source=source,
                reason=reason,
                detail=detail,
                client_ip=key[2],
                window_seconds=self._window,
            )
        else:
            found.count += 1
            found.last = max(found.last, now)
            if len(found.samples) < MAX_SAMPLES and sample not in found.samples:
                found.samples.append(sample)
        self._dirty.add(key)
        self._schedule(self._flush_interval)

    def incomplete(
        self, event: str, source: str, client_ip: str | None, now: float, **fields: object
    ) -> None:
        """Logged once per event, source and client a window (a minute), for at most
        ``max_windows`` of them: a flood of broken requests cannot fill the log."""
        number = math.floor(now / self._window)
        if number != self._lines_window:
            self._lines_window, self._lines = number, set()
        key = (event, source, client_ip)
        if key in self._lines or len(self._lines) >= self._max_windows:
            return
        self._lines.add(key)
        self._log.warning(event, source=source, client_ip=client_ip, **fields)

    # writing ---------------------------------------------------------------------------

    def _schedule(self, delay: float) -> None:
        if self._timer is not None or self._flushing is not None:
            return  # a flush is due (a running one looks again when it ends)
        self._timer = asyncio.get_running_loop().call_later(delay, self._start_flush)

    def _start_flush(self) -> None:
        self._timer = None
        self._flushing = asyncio.get_running_loop().create_task(self._flush(final=False))
        self._flushing.add_done_callback(self._flushed)

    def _flushed(self, task: asyncio.Task[None]) -> None:
        self._flushing = None
        if task.cancelled():
            return
        if self._dirty:
            self._schedule(self._flush_interval)
        elif self._windows:  # open windows: close them when their minute is over
            ends = min((k[3] + 1) * self._window for k in self._windows)
            self._schedule(max(0.0, ends - self._clock.now()) + self._flush_interval)

    async def _flush(self, *, final: bool) -> None:
        """Write what changed; then forget (and sum up in the log) the windows that are
        over, or all of them when ``final``."""
        current = math.floor(self._clock.now() / self._window)
        closed = [k for k in self._windows if final or k[3] < current]
        keys = self._dirty | set(closed)
        self._dirty = set()
        records = [self._windows[k].record() for k in keys if k in self._windows]
        try:
            if records:
                await self._store.record_rejections(records)
        except Exception as exc:  # counted and logged; the 401s were answered already
            lost = sum(self._windows[k].count for k in closed)  # open ones: the next flush
            self._metrics.rejection_dropped(lost)
            self._log.warning(
                "relay.hook.rejections_not_stored", rows=len(records), lost=lost, error=str(exc)
            )
            self._dirty |= {k for k in keys if k not in closed}
        for key in closed:
            self._dirty.discard(key)
            window = self._windows.pop(key, None)
            if window is None:
                continue
            if window.count > 1:
                self._log.warning(
                    "relay.hook.rejections",
                    source=window.source,
                    reason=window.reason,
                    client_ip=window.client_ip,
                    count=window.count,
                    rejection_id=window.id,
                    window_seconds=self._window,
                )

    async def drain(self) -> None:
        """Write every window held (before the store closes)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._flushing is not None:
            with contextlib.suppress(Exception):
                await self._flushing
        if self._timer is not None:  # set again as that flush ended
            self._timer.cancel()
            self._timer = None
        await self._flush(final=True)
