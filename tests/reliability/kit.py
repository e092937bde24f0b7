"""Real processes for the fault tests: a relay restartable on one port and one SQLite file
(with ``RELAY_FAULT`` crash points), a local runner, and read-only looks at the database.

Starts wait generously (a busy 2-core machine can take seconds to import relay); every wait
is bounded and fails the test with what it was waiting for. A relay's port lies outside the
kernel's ephemeral range (see ``restart_port``), so nothing can take it while relay is down.
"""

from __future__ import annotations

import os
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.helpers import free_port
from tests.integration.procs import Proc, wait_until

__all__ = [
    "START_WITHIN",
    "RelayProcess",
    "db_rows",
    "restart_port",
    "runner",
    "runner_runs",
    "runner_stats",
    "statuses",
]

START_WITHIN = 60.0
_PROBE_TIMEOUT = 5.0  # one /readyz answer; a loaded machine can be slow to give it
_EPHEMERAL = Path("/proc/sys/net/ipv4/ip_local_port_range")
_LOWEST_PORT = 10000
_pick = random.SystemRandom()  # not the seeded global one: parallel runs must not agree


def _ephemeral_range() -> tuple[int, int]:
    try:
        low, high = (int(part) for part in _EPHEMERAL.read_text().split())
    except (OSError, ValueError):
        return 32768, 60999  # Linux's default
    return low, high


def _bindable(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def restart_port() -> int:
    """A free port outside the ephemeral range, for a relay killed and restarted on it.

    An ephemeral port (``free_port``) is up for grabs while relay is down: another process
    binding port 0, any outgoing connection, or even a client retrying to reach relay itself
    (a TCP self-connect: source port = destination port) can take it, and the restarted relay
    then fails with "address already in use". Nothing picks a port outside that range unless
    asked to.
    """
    low, high = _ephemeral_range()
    ranges = [(_LOWEST_PORT, low), (high + 1, 65536)]
    choices = [r for r in ranges if r[1] - r[0] >= 100]
    for _ in range(200) if choices else ():
        start, stop = _pick.choice(choices)
        port = _pick.randrange(start, stop)
        if _bindable(port):
            return port
    return free_port()


def _spawn(args: list[str], log: Path, env: Mapping[str, str] | None) -> subprocess.Popen[bytes]:
    with log.open("ab") as handle:
        return subprocess.Popen(
            [sys.executable, "-m", "relay", *args],
            stdout=handle,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
        )


def _ok(url: str) -> bool:
    return httpx.get(url, timeout=_PROBE_TIMEOUT).status_code == 200


@dataclass
class RelayProcess:
    """``relay serve`` on a fixed port and database; each start logs to a file of its own.

    A start armed with ``RELAY_FAULT`` may crash before it is ready (the fault can be reached
    as soon as the worker or the socket is up): ``wait_ready(crash_ok=True)`` says so instead
    of failing.
    """

    config: Path
    db: Path | str  # a SQLite file, or a database URL
    logs: Path
    extra: tuple[str, ...] = ()
    port: int = field(default_factory=restart_port)
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, env: Mapping[str, str] | None = None, *, wait: bool = True) -> None:
        assert not self.alive, "already running"
        self.starts += 1
        args = ["serve", "--config", str(self.config), "--db", str(self.db)]
        args += ["--port", str(self.port), *self.extra]
        self.process = _spawn(args, self.log, env)
        if wait:
            self.wait_ready()

    def wait_ready(self, *, crash_ok: bool = False) -> bool:
        """Wait for ``/readyz``: True once ready. With ``crash_ok``, False if relay was
        SIGKILLed first (its armed ``RELAY_FAULT`` fired); any other exit fails."""
        deadline = time.monotonic() + START_WITHIN
        while time.monotonic() < deadline:
            if not self.alive:
                if crash_ok and self.crashed:
                    return False
                tail = self.log.read_text(errors="replace")[-2000:]
                raise AssertionError(f"relay exited ({self.returncode}) while starting:\n{tail}")
            try:
                if _ok(f"{self.url}/readyz"):
                    return True
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        self.kill()
        raise AssertionError(f"relay on {self.port} not ready within {START_WITHIN}s")

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    @property
    def returncode(self) -> int | None:
        return None if self.process is None else self.process.poll()

    @property
    def crashed(self) -> bool:
        """Ended by SIGKILL (a ``RELAY_FAULT`` crash point, or ``kill``)."""
        return self.returncode == -signal.SIGKILL

    def kill(self) -> None:
        """SIGKILL: no cleanup at all, like a crash or an OOM kill."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        if self.process is not None:
            self.process.wait(timeout=30)

    def terminate(self, within: float = 60.0) -> float:
        """SIGTERM, then wait for the exit; the seconds it took (SIGKILL past ``within``)."""
        assert self.process is not None
        started = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=within)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"relay did not stop within {within}s of SIGTERM") from None
        return time.monotonic() - started

    @property
    def log(self) -> Path:
        """The current (or last) start's output."""
        return self.logs / f"relay-{self.starts}.log"

    def output(self) -> str:
        """Every start's output, in start order."""
        logs = sorted(self.logs.glob("relay-*.log"), key=lambda p: int(p.stem.partition("-")[2]))
        return "".join(p.read_text(errors="replace") for p in logs)


@contextmanager
def runner(tmp: Path, *extra: str) -> Iterator[Proc]:
    """``relay local-runner`` on a free port (stopped afterwards)."""
    port = free_port()
    log = tmp / f"runner-{port}.log"
    # --echo-unknown: the tests' function ids have no files; their runs echo their variables
    args = ["local-runner", "--port", str(port), "--echo-unknown", *extra]
    proc = Proc(_spawn(args, log, None), port, log)
    try:
        wait_until(
            lambda: _ok(f"{proc.url}/_local/stats"), within=START_WITHIN, what="local-runner"
        )
        yield proc
    finally:
        proc.kill()


def runner_runs(url: str) -> list[dict[str, Any]]:
    """The runs the runner executed (a two-step start's created runs that never started are
    not runs of the function)."""
    runs: list[dict[str, Any]] = httpx.get(f"{url}/_local/runs", timeout=30.0).json()
    return [r for r in runs if int(r.get("start_count", 1)) > 0]


def runner_stats(url: str) -> dict[str, int]:
    stats: dict[str, int] = httpx.get(f"{url}/_local/stats", timeout=30.0).json()
    return stats


def db_rows(db: Path | str, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Rows read straight from the file, read-only (relay may be writing meanwhile)."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30.0)
    try:
        return list(conn.execute(sql, params))
    finally:
        conn.close()


def statuses(db: Path | str) -> dict[str, int]:
    """Delivery count per status."""
    rows = db_rows(db, "SELECT status, count(*) FROM deliveries GROUP BY status")
    return {str(status): int(n) for status, n in rows}
