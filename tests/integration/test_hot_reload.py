"""Editing the routing file under a running relay: valid edits apply, invalid ones are refused."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import threading
import time
from pathlib import Path

import httpx

from tests.helpers import github_headers, issue_opened, write_config
from tests.integration.procs import start_relay, wait_until


def _routes(function_id: str) -> str:
    return f"""
  - name: new-issues
    source: github
    function_id: {function_id}
    match: {{event_type: issues, body: {{action: opened}}}}
    retry: {{max_attempts: 1}}
"""


def _write_by_rename(path: Path, text: str) -> None:
    """How editors and deploy tools save: a new file renamed over the old one."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def _functions(db: Path) -> list[str]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT function_id FROM deliveries ORDER BY created_at, id").fetchall()
    return [str(row[0]) for row in rows]


def _config_state(url: str) -> dict[str, object]:
    state: dict[str, object] = httpx.get(f"{url}/readyz", timeout=2).json()["config"]
    return state


def _send(url: str, number: int) -> int:
    body = issue_opened(number)
    headers = github_headers(body, delivery=f"d-{number}")
    return httpx.post(f"{url}/hooks/github", content=body, headers=headers, timeout=5).status_code


def test_valid_edit_applies_without_dropping_webhooks_and_invalid_edit_is_refused(
    tmp_path: Path,
) -> None:
    config = write_config(tmp_path / "relay.yaml", routes=_routes("v1"))
    db = tmp_path / "relay.db"
    with start_relay(config, db, tmp_path) as relay:
        first_sha = _config_state(relay.url)["sha256"]
        statuses: list[int] = []
        total = 40

        def stream() -> None:
            for n in range(total):
                statuses.append(_send(relay.url, n))
                time.sleep(0.02)

        sender = threading.Thread(target=stream)
        sender.start()
        time.sleep(0.5)
        _write_by_rename(
            config, write_config(tmp_path / "next.yaml", routes=_routes("v2")).read_text()
        )
        wait_until(lambda: _config_state(relay.url)["sha256"] != first_sha, what="the reload")
        sender.join(timeout=30)
        assert statuses == [200] * total
        wait_until(lambda: len(_functions(db)) == total, what="every delivery stored")
        functions = _functions(db)
        switch = functions.index("v2")
        assert 0 < switch < total
        assert functions == ["v1"] * switch + ["v2"] * (total - switch)

        good_sha = _config_state(relay.url)["sha256"]
        _write_by_rename(config, config.read_text().replace("function_id: v2", "function_id: ''"))
        wait_until(lambda: _config_state(relay.url)["last_error"], what="the refusal")
        state = _config_state(relay.url)
        assert state["sha256"] == good_sha
        expected = f"{config}:16:18: routes[0].function_id: String should have at least 1 character"
        assert state["last_error"] == expected
        assert _send(relay.url, 1000) == 200
        wait_until(lambda: len(_functions(db)) == total + 1, what="routing by the old rules")
        assert _functions(db)[-1] == "v2"

        # SIGHUP reloads at once (before the watcher's debounce would).
        _write_by_rename(config, config.read_text().replace("function_id: ''", "function_id: v3"))
        relay.process.send_signal(signal.SIGHUP)
        wait_until(lambda: _config_state(relay.url)["sha256"] != good_sha, what="the SIGHUP")
        assert _config_state(relay.url)["last_error"] is None
    logs = [json.loads(line) for line in relay.output().splitlines() if line.startswith("{")]
    reloaded = [e for e in logs if e["event"] == "relay.config.reloaded"]
    failed = [e for e in logs if e["event"] == "relay.config.reload_failed"]
    assert [e["trigger"] for e in reloaded] == ["watch", "sighup"]
    assert [e["errors"] for e in failed] == [[expected]]
