"""One ``relay serve`` for the hostile-input and duplicate tests: a source per provider (as
tests/provider_setups.py configures them; ``github`` with tests/helpers.py's secret), a
route for opened GitHub issues to a local runner, and a 2-second receive deadline."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tests.helpers import API_KEY, GITHUB_SECRET
from tests.integration.procs import Proc
from tests.provider_setups import Setup, setups
from tests.reliability.kit import RelayProcess

__all__ = ["ADMIN_TOKEN", "RECEIVE_TIMEOUT", "SharedRelay", "shared_config"]

RECEIVE_TIMEOUT = 2.0
ADMIN_TOKEN = "reliability-admin-token-8d2f"  # test_admin_security.py's RELAY_ADMIN_TOKEN
ROUTE = {
    "name": "issues",
    "source": "github",
    "function_id": "triage_issue",
    "match": {"event_type": "issues"},
    "variables": {"delivery": "event_id", "number": "body.issue.number"},
    "retry": {"max_attempts": 5, "initial": 0.1, "max": 0.5, "jitter": 0},
}


class _NoAliases(yaml.SafeDumper):
    """relay's loader refuses YAML anchors: write shared values out each time."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def shared_config(path: Path, base: str, runner_url: str) -> tuple[Path, dict[str, Setup]]:
    """The config, and the setups (secrets, options) to sign for each source with."""
    table = setups(lambda name: f"{base}/hooks/{name}")
    table["github"] = Setup([GITHUB_SECRET], {}, GITHUB_SECRET)
    sources = {
        name: {"provider": name, "secrets": setup.source_secrets, **setup.source_options}
        for name, setup in table.items()
    }
    config = {
        "version": 1,
        "targets": {
            "notte": {
                "base_url": runner_url,
                "api_key": API_KEY,
                "timeout": 10,
                "idempotency_header": "Idempotency-Key",
            }
        },
        "sources": sources,
        "routes": [ROUTE],
    }
    path.write_text(yaml.dump(config, Dumper=_NoAliases, sort_keys=False))
    return path, table


@dataclass
class SharedRelay:
    relay: RelayProcess
    runner: Proc
    table: dict[str, Setup]

    @property
    def url(self) -> str:
        return self.relay.url

    @property
    def db(self) -> Path | str:
        return self.relay.db

    def hook(self, source: str) -> str:
        return f"{self.relay.url}/hooks/{source}"
