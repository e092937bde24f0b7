"""Process settings: where the config and the database are, and who this instance is."""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field

from relay.ids import new_id

__all__ = ["Settings"]


def _instance_id() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{new_id('i')[-6:]}"


@dataclass(frozen=True, slots=True)
class Settings:
    config_path: str
    database_url: str = "./relay.db"
    env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    instance_id: str = field(default_factory=_instance_id)
    exclusive_store: bool = True
    poll_interval: float = 1.0
    shutdown_grace: float = 10.0  # SIGTERM: how long attempts in flight may still take
    recover_interval: float = 30.0  # how often expired leases are swept
    retention_interval: float = 3600.0  # how often old events are purged
    config_watch_interval: float = 0.5  # how often the config file is polled; 0: not watched
    receive_timeout: float = 10.0  # seconds a client has to send a request's headers, and its body
    # Without RELAY_ADMIN_TOKEN, loopback clients may use the admin surfaces (not in a
    # container, where loopback is not this machine's user: relay/exposure.py).
    admin_loopback: bool = True
    body_memory: int = 256 * 1024 * 1024  # bytes of webhook bodies held at once; 503 beyond
    # The address relay serve listens on, and whether demo secrets or provider: none may be
    # served there (--allow-insecure): a reload is held to the start's rule (relay/exposure.py).
    bind_host: str = "127.0.0.1"
    allow_insecure: bool = False
