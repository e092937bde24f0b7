"""What ``relay serve`` refuses to expose, and what it says about it at start.

* **Demo secrets on a public address.** config/relay.yaml's ``${VAR:-default}`` defaults
  (``dev-secret``...) are public: anyone can sign webhooks with them. Bound to a
  non-loopback address, ``relay serve`` refuses to start when a source's webhook secret is
  one of relay's demo values or a default written in the config file, or when a source uses
  ``provider: none`` (no verification at all) — unless explicitly allowed with
  ``--allow-insecure`` or ``RELAY_ALLOW_INSECURE=1``.
* **Containers.** Inside a container "loopback" is the container itself (or, with host
  networking, anything on the host), so the admin surfaces' loopback-only mode without a token
  means nobody or too many: there they need ``RELAY_ADMIN_TOKEN``. The image sets
  ``RELAY_CONTAINER=1`` (set it in an image of your own). Marker files such as
  ``/.dockerenv`` are not used: development machines are often containers themselves, and
  ``make serve`` there keeps its loopback admin.
* **No config.** The image carries no routing config (so no demo secrets): started without
  one it says what to mount and exits.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from relay.routing.config import RelayConfig

__all__ = [
    "ALLOW_ENV",
    "CONTAINER_ENV",
    "DEMO_SECRETS",
    "Exposure",
    "allowed",
    "check_exposure",
    "in_container",
    "is_loopback_bind",
    "missing_config_help",
]

ALLOW_ENV = "RELAY_ALLOW_INSECURE"
CONTAINER_ENV = "RELAY_CONTAINER"
#: The demo values relay's own files carry (config/relay.yaml, deploy/, the README).
DEMO_SECRETS = frozenset(
    {
        "dev-secret",
        "whsec_ZGV2LXNlY3JldC1kZXYtc2VjcmV0",
        "ZGV2LXNlY3JldC1kZXYtc2VjcmV0",
        "REPLACE_ME",
    }
)
_DEFAULT = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*:-([^}]*)\}")
_TRUE = frozenset({"1", "true", "yes", "on"})


def _flag(env: Mapping[str, str], name: str) -> bool | None:
    value = env.get(name, "").strip().lower()
    if not value:
        return None
    return value in _TRUE


def in_container(env: Mapping[str, str]) -> bool:
    """Whether relay runs in its image: ``RELAY_CONTAINER=1`` (the Dockerfile sets it)."""
    return bool(_flag(env, CONTAINER_ENV))


def is_loopback_bind(host: str) -> bool:
    """Whether binding ``host`` only answers this machine (``0.0.0.0``, ``::``: everyone)."""
    name = host.strip("[]").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False  # a host name: whatever it resolves to, assume it is reachable


def config_defaults(text: str) -> frozenset[str]:
    """The ``${VAR:-default}`` defaults written in a config file (demo values by design)."""
    return frozenset(d for d in _DEFAULT.findall(text) if d)


@dataclass(frozen=True, slots=True)
class Exposure:
    """Why a start on a public address is refused (empty: nothing to refuse)."""

    demo_secret_sources: tuple[str, ...] = ()
    unauthenticated_sources: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.demo_secret_sources or self.unauthenticated_sources)

    def explain(self, host: str, *, reload: bool = False) -> str:
        """Why, and what to do; ``reload``: the config is refused while relay keeps running
        on ``host`` with the config it has."""
        if reload:
            head = f"relay: refusing this config while listening on {host} (reachable from "
            lines = [head + "other machines); the config in force stays:"]
        else:
            lines = [f"relay: refusing to listen on {host} (reachable from other machines):"]
        if self.demo_secret_sources:
            names = ", ".join(self.demo_secret_sources)
            lines.append(
                f"  source(s) {names} use a demo webhook secret (a default from the config "
                "file or one of relay's examples): anyone can sign webhooks with it; set the "
                "real secret in the environment (e.g. GITHUB_WEBHOOK_SECRET)"
            )
        if self.unauthenticated_sources:
            names = ", ".join(self.unauthenticated_sources)
            lines.append(
                f"  source(s) {names} use provider: none: no verification at all; put an "
                "authenticating proxy in front and say so explicitly"
            )
        lines.append(
            f"To {'serve it' if reload else 'start'} anyway: relay serve --allow-insecure, or "
            f"{ALLOW_ENV}=1. To try relay with its demo values, listen on 127.0.0.1 (the "
            "default)."
        )
        return "\n".join(lines)


def _is_demo(secret: str, defaults: frozenset[str]) -> bool:
    return secret in DEMO_SECRETS or secret in defaults


def check_exposure(
    config: RelayConfig, config_text: str, *, host: str, insecure_sources: Iterable[str]
) -> Exposure:
    """What a start on ``host`` would expose (nothing when it is a loopback address).

    ``insecure_sources``: the compiled sources whose provider verifies nothing.
    """
    if is_loopback_bind(host):
        return Exposure()
    defaults = config_defaults(config_text)
    demo = tuple(
        name
        for name, source in config.sources.items()
        if any(_is_demo(secret, defaults) for secret in source.secrets)
    )
    return Exposure(demo, tuple(insecure_sources))


def allowed(env: Mapping[str, str], flag: bool) -> bool:
    """``--allow-insecure`` or ``RELAY_ALLOW_INSECURE=1``."""
    return flag or bool(_flag(env, ALLOW_ENV))


def missing_config_help(path: str, *, container: bool) -> str:
    """What to do when the routing config does not exist."""
    if not container:
        return (
            f"relay: no routing config at {path}. Write one (config/relay.yaml in the "
            "repository is an example; docs/routing.md) and pass it with --config."
        )
    return "\n".join(
        [
            f"relay: no routing config at {path}. The image carries none (no demo secrets).",
            "Mount yours, the data directory as a volume, and pass secrets in the environment:",
            "  podman run -p 8080:8080 \\",
            f"    -v ./relay.yaml:{path}:ro \\",
            "    -v relay-data:/var/lib/relay \\",
            "    -e GITHUB_WEBHOOK_SECRET=... -e NOTTE_API_KEY=... \\",
            "    -e RELAY_ADMIN_TOKEN=... notte-relay",
            "(deploy/relay.yaml is a starting point; docs/operations.md has the details.)",
        ]
    )
