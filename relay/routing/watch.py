"""Watching the config file for edits: polling its stat and SHA-256, debounced.

Editors and deploy tools replace files by rename (a new inode), Kubernetes swaps a symlink;
polling the path's ``stat`` every ``interval`` sees all of these, needs no dependency, and
costs one ``stat`` call per interval. A change triggers ``on_change`` once the file has been
stable for one more interval (so a burst of writes is one reload) and only when its bytes
differ from the loaded config's (``current_sha256``) and from the last content tried.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from relay.logs import get_logger

__all__ = ["ConfigWatcher"]

_Signature = tuple[int, int, int, int]


class ConfigWatcher:
    def __init__(
        self,
        path: str,
        *,
        current_sha256: Callable[[], str],
        on_change: Callable[[], Awaitable[Any]],
        interval: float = 0.5,
    ) -> None:
        self._path = path
        self._current = current_sha256
        self._on_change = on_change
        self._interval = interval
        self._task: asyncio.Task[None] | None = None
        self._log = get_logger()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="relay-config-watch")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def _signature(self) -> _Signature | None:
        try:
            st = os.stat(self._path)
        except OSError:
            return None  # mid-rename, or removed: wait for it to come back
        return st.st_mtime_ns, st.st_size, st.st_ino, st.st_dev

    def _digest(self) -> str | None:
        try:
            return hashlib.sha256(Path(self._path).read_bytes()).hexdigest()
        except OSError:
            return None

    async def _run(self) -> None:
        last = self._signature()
        tried: tuple[str, str] | None = None
        pending = False
        while True:
            await asyncio.sleep(self._interval)
            signature = self._signature()
            if signature != last:
                last, pending = signature, True
                continue  # still changing: wait until it is stable for one interval
            if not pending or signature is None:
                continue
            pending = False
            digest = await asyncio.to_thread(self._digest)
            current = self._current()
            if digest is None or digest == current or (digest, current) == tried:
                continue
            tried = (digest, current)  # a refused file is not retried until something changes
            try:
                await self._on_change()
            except Exception as exc:  # the reload reports its own errors; keep watching
                self._log.error("relay.config.watch_failed", error=str(exc))
