"""Shared test helpers: signing like the providers do, configs, a controllable clock."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import textwrap
import time
from pathlib import Path
from typing import Any

GITHUB_SECRET = "gh-test-secret-9f2c"
API_KEY = "test-api-key-71b3"


class FakeClock:
    """Wall time that only moves when told; monotonic follows the real clock."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self._now = now

    def now(self) -> float:
        return self._now

    def monotonic(self) -> float:
        return time.monotonic()

    def advance(self, seconds: float) -> None:
        self._now += seconds


def github_headers(
    body: bytes, *, event: str = "issues", delivery: str = "d-1", secret: str = GITHUB_SECRET
) -> dict[str, str]:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {
        "X-Hub-Signature-256": f"sha256={digest}",
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery,
        "Content-Type": "application/json",
    }


def issue_opened(number: int = 7) -> bytes:
    payload: dict[str, Any] = {
        "action": "opened",
        "issue": {"number": number, "title": "Crash on start"},
        "repository": {"full_name": "octo/repo"},
    }
    return json.dumps(payload).encode()


def write_config(
    path: Path,
    *,
    base_url: str = "http://127.0.0.1:9",
    routes: str | None = None,
    max_concurrency: int = 10,
    extra_sources: str = "",
    max_body_bytes: int | None = None,
    target_extra: str = "",
    timeout: float = 10,
    connect_timeout: float = 2,
    start: str | None = None,
) -> Path:
    """A config for tests; ``start`` sets the default routes' start mode (None: relay's
    default)."""
    if routes is None:
        routes = """
  - name: new-issues
    source: github
    function_id: triage_issue
    match: {event_type: issues, body: {action: opened}}
    variables:
      repo: body.repository.full_name
      number: body.issue.number
    retry: {max_attempts: 3, initial: 0.05, max: 0.2, jitter: 0}
  - name: all-github
    source: github
    function_id: log_everything
    match: {event_type: [push, release]}
    retry: {max_attempts: 3, initial: 0.05, max: 0.2, jitter: 0}
"""
        if start is not None:
            routes = routes.replace(
                "    source: github\n", f"    source: github\n    start: {start}\n"
            )
    text = textwrap.dedent(
        f"""\
        version: 1
        targets:
          notte:
            base_url: {base_url}
            api_key: {API_KEY}
            max_concurrency: {max_concurrency}
            timeout: {timeout}
            connect_timeout: {connect_timeout}
        {{target_extra}}sources:
          github:
            provider: github
            secrets: ["{GITHUB_SECRET}"]
        """
    )
    extra = "".join(f"    {line}\n" for line in textwrap.dedent(target_extra).splitlines() if line)
    text = text.replace("{target_extra}", extra)
    if max_body_bytes:
        text += f"    max_body_bytes: {max_body_bytes}\n"
    text += extra_sources
    text += "routes:" + routes
    path.write_text(text)
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port
