"""Running relay's image with podman for ``make test-image`` (tests/image/prepare.sh has the
machine's settings: runc, cgroupfs, no default ulimits, in tests/image/containers.conf)."""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx

__all__ = ["IMAGE", "Podman", "free_port", "wait_ready"]

HERE = Path(__file__).resolve().parent
IMAGE = os.environ.get("RELAY_TEST_IMAGE", "localhost/notte-relay:test")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Podman:
    """podman as root with runc; remembers what it made and removes it in ``clean``."""

    prefix: str = field(default_factory=lambda: f"relay-test-{secrets.token_hex(3)}")
    containers: list[str] = field(default_factory=list)
    volumes: list[str] = field(default_factory=list)

    def __call__(
        self, *args: str, check: bool = True, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "CONTAINERS_CONF": str(HERE / "containers.conf")}
        done = subprocess.run(
            ["podman", "--runtime", "runc", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if check and done.returncode != 0:
            raise AssertionError(f"podman {' '.join(args)}: {done.returncode}\n{done.stderr}")
        return done

    def name(self, what: str) -> str:
        return f"{self.prefix}-{what}"

    def volume(self, what: str) -> str:
        name = self.name(what)
        self("volume", "create", name)
        self.volumes.append(name)
        return name

    def start(
        self,
        what: str,
        *args: str,
        env: Mapping[str, str] | None = None,
        volumes: Sequence[str] = (),
        network: Sequence[str] = ("--network", "host"),
        entrypoint: Sequence[str] | None = None,
        command: Sequence[str] = (),
    ) -> str:
        """``podman run -d``; returns the container's name."""
        name = self.name(what)
        options = [*network, *args]
        for key, value in (env or {}).items():
            options += ["-e", f"{key}={value}"]
        for volume in volumes:
            options += ["-v", volume]
        if entrypoint is not None:
            options += ["--entrypoint", _entrypoint(entrypoint)]
        self("run", "-d", "--name", name, *options, IMAGE, *command)
        self.containers.append(name)
        return name

    def logs(self, name: str) -> str:
        done = self("logs", name, check=False)
        return done.stdout + done.stderr

    def wait_exit(self, name: str, timeout: float = 120) -> int:
        return int(self("wait", name, timeout=timeout).stdout.strip().splitlines()[-1])

    def clean(self) -> None:
        for name in reversed(self.containers):
            self("rm", "-f", "-v", "-t", "2", name, check=False)  # -v: its anonymous volume
        for name in self.volumes:
            self("volume", "rm", "-f", name, check=False)


def _entrypoint(parts: Sequence[str]) -> str:
    return json.dumps(list(parts))


def wait_ready(url: str, podman: Podman, name: str, timeout: float = 90) -> None:
    """Poll ``url`` (``/readyz``) until it answers 200; fail with the container's log if the
    container exits or the deadline passes (a deadline to fail by, not a speed check)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        state = podman("inspect", "-f", "{{.State.Running}}", name, check=False).stdout.strip()
        if state == "false":
            raise AssertionError(f"{name} exited:\n{podman.logs(name)}")
        time.sleep(0.5)
    raise AssertionError(f"{name} not ready at {url}:\n{podman.logs(name)}")
