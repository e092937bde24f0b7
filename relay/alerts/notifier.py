"""The notifier: alerts go into a bounded queue and one background task sends them, so that
whoever raises an alert (the delivery worker, the webhook endpoint) never waits on Slack, a
URL or an SMTP server.

Deduplicated: an alert of the same kind about the same route (or target, for a breaker) is
sent at most once per ``dedupe_window``; the ones left out are counted into the next one.
Rate-limited: at most ``max_per_hour`` alerts per channel in any hour; beyond that they are
dropped, logged and counted (``dropped``). The queue is bounded too: when it is full an
alert is dropped rather than held.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Callable

from relay.alerts.channels import ChannelError, send
from relay.alerts.config import AlertKind, AlertsConfig, Channel
from relay.alerts.message import Alert
from relay.clock import Clock
from relay.delivery.outbound import Sender
from relay.logs import get_logger

__all__ = ["Notifier"]

_HOUR = 3600.0


class Notifier:
    def __init__(
        self,
        config: Callable[[], AlertsConfig | None],
        client: Sender,
        clock: Clock,
        *,
        queue_size: int = 256,
    ) -> None:
        self._config = config
        self._client = client
        self._clock = clock
        self._queue: asyncio.Queue[Alert] = asyncio.Queue(maxsize=queue_size)
        self._last: dict[tuple[AlertKind, str], float] = {}
        self._suppressed: dict[tuple[AlertKind, str], int] = {}
        self._sent_at: dict[str, deque[float]] = {}
        self._task: asyncio.Task[None] | None = None
        self._log = get_logger()
        self.sent = 0
        self.failed = 0
        self.dropped = 0  # rate limit or a full queue

    # raising alerts (synchronous, never blocks, never raises) ----------------------------

    def notify(self, kind: AlertKind, subject: str, **fields: str) -> None:
        try:
            config = self._config()
            if config is None or kind not in config.on:
                return
            now = self._clock.now()
            key = (kind, subject)
            last = self._last.get(key)
            if last is not None and now - last < config.dedupe_window:
                self._suppressed[key] = self._suppressed.get(key, 0) + 1
                return
            alert = Alert(kind, subject, now, dict(fields), self._suppressed.pop(key, 0))
            self._queue.put_nowait(alert)
            self._last[key] = now
        except asyncio.QueueFull:
            self.dropped += 1
            self._log.warning("relay.alerts.dropped", kind=kind.value, reason="queue_full")
        except Exception as exc:  # an alert must never break what raised it
            self._log.warning("relay.alerts.failed", kind=kind.value, error=str(exc))

    # sending ---------------------------------------------------------------------------

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self, grace: float = 5.0) -> None:
        """Send what is queued (for up to ``grace`` seconds), then stop."""
        task, self._task = self._task, None
        if task is None:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._queue.join(), grace)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    async def _run(self) -> None:
        while True:
            alert = await self._queue.get()
            try:
                config = self._config()
                if config is not None:
                    await asyncio.gather(
                        *(self._send_one(config, c, alert) for c in config.channels)
                    )
            finally:
                self._queue.task_done()

    def _allowed(self, config: AlertsConfig, channel: Channel, now: float) -> bool:
        times = self._sent_at.setdefault(repr(channel), deque())
        while times and now - times[0] >= _HOUR:
            times.popleft()
        if len(times) >= config.max_per_hour:
            return False
        times.append(now)
        return True

    async def _send_one(self, config: AlertsConfig, channel: Channel, alert: Alert) -> None:
        now = self._clock.now()
        if not self._allowed(config, channel, now):
            self.dropped += 1
            self._log.warning(
                "relay.alerts.rate_limited",
                channel=channel.type,
                kind=alert.kind.value,
                max_per_hour=config.max_per_hour,
            )
            return
        try:
            await send(channel, alert, self._client, now)
        except ChannelError as exc:
            self.failed += 1
            error = str(exc)
            for secret in config.secrets():
                error = error.replace(secret, "***")
            self._log.warning(
                "relay.alerts.send_failed", channel=channel.type, kind=alert.kind.value, error=error
            )
            return
        self.sent += 1
        self._log.info(
            "relay.alerts.sent", channel=channel.type, kind=alert.kind.value, subject=alert.subject
        )
