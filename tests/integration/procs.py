"""Real relay processes for integration tests: started on free ports, stopped for sure."""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.helpers import free_port

__all__ = [
    "Proc",
    "launch_relay",
    "relay_cli",
    "spawn_relay",
    "start_relay",
    "start_runner",
    "wait_ready",
    "wait_until",
]


@dataclass
class Proc:
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def kill(self) -> None:
        """SIGKILL: no cleanup at all, like a crash or an OOM kill."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def wait_until(predicate: object, *, within: float = 10.0, what: str = "condition") -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            if callable(predicate) and predicate():
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def _spawn(
    args: Sequence[str], log: Path, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    handle = log.open("ab")
    return subprocess.Popen(
        [sys.executable, "-m", "relay", *args],
        stdout=handle,
        stderr=subprocess.STDOUT,
        env={**os.environ, **(env or {})},
        preexec_fn=_die_with_parent,
    )


def _die_with_parent() -> None:
    """In the child: SIGKILL when the test process dies, so no server outlives a killed run."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def _healthy(url: str) -> bool:
    return httpx.get(url, timeout=1.0).status_code == 200


@contextmanager
def start_runner(
    tmp: Path, *extra: str, port: int | None = None, echo_unknown: bool = True
) -> Iterator[Proc]:
    port = port or free_port()
    log = tmp / f"runner-{port}.log"
    # --echo-unknown: the tests' function ids have no files; their runs echo their variables
    echo = ["--echo-unknown"] if echo_unknown else []
    args = ["local-runner", "--port", str(port), *echo, *extra]
    proc = Proc(_spawn(args, log), port, log)
    try:
        wait_until(lambda: _healthy(f"{proc.url}/_local/stats"), what="local-runner")
        yield proc
    finally:
        proc.stop()


def spawn_relay(
    config: Path,
    db: Path | str,
    log: Path,
    port: int | None = None,
    *extra: str,
    env: dict[str, str] | None = None,
) -> Proc:
    """``relay serve`` started, not waited for (see ``wait_ready``); ``env`` adds variables."""
    port = port or free_port()
    args = ["serve", "--config", str(config), "--db", str(db), "--port", str(port), *extra]
    return Proc(_spawn(args, log, env), port, log)


def wait_ready(proc: Proc, within: float = 10.0) -> Proc:
    """Wait for ``/readyz``; a relay that does not get ready is killed."""
    try:
        wait_until(
            lambda: _healthy(f"{proc.url}/readyz"), within=within, what=f"relay on {proc.port}"
        )
    except AssertionError:
        proc.kill()
        raise
    return proc


def launch_relay(
    config: Path, db: Path | str, log: Path, port: int | None = None, *extra: str
) -> Proc:
    return wait_ready(spawn_relay(config, db, log, port, *extra))


@contextmanager
def start_relay(config: Path, db: Path, tmp: Path, port: int | None = None) -> Iterator[Proc]:
    proc = launch_relay(config, db, tmp / "relay.log", port)
    try:
        yield proc
    finally:
        proc.stop()


def relay_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "relay", *args], capture_output=True, text=True, timeout=60
    )
