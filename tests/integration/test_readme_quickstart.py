"""The README's quick start, pasted as written: its try-it commands (the curl, which sends no
Content-Type, then ``.venv/bin/relay deliveries``) against ``relay serve`` with
``config/relay.yaml`` and ``relay local-runner`` with ``config/functions``, as ``make serve``
starts them. Only the port differs (a free one instead of 8080)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tests.helpers import free_port
from tests.integration.procs import spawn_relay, start_runner, wait_ready, wait_until

ROOT = Path(__file__).resolve().parents[2]


def readme_try_it() -> str:
    """The shell block after "Try it from another terminal" in README.md."""
    readme = (ROOT / "README.md").read_text()
    after = readme.split("Try it from another terminal", 1)[1]
    match = re.search(r"```sh\n(.*?)```", after, re.S)
    assert match is not None, "README.md lost its try-it block"
    return match.group(1)


def test_readme_try_it_commands_deliver_to_the_local_runner(tmp_path: Path) -> None:
    script = readme_try_it()
    assert "curl" in script
    assert "Content-Type" not in script
    assert ".venv/bin/relay deliveries" in script
    port = free_port()
    script = script.replace("localhost:8080", f"localhost:{port}")
    # `.venv/bin/relay` in a directory of its own, reading ./relay.db there (the default)
    venv_bin = tmp_path / ".venv" / "bin"
    venv_bin.mkdir(parents=True)
    (venv_bin / "relay").write_text(f'#!/bin/sh\nexec {sys.executable} -m relay "$@"\n')
    (venv_bin / "relay").chmod(0o755)

    def run(text: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["bash", "-c", text], cwd=tmp_path, capture_output=True, text=True, timeout=60
        )

    functions = str(ROOT / "config" / "functions")
    with start_runner(tmp_path, "--functions", functions) as runner:
        relay = spawn_relay(
            ROOT / "config" / "relay.yaml",
            tmp_path / "relay.db",
            tmp_path / "relay.log",
            port,
            env={"NOTTE_API_URL": runner.url},
        )
        wait_ready(relay)
        try:
            done = run(script)
            assert done.returncode == 0, done.stderr
            assert '"duplicate":false' in done.stdout, done.stdout
            deliveries = done.stdout
            last = script.strip().splitlines()[-1]

            def succeeded() -> bool:
                nonlocal deliveries
                if re.search(r"succeeded +new-issues", deliveries) is None:
                    deliveries = run(last).stdout
                return re.search(r"succeeded +new-issues", deliveries) is not None

            try:
                wait_until(succeeded, within=30, what="relay deliveries showing a success")
            except AssertionError:
                raise AssertionError(f"{deliveries}\n{relay.output()[-3000:]}") from None
        finally:
            relay.stop()
