"""relay's image, built and run (``make test-image``; not part of ``make test``: minutes).

``make test-image`` installs podman, runc, debootstrap and podman-compose when missing, makes
a Debian base image once (tests/image/prepare.sh), builds the Dockerfile on it
(tests/image/build.sh) and then runs these tests against ``RELAY_TEST_IMAGE``:

* the image's safe defaults: a volume for the data, no routing config (so no demo secrets),
  an explanation and a non-zero exit without one, demo secrets refused on 0.0.0.0, the admin
  surfaces closed without a token and a banner that says so;
* SQLite on a volume: a signed webhook (``relay send github``) stored by one container is
  there for the next container on the same volume;
* deploy/compose.yaml's PostgreSQL setup: its migrate, local-runner, relay-1 and relay-2
  services run as the containers compose would start (same image, entrypoints, commands,
  environment and config mount), with host networking and the host's PostgreSQL at
  127.0.0.1:5432 standing in for the compose's ``postgres:16`` (no registry here), and each
  relay instance delivers webhooks to the local runner.
"""

from __future__ import annotations

import json
import re
import secrets
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.image.podman import IMAGE, Podman, free_port, wait_ready

pytestmark = pytest.mark.image

ROOT = Path(__file__).resolve().parents[2]
RELAY = str(Path(sys.executable).parent / "relay")
CONFIG = "/etc/relay/relay.yaml"
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::([-?])([^}]*))?\}")


@pytest.fixture(scope="module")
def podman() -> Iterator[Podman]:
    tool = Podman()
    if tool("image", "exists", IMAGE, check=False).returncode != 0:
        pytest.fail(f"no image {IMAGE}: run `make test-image` (it builds it)")
    try:
        yield tool
    finally:
        tool.clean()


def send_github(url: str, secret: str) -> str:
    """``relay send github``: a signed ``issues`` webhook; returns the stored event's id."""
    done = subprocess.run(
        [RELAY, "send", "github", "--url", url, "--secret", secret],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    status, _, body = done.stdout.partition("\n")
    assert status.startswith("HTTP 200"), done.stdout
    event_id: str = json.loads(body)["id"]
    return event_id


def _admin(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# safe defaults ---------------------------------------------------------------------------


def test_the_image_keeps_its_data_on_a_volume_and_carries_no_routing_config(
    podman: Podman,
) -> None:
    volumes = podman("image", "inspect", "-f", "{{json .Config.Volumes}}", IMAGE).stdout
    assert "/var/lib/relay" in json.loads(volumes)
    listing = podman("run", "--rm", "--entrypoint", "ls", IMAGE, "-A", "/etc/relay").stdout
    assert listing.split() == ["functions"]  # the local runner's demo functions, no relay.yaml


def test_started_without_a_config_it_says_what_to_mount_and_exits(podman: Podman) -> None:
    done = podman("run", "--rm", "--network", "host", IMAGE, check=False)
    assert done.returncode == 2
    assert f"no routing config at {CONFIG}" in done.stderr
    assert f"-v ./relay.yaml:{CONFIG}:ro" in done.stderr
    assert "-v relay-data:/var/lib/relay" in done.stderr


def test_demo_secrets_on_a_public_address_are_refused_unless_allowed(podman: Podman) -> None:
    port = str(free_port())
    demo = [f"{ROOT / 'config' / 'relay.yaml'}:{CONFIG}:ro"]
    args = ["--config", CONFIG, "--host", "0.0.0.0", "--port", port]
    refused = podman("run", "--rm", "--network", "host", "-v", demo[0], IMAGE, *args, check=False)
    assert refused.returncode == 2
    assert "refusing to listen on 0.0.0.0" in refused.stderr
    assert "github" in refused.stderr
    assert "RELAY_ALLOW_INSECURE=1" in refused.stderr

    name = podman.start("allowed", env={"RELAY_ALLOW_INSECURE": "1"}, volumes=demo, command=args)
    wait_ready(f"http://127.0.0.1:{port}/readyz", podman, name)
    assert "relay.serve.insecure_allowed" in podman.logs(name)


# SQLite on a volume ----------------------------------------------------------------------


def test_a_webhook_stored_by_one_container_is_there_for_the_next_on_the_volume(
    podman: Podman,
) -> None:
    secret, token, port = secrets.token_hex(16), secrets.token_hex(16), free_port()
    data = podman.volume("data")
    env = {
        "GITHUB_WEBHOOK_SECRET": secret,
        "NOTTE_API_KEY": secrets.token_hex(8),
        "NOTTE_API_URL": "http://127.0.0.1:9",  # nothing there: deliveries wait and retry
    }
    mounts = [f"{data}:/var/lib/relay", f"{ROOT / 'deploy' / 'relay.yaml'}:{CONFIG}:ro"]
    # The Dockerfile's own way: a published port (bridge network), the image's CMD.
    publish = ("-p", f"127.0.0.1:{port}:8080")
    first = podman.start("sqlite-1", *publish, env=env, volumes=mounts, network=())
    base = f"http://127.0.0.1:{port}"
    wait_ready(f"{base}/readyz", podman, first)

    # No token: the admin surfaces are closed to everyone, loopback included, and the
    # start event (JSON logs: no terminal) says how to open them.
    (listening,) = [
        json.loads(line)
        for line in podman.logs(first).splitlines()
        if '"relay.serve.listening"' in line
    ]
    assert listening["admin"].startswith("closed: set RELAY_ADMIN_TOKEN")
    closed = httpx.get(f"{base}/api/events", timeout=5)
    assert (closed.status_code, closed.json()["error"]) == (403, "admin_token_required")
    # The image's HEALTHCHECK (python, /readyz on 8080) passes.
    assert podman("healthcheck", "run", first, check=False).returncode == 0

    event_id = send_github(f"{base}/hooks/github", secret)
    podman("stop", "-t", "20", first)
    assert podman.wait_exit(first) == 0  # SIGTERM: a clean stop
    podman("rm", first)

    # The database is on the volume, not in the container's layer.
    mountpoint = podman("volume", "inspect", "-f", "{{.Mountpoint}}", data).stdout.strip()
    with sqlite3.connect(Path(mountpoint) / "relay.db") as db:
        stored = db.execute("SELECT id FROM events WHERE id = ?", (event_id,)).fetchall()
    assert stored == [(event_id,)]

    second = podman.start(
        "sqlite-2", *publish, env={**env, "RELAY_ADMIN_TOKEN": token}, volumes=mounts, network=()
    )
    wait_ready(f"{base}/readyz", podman, second)
    assert "log in with RELAY_ADMIN_TOKEN" in podman.logs(second)
    assert httpx.get(f"{base}/api/events", timeout=5).status_code == 401
    events = httpx.get(f"{base}/api/events", headers=_admin(token), timeout=5).json()
    assert event_id in {e["id"] for e in events["items"]}


# deploy/compose.yaml on PostgreSQL -------------------------------------------------------


def _interpolate(value: str, env: Mapping[str, str]) -> str:
    """Compose's ``${VAR}``, ``${VAR:-default}`` and ``${VAR:?error}``."""

    def one(match: re.Match[str]) -> str:
        name, kind, arg = match.groups()
        if env.get(name):
            return env[name]
        if kind == "?":
            raise AssertionError(f"compose needs {name}: {arg}")
        return arg or ""

    return _VAR.sub(one, value)


class Compose:
    """deploy/compose.yaml's services as podman containers on the host's network."""

    def __init__(self, podman: Podman, pg_url: str, env: Mapping[str, str]) -> None:
        self.podman = podman
        self.file = yaml.safe_load((ROOT / "deploy" / "compose.yaml").read_text())
        self.services: dict[str, Any] = self.file["services"]
        self.env = env
        self.pg_url = pg_url
        self.runner_port = free_port()
        self.ports: dict[str, int] = {}

    def environment(self, service: str) -> dict[str, str]:
        found: dict[str, str] = {}
        for key, raw in self.services[service].get("environment", {}).items():
            value = _interpolate(str(raw), self.env)
            if key == "RELAY_DATABASE_URL":
                assert re.fullmatch(r"postgresql://relay:[^@]*@postgres:5432/relay", value)
                value = self.pg_url  # the host's PostgreSQL stands in for the compose's
            value = value.replace(
                "http://local-runner:8787", f"http://127.0.0.1:{self.runner_port}"
            )
            found[key] = value
        return found

    def volumes(self, service: str) -> list[str]:
        found = []
        for volume in self.services[service].get("volumes", []):
            source, _, rest = volume.partition(":")
            assert source.startswith("./"), volume
            found.append(f"{ROOT / 'deploy' / source[2:]}:{rest}")
        return found

    def start(self, service: str) -> str:
        spec = self.services[service]
        command = [str(c) for c in spec.get("command", [])]
        if service == "local-runner":
            command[command.index("--port") + 1] = str(self.runner_port)
        elif "entrypoint" not in spec:  # relay serve with the image's CMD, on its own port
            self.ports[service] = free_port()
            command = ["--config", CONFIG, "--host", "0.0.0.0", "--port", str(self.ports[service])]
        return self.podman.start(
            service,
            env=self.environment(service),
            volumes=self.volumes(service),
            entrypoint=spec.get("entrypoint"),
            command=command,
        )

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}"


def _succeeded(base: str, token: str, event_ids: set[str], timeout: float = 90) -> None:
    """Wait until every delivery of these events succeeded (fail at the deadline)."""
    deadline = time.monotonic() + timeout
    statuses: dict[str, str] = {}
    while time.monotonic() < deadline:
        page = httpx.get(
            f"{base}/api/deliveries", params={"limit": 500}, headers=_admin(token), timeout=5
        ).json()
        statuses = {d["event_id"]: d["status"] for d in page["items"] if d["event_id"] in event_ids}
        if len(statuses) == len(event_ids) and set(statuses.values()) == {"succeeded"}:
            return
        time.sleep(0.5)
    raise AssertionError(f"not all delivered: {statuses}")


def test_the_compose_setup_runs_two_instances_on_postgresql_and_both_deliver(
    podman: Podman, pg_url: str
) -> None:
    secret, token = secrets.token_hex(16), secrets.token_hex(16)
    env = {"GITHUB_WEBHOOK_SECRET": secret, "RELAY_ADMIN_TOKEN": token}
    compose = Compose(podman, pg_url, env)

    # podman-compose reads the file as compose would: it needs the webhook secret.
    config = [str(Path(sys.executable).parent / "podman-compose"), "-f", "deploy/compose.yaml"]
    without = subprocess.run(
        [*config, "config"],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert without.returncode != 0
    rendered = subprocess.run(
        [*config, "config"],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", **env},
        capture_output=True,
        text=True,
        check=True,
    )
    assert secret in rendered.stdout

    migrate = compose.start("migrate")
    assert podman.wait_exit(migrate) == 0, podman.logs(migrate)
    compose.start("local-runner")
    relays = [compose.start(name) for name in ("relay-1", "relay-2")]
    for name, container in zip(("relay-1", "relay-2"), relays, strict=True):
        wait_ready(f"{compose.url(name)}/readyz", podman, container)

    # Both take webhooks, and every delivery succeeds from the shared database.
    sent = {
        send_github(f"{compose.url(name)}/hooks/github", secret)
        for _ in range(5)
        for name in ("relay-1", "relay-2")
    }
    _succeeded(compose.url("relay-1"), token, sent)

    # Each delivers on its own: with the other stopped, a webhook sent to it is delivered.
    for alive, stopped in (relays, reversed(relays)):
        podman("stop", "-t", "20", stopped)
        name = "relay-1" if alive == relays[0] else "relay-2"
        if podman("inspect", "-f", "{{.State.Running}}", alive).stdout.strip() != "true":
            podman("start", alive)
            wait_ready(f"{compose.url(name)}/readyz", podman, alive)
        event_id = send_github(f"{compose.url(name)}/hooks/github", secret)
        _succeeded(compose.url(name), token, {event_id})
    for container in relays:
        assert "Traceback" not in podman.logs(container)
