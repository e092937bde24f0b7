"""Peak memory of ``relay serve`` taking one large signed GitHub webhook (25 MB by default).

Starts ``relay serve`` (SQLite, a route for ``push`` events to an unreachable target, paused
by a 1-hour breaker: nothing is sent), reads the process's resident memory once it is ready,
sends one signed body of ``--size`` bytes (a push event with that many bytes of commits),
then reads the process's peak (``VmHWM``). Prints and returns both, and the growth over the
body's size. ``python -m bench.large_body [--size BYTES] [--relay-src DIR]``.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import httpx

SECRET = "bench-large-body-secret"  # noqa: S105 (a test secret)
MiB = 1024 * 1024


def push_body(size: int) -> bytes:
    """A GitHub push event of about ``size`` bytes (commits with realistic fields)."""
    commit = {
        "id": "0" * 40,
        "message": "Fix the thing " * 20,
        "author": {"name": "Octo Cat", "email": "octo@example.com", "username": "octocat"},
        "added": ["src/a.py", "src/b.py"],
        "removed": [],
        "modified": ["README.md"],
        "url": "https://github.com/octo/repo/commit/" + "0" * 40,
    }
    one = len(json.dumps(commit)) + 2
    commits = [dict(commit, id=f"{i:040x}") for i in range(max(1, size // one))]
    body = {"ref": "refs/heads/main", "repository": {"full_name": "octo/repo"}}
    return json.dumps({**body, "commits": commits}).encode()


def _status(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no {key} for {pid}")


def measure(size: int, relay_src: str | None) -> dict[str, float]:
    body = push_body(size)
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "relay.yaml"
        config.write_text(
            textwrap.dedent(
                f"""\
                version: 1
                targets:
                  t: {{base_url: "http://127.0.0.1:9", api_key: k}}
                sources:
                  github: {{provider: github, secrets: ["{SECRET}"], max_body_bytes: {32 * MiB}}}
                routes:
                  - name: pushes
                    source: github
                    function_id: f
                    match: {{event_type: push}}
                    variables: {{ref: body.ref}}
                """
            )
        )
        port = 18000 + os.getpid() % 1000
        env = {**os.environ}
        if relay_src:
            env["PYTHONPATH"] = relay_src
        proc = subprocess.Popen(
            [sys.executable, "-m", "relay", "serve", "--config", str(config), "--port", str(port),
             "--db", str(Path(tmp) / "relay.db")],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=relay_src or None,
        )  # fmt: skip
        try:
            url = f"http://127.0.0.1:{port}"
            for _ in range(600):
                try:
                    if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                time.sleep(0.1)
            time.sleep(1.0)  # let start-up settle
            before = _status(proc.pid, "VmRSS")
            digest = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
            headers = {
                "X-Hub-Signature-256": f"sha256={digest}",
                "X-GitHub-Event": "push",
                "X-GitHub-Delivery": "large-1",
                "Content-Type": "application/json",
            }
            reply = httpx.post(f"{url}/hooks/github", content=body, headers=headers, timeout=120)
            peak = _status(proc.pid, "VmHWM")
        finally:
            proc.terminate()
            proc.wait(timeout=60)
    result = {
        "body_mib": len(body) / MiB,
        "status": reply.status_code,
        "rss_before_mib": before / MiB,
        "peak_mib": peak / MiB,
        "growth_mib": (peak - before) / MiB,
        "growth_per_body": (peak - before) / len(body),
    }
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=25 * 1000 * 1000)
    parser.add_argument("--relay-src", help="a directory with another relay package")
    args = parser.parse_args()
    print(json.dumps(measure(args.size, args.relay_src), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
