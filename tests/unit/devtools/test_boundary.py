"""The receive path does not carry the developer tooling: serving relay (the HTTP app, the
providers' verification, routing) imports nothing of ``relay.devtools``."""

from __future__ import annotations

import json
import subprocess
import sys


def test_the_receive_path_imports_no_devtools() -> None:
    script = (
        "import sys, json\n"
        "import relay.http.app, relay.providers, relay.routing.table, relay.serve\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout
    loaded = set(json.loads(out.strip().splitlines()[-1]))
    assert "relay.http.app" in loaded
    assert "relay.providers.stripe" in loaded  # the providers are loaded...
    assert not [m for m in loaded if m.startswith("relay.devtools")]  # ...not the tooling
