"""``relay tail``: follow events, rejections and attempts as the server stores them.

Every ``interval`` (0.5 s) the store is asked for rows with ids above a cursor a few seconds
back (ids are time-ordered, but a row can be committed a little after its id's time), and
rows already printed are skipped. An attempt is printed when it starts and again when it
ends. Ctrl-C stops it; ``--once`` polls once, ``--limit N`` stops after N lines (tests,
scripts). Each line is a views model (``relay.views.models.TailLine``): ``--json`` prints it
as it is."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from relay._text import when
from relay.clock import Clock
from relay.store.base import AttemptRecord, DeliveryRecord, Store
from relay.store.log_queries import AttemptQuery, DeliveryQuery, EventQuery
from relay.views.cli_shapes import TailAttempt, TailEvent, TailLine, TailRejection
from relay.views.models import plain

__all__ = ["Tailer"]

_LOOKBACK = 10.0  # seconds of ids re-read each poll
_BATCH = 500


def _cursor(prefix: str, ts: float) -> str:
    return f"{prefix}_{int(ts * 1000):012x}"  # sorts before every id of that millisecond


def _id_time(item_id: str) -> float:
    return int(item_id.split("_", 1)[1][:12], 16) / 1000.0


@dataclass
class Tailer:
    store: Store
    clock: Clock
    emit: Callable[[TailLine], None]
    source: str | None = None
    start: float | None = None  # show rows from this time on (default: now)
    _seen: dict[str, float] = field(default_factory=dict)
    _open: dict[str, AttemptRecord] = field(default_factory=dict)
    _deliveries: dict[str, DeliveryRecord] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.start is None:
            self.start = self.clock.now()

    async def poll(self) -> int:
        """One pass; returns the number of lines emitted."""
        assert self.start is not None
        floor = max(self.start, self.clock.now() - _LOOKBACK)
        lines: list[TailLine] = []
        for e in await self._all(
            lambda after: self.store.query_events(
                EventQuery(source=self.source, after=after, limit=_BATCH)
            ),
            _cursor("evt", floor),
        ):
            if self._new(e.id):
                routes = [d.route for d in await self._event_deliveries(e.id)]
                lines.append(
                    TailEvent(
                        at=e.received_at,
                        id=e.id,
                        source=e.source,
                        event_type=e.event_type,
                        status=e.status.value,
                        duplicates=e.duplicates,
                        routes=routes,
                    )
                )
        for x in await self._all(
            lambda after: self.store.query_rejections(
                EventQuery(source=self.source, after=after, limit=_BATCH)
            ),
            _cursor("rej", floor),
        ):
            if self._new(x.id):
                lines.append(
                    TailRejection(
                        at=x.received_at,
                        id=x.id,
                        source=x.source,
                        reason=x.reason,
                        client_ip=x.client_ip,
                        count=x.count,
                    )
                )
        lines.extend(await self._attempts(floor))
        self._forget(floor)
        lines.sort(key=lambda line: line.at)
        for line in lines:
            self.emit(line)
        return len(lines)

    async def _all(self, fetch: Callable[[str], Awaitable[list[Any]]], after: str) -> list[Any]:
        rows: list[Any] = []
        while True:
            batch = await fetch(after)
            rows.extend(batch)
            if len(batch) < _BATCH:
                return rows
            after = batch[-1].id

    def _new(self, item_id: str) -> bool:
        if item_id in self._seen:
            return False
        self._seen[item_id] = _id_time(item_id)
        return True

    def _forget(self, floor: float) -> None:
        for item_id in [i for i, t in self._seen.items() if t < floor - 1.0]:
            del self._seen[item_id]

    async def _event_deliveries(self, event_id: str) -> list[DeliveryRecord]:
        return await self.store.query_deliveries(DeliveryQuery(event_ids=(event_id,), limit=100))

    async def _delivery(self, delivery_id: str) -> DeliveryRecord | None:
        if delivery_id not in self._deliveries:
            record = await self.store.get_delivery(delivery_id)
            if record is None:
                return None
            self._deliveries[delivery_id] = record
        return self._deliveries[delivery_id]

    async def _attempts(self, floor: float) -> list[TailLine]:
        lines: list[TailLine] = []
        started = await self._all(
            lambda after: self.store.query_attempts(AttemptQuery(after=after, limit=_BATCH)),
            _cursor("att", floor),
        )
        for a in started:
            if self._new(a.id):
                lines.extend(await self._attempt_lines(a, announce_start=True))
        for attempt_id, open_attempt in list(self._open.items()):
            for a in await self.store.query_attempts(
                AttemptQuery(delivery_id=open_attempt.delivery_id, limit=_BATCH)
            ):
                if a.id == attempt_id and a.finished_at is not None:
                    del self._open[attempt_id]
                    lines.extend(await self._attempt_lines(a, announce_start=False))
        return lines

    async def _attempt_lines(self, a: AttemptRecord, announce_start: bool) -> list[TailLine]:
        d = await self._delivery(a.delivery_id)
        if d is None or (self.source is not None and not await self._from_source(d)):
            return []
        started = TailAttempt(
            at=a.started_at,
            state="started",
            delivery_id=a.delivery_id,
            number=a.number,
            route=d.route,
            target=d.target,
        )
        lines: list[TailLine] = [started] if announce_start else []
        if a.finished_at is None:
            self._open[a.id] = a
            return lines
        finished = dataclasses.replace(
            started,
            at=a.finished_at,
            state="finished",
            outcome=a.outcome,
            status_code=a.status_code,
            duration_ms=a.duration_ms,
            function_run_id=a.function_run_id,
            run_status=a.run_status,
            error=a.error,
        )
        lines.append(finished)
        return lines

    async def _from_source(self, d: DeliveryRecord) -> bool:
        event = await self.store.get_event(d.event_id)
        return event is not None and event.source == self.source

    async def run(
        self,
        *,
        interval: float,
        once: bool,
        limit: int | None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> int:
        printed = 0
        while True:
            printed += await self.poll()
            if once or (limit is not None and printed >= limit):
                return printed
            await sleep(interval)


def format_line(line: TailLine, as_json: bool) -> str:
    if as_json:
        return json.dumps(plain(line))
    at = when(line.at)
    if isinstance(line, TailEvent):
        routes = ", ".join(line.routes) or "-"
        dup = f"  ({line.duplicates} re-deliveries)" if line.duplicates else ""
        return (
            f"{at}  event     {line.id}  {line.source}  {line.event_type or '-'}  "
            f"{line.status} -> {routes}{dup}"
        )
    if isinstance(line, TailRejection):
        return (
            f"{at}  rejected  {line.id}  {line.source}  {line.reason}  "
            f"from {line.client_ip or '-'}" + (f"  (x{line.count})" if line.count > 1 else "")
        )
    where = f"{line.route} -> {line.target}"
    head = f"{at}  attempt   {line.delivery_id} #{line.number}  {where}"
    if line.state == "started":
        return f"{head}  started"
    parts = [head, f"  {line.outcome}"]
    if line.status_code is not None:
        parts.append(f" HTTP {line.status_code}")
    if line.duration_ms is not None:
        parts.append(f" {line.duration_ms:.0f} ms")
    if line.function_run_id:
        parts.append(f" run {line.function_run_id} ({line.run_status or '-'})")
    if line.error:
        parts.append(f"  {line.error}")
    return "".join(parts)
