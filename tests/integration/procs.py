"""Real relay processes for integration tests: started on free ports, stopped for sure."""

from __future__ import annotations

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

__all__ = ["Proc", "relay_cli", "start_relay", "start_runner", "wait_until"]


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
    )


def _healthy(url: str) -> bool:
    return httpx.get(url, timeout=1.0).status_code == 200


@contextmanager
def start_runner(tmp: Path, *extra: str, port: int | None = None) -> Iterator[Proc]:
    port = port or free_port()
    log = tmp / f"runner-{port}.log"
    proc = Proc(_spawn(["local-runner", "--port", str(port), *extra], log), port, log)
    try:
        wait_until(lambda: _healthy(f"{proc.url}/_local/stats"), what="local-runner")
        yield proc
    finally:
        proc.stop()


def launch_relay(config: Path, db: Path, log: Path, port: int | None = None, *extra: str) -> Proc:
    port = port or free_port()
    proc = Proc(
        _spawn(
            ["serve", "--config", str(config), "--db", str(db), "--port", str(port), *extra],
            log,
        ),
        port,
        log,
    )
    wait_until(lambda: _healthy(f"{proc.url}/readyz"), what=f"relay on {port}")
    return proc


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
