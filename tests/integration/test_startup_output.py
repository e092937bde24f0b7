"""What ``relay serve`` and ``relay local-runner`` print at start is in one format: JSON log
lines (the default off a terminal; the banner's facts as events) or, with
``RELAY_LOG_FORMAT=console`` (the default on a terminal), text only."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import write_config
from tests.integration.procs import Proc, spawn_relay, start_runner, wait_ready, wait_until


@pytest.fixture(autouse=True)
def _no_log_format(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RELAY_LOG_FORMAT", raising=False)


def _lines(proc: Proc) -> list[str]:
    return [line for line in proc.output().splitlines() if line.strip()]


def _events(proc: Proc) -> list[dict[str, Any]]:
    """Every line of the output as JSON (any other line fails the test)."""
    return [json.loads(line) for line in _lines(proc)]


def _serve(tmp_path: Path, log_format: str | None) -> Proc:
    config = write_config(
        tmp_path / "relay.yaml", extra_sources="  open:\n    provider: none\n    insecure: true\n"
    )
    env = {} if log_format is None else {"RELAY_LOG_FORMAT": log_format}
    proc = spawn_relay(config, tmp_path / "relay.db", tmp_path / "relay.log", None, env=env)
    return wait_ready(proc)


def test_serve_starts_in_json_lines_only_with_the_banners_facts_as_events(
    tmp_path: Path,
) -> None:
    relay = _serve(tmp_path, None)
    try:
        wait_until(lambda: "relay.serve.listening" in relay.output(), what="the start event")
    finally:
        relay.stop()
    events = _events(relay)
    by_name = {e["event"]: e for e in events}
    listening = by_name["relay.serve.listening"]
    assert listening["url"] == relay.url
    hooks = {w["source"]: (w["url"], w["provider"]) for w in listening["webhooks"]}
    assert hooks["github"] == (f"{relay.url}/hooks/github", "github")
    assert hooks["open"] == (f"{relay.url}/hooks/open", "none")
    assert [t["target"] for t in listening["targets"]] == ["notte"]
    assert listening["data"] == str(tmp_path / "relay.db")
    assert "RELAY_ADMIN_TOKEN is not set" in listening["admin"]
    unauthenticated = by_name["relay.source.insecure"]  # the banner's WARNING line
    assert (unauthenticated["level"], unauthenticated["source"]) == ("warning", "open")


def test_serve_on_the_console_format_prints_the_banner_and_no_json(tmp_path: Path) -> None:
    relay = _serve(tmp_path, "console")
    try:
        wait_until(lambda: "webhook URLs:" in relay.output(), what="the banner")
    finally:
        relay.stop()
    lines = _lines(relay)
    assert f"relay listening on {relay.url}" in lines
    assert f"  {relay.url}/hooks/github  (provider: github)" in lines
    assert "  WARNING: open accepts unauthenticated requests (provider none)" in lines
    assert not [line for line in lines if line.lstrip().startswith("{")]


def test_local_runner_starts_in_json_lines_only(tmp_path: Path) -> None:
    assert "RELAY_LOG_FORMAT" not in os.environ
    with start_runner(tmp_path) as runner:
        wait_until(lambda: "listening" in runner.output(), what="the start event")
    events = _events(runner)
    assert {"event": "relay.local_runner.listening", "url": runner.url}.items() <= events[0].items()
