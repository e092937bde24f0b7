"""Reloading the routing table: swap when valid, refuse with located errors, keep the old."""

from __future__ import annotations

import asyncio
from pathlib import Path

from structlog.testing import capture_logs

from relay.http.app import load_table
from relay.routing.reloader import ConfigState
from relay.routing.table import RoutingTable
from relay.settings import Settings
from tests.helpers import FakeClock, write_config


def _state(path: Path, clock: FakeClock) -> ConfigState:
    settings = Settings(config_path=str(path), env={})
    return ConfigState(
        load_table(settings, clock), load=lambda: load_table(settings, clock), clock=clock
    )


async def test_valid_edit_swaps_the_table(tmp_path: Path) -> None:
    clock = FakeClock()
    path = write_config(tmp_path / "relay.yaml")
    state = _state(path, clock)
    before = state.table
    clock.advance(10)
    write_config(
        path, routes="\n  - {name: only, source: github, function_id: f, match: {event_type: x}}\n"
    )
    with capture_logs() as logs:
        result = await state.reload("test")
    assert (result.ok, result.changed, result.errors) == (True, True, ())
    assert state.table is not before
    assert result.config_sha256 == state.table.sha256 != before.sha256
    assert result.loaded_at == clock.now()
    assert [r.name for r in state.table.routes_for("github")] == ["only"]
    assert [r.name for r in before.routes_for("github")] == ["new-issues", "all-github"]
    (log,) = [e for e in logs if e["event"] == "relay.config.reloaded"]
    assert log["trigger"] == "test"
    assert log["previous_sha256"] == before.sha256


async def test_unchanged_file_keeps_the_same_table(tmp_path: Path) -> None:
    state = _state(write_config(tmp_path / "relay.yaml"), FakeClock())
    before = state.table
    result = await state.reload("sighup")
    assert (result.ok, result.changed) == (True, False)
    assert state.table is before


async def test_invalid_edit_is_refused_and_the_old_rules_stay(tmp_path: Path) -> None:
    clock = FakeClock()
    path = write_config(tmp_path / "relay.yaml")
    state = _state(path, clock)
    before: RoutingTable = state.table
    routes = "\n  - {name: bad, source: github, function_id: f, match: {when: 'a =='}}\n"
    write_config(path, routes=routes)
    with capture_logs() as logs:
        result = await state.reload("watch")
    assert (result.ok, result.changed) == (False, False)
    assert state.table is before
    expected = f"{path}:14:68: route 'bad': when: invalid expression: incomplete expression"
    assert result.errors == (expected,)
    assert state.last_error == expected
    assert state.last_error_at == clock.now()
    (log,) = [e for e in logs if e["event"] == "relay.config.reload_failed"]
    assert log["errors"] == [expected]
    assert log["config_sha256"] == before.sha256
    assert log["log_level"] == "error"

    write_config(path)  # fixed again (the original content): valid, unchanged, error cleared
    result = await state.reload("watch")
    assert (result.ok, result.changed) == (True, False)
    assert state.last_error is None
    assert state.status()["last_error"] is None


async def test_unexpected_load_failure_keeps_the_old_rules(tmp_path: Path) -> None:
    clock = FakeClock()
    path = write_config(tmp_path / "relay.yaml")
    table = load_table(Settings(config_path=str(path), env={}), clock)

    def explode() -> RoutingTable:
        raise RuntimeError("disk gone")

    state = ConfigState(table, load=explode, clock=clock)
    result = await state.reload("admin")
    assert not result.ok
    assert result.errors == (f"{path}: cannot load: RuntimeError: disk gone",)
    assert state.table is table


async def test_request_reload_runs_in_the_background(tmp_path: Path) -> None:
    path = write_config(tmp_path / "relay.yaml")
    state = _state(path, FakeClock())
    write_config(
        path, routes="\n  - {name: n, source: github, function_id: f, match: {event_type: x}}\n"
    )
    state.request_reload("sighup")
    for _ in range(200):
        if [r.name for r in state.table.routes_for("github")] == ["n"]:
            break
        await asyncio.sleep(0.01)
    assert [r.name for r in state.table.routes_for("github")] == ["n"]


async def test_status_reports_path_hash_load_time_and_last_error(tmp_path: Path) -> None:
    clock = FakeClock()
    path = write_config(tmp_path / "relay.yaml")
    state = _state(path, clock)
    assert state.status() == {
        "path": str(path),
        "sha256": state.table.sha256,
        "loaded_at": clock.now(),
        "last_error": None,
        "last_error_at": None,
    }


async def test_refusal_log_never_shows_environment_values(tmp_path: Path) -> None:
    secret = "sk-live-3b1f9e77c2"
    path = write_config(tmp_path / "relay.yaml")
    settings = Settings(config_path=str(path), env={"TARGET": secret})
    clock = FakeClock()
    state = ConfigState(
        load_table(settings, clock), load=lambda: load_table(settings, clock), clock=clock
    )
    routes = (
        "\n  - {name: r, source: github, target: '${TARGET}', function_id: f, match: {source: x}}\n"
    )
    write_config(path, routes=routes)
    with capture_logs() as logs:
        result = await state.reload("watch")
    assert not result.ok
    assert result.errors == (f"{path}:14:39: route 'r': unknown target <redacted> (known: notte)",)
    assert secret not in repr(logs)
    assert secret not in (state.last_error or "")
