"""``relay dlq``, ``relay deliveries cancel|show`` and ``relay targets`` on a real file."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time
from pathlib import Path
from typing import Any

import pytest

from relay.cli import main
from relay.store import SqliteStore
from relay.store.base import DeliveryStatus, TargetState
from relay.views.models import Target
from tests.helpers import API_KEY, write_config
from tests.unit.store.builders import NOW, OWNER, TARGET, delivery, event, result

S = DeliveryStatus


def _seed(db: Path, ops: Any) -> Any:
    async def run() -> Any:
        store = SqliteStore(db)
        await store.open()
        try:
            return await ops(store)
        finally:
            await store.close()

    return asyncio.run(run())


def _dead(db: Path, *, route: str, error: str, at: float) -> str:
    async def ops(store: SqliteStore) -> str:
        new = delivery(route=route)
        await store.insert_event(event(new, received_at=at - 1))
        (claimed,) = await store.claim(TARGET, 1, at - 1, OWNER, 30)
        await store.finish_attempt(claimed, result(S.DEAD, at=at, outcome="fatal", error=error))
        return new.id

    value: str = _seed(db, ops)
    return value


def _relay(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "relay.db"


def test_dlq_list_filters_by_route_age_and_reason(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    now = time.time()
    old = _dead(db, route="a", error="HTTP 404: Function not found", at=now - 7200)
    new = _dead(db, route="a", error="HTTP 422: bad variables", at=now - 60)
    other = _dead(db, route="b", error="HTTP 422: bad variables", at=now - 60)

    def listed(*args: str) -> set[str]:
        code, out, _ = _relay(capsys, "dlq", "list", "--db", str(db), "--json", *args)
        assert code == 0
        return {row["id"] for row in json.loads(out)}

    assert listed() == {old, new, other}
    assert listed("--route", "a") == {old, new}
    assert listed("--since", "1h") == {new, other}
    assert listed("--reason", "not found") == {old}
    code, out, _ = _relay(capsys, "dlq", "list", "--db", str(db))
    assert code == 0
    assert "HTTP 404: Function not found" in out


def test_dlq_replay_dry_run_changes_nothing(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    dead = _dead(db, route="a", error="HTTP 404", at=NOW)
    code, out, _ = _relay(capsys, "dlq", "replay", "--route", "a", "--dry-run", "--db", str(db))
    assert code == 0
    assert dead in out
    assert "dry run: 1 deliveries would be re-queued" in out
    record = _seed(db, lambda store: store.get_delivery(dead))
    assert record.status is S.DEAD


def test_dlq_replay_requeues_and_audits_who_did_it(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dead = _dead(db, route="a", error="HTTP 404", at=NOW)
    kept = _dead(db, route="b", error="HTTP 404", at=NOW)
    argv = ["dlq", "replay", "--route", "a", "--actor", "alice", "--db", str(db)]
    code, out, _ = _relay(capsys, *argv)
    assert code == 0
    assert out.startswith("1 deliveries re-queued by alice")

    async def read(store: SqliteStore) -> Any:
        return (
            await store.get_delivery(dead),
            await store.get_delivery(kept),
            await store.list_audit(),
            await store.list_transitions(dead),
        )

    replayed, untouched, audit, moves = _seed(db, read)
    assert (replayed.status, untouched.status) == (S.PENDING, S.DEAD)
    assert [(a.actor, a.action, a.count) for a in audit] == [("alice", "dlq_replay", 1)]
    assert (moves[-1].to_status, moves[-1].actor) == (S.PENDING, "alice")


def test_dlq_replay_without_a_filter_needs_all(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = _relay(capsys, "dlq", "replay", "--db", str(db))
    assert code == 2
    assert "--all" in err


def test_cancel_a_pending_delivery(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    new = delivery()
    _seed(db, lambda store: store.insert_event(event(new)))
    code, out, _ = _relay(capsys, "deliveries", "cancel", new.id, "--actor", "bob", "--db", str(db))
    assert code == 0
    assert f"{new.id} cancelled" in out
    record = _seed(db, lambda store: store.get_delivery(new.id))
    assert record.status is S.CANCELLED
    code, _, err = _relay(capsys, "deliveries", "cancel", new.id, "--db", str(db))
    assert code == 1
    assert "cannot cancel" in err


@pytest.mark.parametrize(
    ("command", "verb"),
    [
        (["deliveries", "retry"], "retry now"),
        (["deliveries", "cancel"], "cancel"),
        (["deliveries", "stop"], "stop"),
        (["replay", "--yes"], "replay"),
    ],
)
def test_a_move_names_an_unknown_delivery_and_why_a_known_one_cannot_move(
    db: Path, capsys: pytest.CaptureFixture[str], command: list[str], verb: str
) -> None:
    code, _, err = _relay(capsys, *command, "dlv_nope", "--db", str(db))
    assert code == 1
    assert "relay: no delivery dlv_nope" in err
    new = delivery()
    _seed(db, lambda store: store.insert_event(event(new)))
    _seed(db, lambda store: store.cancel(new.id, NOW, actor="t"))  # no move leaves cancelled
    if verb == "replay":  # a cancelled delivery may be replayed: an in-flight one may not
        return
    code, _, err = _relay(capsys, *command, new.id, "--db", str(db))
    assert code == 1
    assert f"relay: cannot {verb}: " in err


def test_deliveries_listing_still_works_beside_its_actions(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dead = _dead(db, route="a", error="HTTP 404", at=NOW)
    code, out, _ = _relay(capsys, "deliveries", "--status", "dead", "--db", str(db))
    assert code == 0
    assert dead in out


def test_show_prints_attempts_run_outcome_and_transitions(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dead = _dead(db, route="a", error="HTTP 404: Function not found", at=NOW)
    code, out, _ = _relay(capsys, "deliveries", "show", dead, "--json", "--db", str(db))
    assert code == 0
    shown = json.loads(out)
    assert [a["outcome"] for a in shown["attempt_log"]] == ["fatal"]  # the API's shape
    assert [t["to_status"] for t in shown["transitions"]] == ["pending", "in_flight", "dead"]
    code, out, _ = _relay(capsys, "deliveries", "show", dead, "--db", str(db))
    assert "HTTP 404: Function not found" in out


def test_targets_pause_resume_and_list(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no config/relay.yaml: the store's state alone
    _seed(db, lambda store: store.insert_event(event(delivery(), delivery())))
    _seed(
        db,
        lambda store: store.save_target_health(
            TargetState(target=TARGET, breaker="open", max_concurrency=3, updated_at=NOW)
        ),
    )
    code, out, _ = _relay(capsys, "targets", "pause", TARGET, "--actor", "ops", "--db", str(db))
    assert (code, out.strip()) == (0, f"target {TARGET} paused by ops: nothing new is sent")
    code, out, _ = _relay(capsys, "targets", "--json", "--db", str(db))
    (row,) = json.loads(out)
    assert (row["name"], row["configured"]) == (TARGET, False)
    assert (row["paused"], row["paused_by"], row["breaker"]) == (True, "ops", "open")
    assert (row["in_flight"], row["max_concurrency"], row["queued"]) == (0, 3, 2)
    code, out, _ = _relay(capsys, "targets", "--db", str(db))
    assert "paused by ops" in out
    assert "0/3" in out
    code, out, _ = _relay(capsys, "targets", "resume", TARGET, "--db", str(db))
    assert code == 0
    states = _seed(db, lambda store: store.list_target_states())
    assert states[0].paused is False


def test_targets_json_is_the_apis_with_the_configs_targets_and_limits(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path / "relay.yaml", max_concurrency=4)
    _seed(
        db,
        lambda store: store.save_target_health(
            TargetState(target="gone", breaker="closed", max_concurrency=2, updated_at=NOW)
        ),
    )
    code, out, _ = _relay(capsys, "targets", "--json", "--config", str(config), "--db", str(db))
    assert code == 0
    rows = {row["name"]: row for row in json.loads(out)}
    assert set(rows) == {"gone", TARGET}  # the store's, and the config's not used yet
    assert (rows[TARGET]["configured"], rows[TARGET]["max_concurrency"]) == (True, 4)
    assert (rows["gone"]["configured"], rows["gone"]["max_concurrency"]) == (False, 2)
    assert set(rows[TARGET]) == {f.name for f in dataclasses.fields(Target)}  # the API's items


def _finished(
    db: Path,
    status: DeliveryStatus,
    *,
    error: str | None = None,
    outcome: str = "retryable",
    next_at: float | None = None,
    at: float = NOW,
) -> str:
    async def ops(store: SqliteStore) -> str:
        new = delivery(route="a", variables={"amount": 99900, "api_token": "hush-123456"})
        await store.insert_event(event(new, received_at=at - 1))
        (claimed,) = await store.claim(TARGET, 1, at - 1, OWNER, 30)
        done = result(status, at=at, outcome=outcome, error=error, next_attempt_at=next_at)
        await store.finish_attempt(claimed, done)
        return new.id

    value: str = _seed(db, ops)
    return value


CONNECT = "not sent: ClientConnectorError: Cannot connect to host 127.0.0.1:8787 ssl:default"


def test_dlq_list_shows_every_dead_letter_like_the_page(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dead = _dead(db, route="a", error="HTTP 404", at=NOW)
    failed = _finished(db, S.FAILED, error="run failed: RuntimeError: boom", outcome="run_failed")
    code, out, _ = _relay(capsys, "dlq", "list", "--db", str(db), "--json")
    assert code == 0
    assert {row["id"] for row in json.loads(out)} == {dead, failed}


def test_dlq_replay_dry_run_by_status_alone_is_allowed(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    failed = _finished(db, S.FAILED, error="run failed: RuntimeError: boom", outcome="run_failed")
    argv = ["dlq", "replay", "--status", "failed", "--dry-run", "--db", str(db)]
    code, out, err = _relay(capsys, *argv)
    assert (code, err) == (0, "")
    assert failed in out
    assert "dry run: 1 deliveries would be re-queued" in out


def test_tables_show_the_reason_whole_words_and_when_the_next_attempt_is_due(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    due = time.time() + 600
    waiting = _finished(db, S.RETRY_SCHEDULED, error=CONNECT, next_at=due)
    code, out, _ = _relay(capsys, "deliveries", "--db", str(db))
    assert code == 0
    row = next(line for line in out.splitlines() if waiting in line)
    assert "NEXT ATTEMPT" in out
    assert "(in 10m)" in row or "(in 9m)" in row
    assert row.endswith("Cannot connect to host 127.0.0.1:8787…")  # cut between words


def test_retry_now_makes_a_waiting_delivery_due_and_says_who(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    waiting = _finished(db, S.RETRY_SCHEDULED, error="HTTP 503: busy", next_at=NOW + 3600)
    code, _, err = _relay(capsys, "replay", waiting, "--db", str(db))
    assert code == 1
    assert f"relay deliveries retry {waiting}" in err
    argv = ["deliveries", "retry", waiting, "--actor", "carol", "--db", str(db)]
    code, out, _ = _relay(capsys, *argv)
    assert code == 0
    assert f"{waiting} due now" in out
    record = _seed(db, lambda store: store.get_delivery(waiting))
    moves = _seed(db, lambda store: store.list_transitions(waiting))
    assert record.status is S.PENDING
    assert record.next_attempt_at > NOW + 1
    assert (moves[-1].to_status, moves[-1].actor, moves[-1].reason) == (
        S.PENDING,
        "carol",
        "retry now",
    )
    code, _, err = _relay(capsys, "deliveries", "retry", waiting, "--db", str(db))
    assert code == 1
    assert "not waiting" in err


def test_replaying_a_succeeded_delivery_shows_what_runs_again_and_needs_yes(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    done = _finished(db, S.SUCCEEDED, outcome="succeeded")
    code, _, err = _relay(capsys, "replay", done, "--db", str(db))
    assert code == 2
    assert "function fn_1" in err
    assert '"amount": 99900' in err
    assert "hush-123456" not in err
    assert "--yes" in err
    assert _seed(db, lambda store: store.get_delivery(done)).status is S.SUCCEEDED
    code, out, _ = _relay(capsys, "replay", done, "--yes", "--actor", "dave", "--db", str(db))
    assert code == 0
    assert f"{done} re-queued" in out
    moves = _seed(db, lambda store: store.list_transitions(done))
    assert (moves[-1].to_status, moves[-1].actor) == (S.PENDING, "dave")


@pytest.mark.parametrize(
    "argv",
    [
        ("dlq", "list", "--json"),
        ("dlq", "list"),
        ("deliveries", "--json"),
        ("deliveries",),
        ("deliveries", "show", "{id}", "--json"),
        ("deliveries", "show", "{id}"),
    ],
    ids=lambda argv: "-".join(a.strip("{}") for a in argv),
)
def test_listed_and_shown_deliveries_go_through_the_apis_redaction(
    db: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    argv: tuple[str, ...],
) -> None:
    """An upstream error echoing the API key, and a handed-over secret: both cut, with the
    config found where ``relay serve`` finds it by default (no ``--config``)."""
    (tmp_path / "config").mkdir()
    write_config(tmp_path / "config" / "relay.yaml")
    monkeypatch.chdir(tmp_path)
    dead = _dead(
        db, route="a", error=f"HTTP 401: key {API_KEY} refused; hook secret s3cr3t-handed", at=NOW
    )
    _seed(db, lambda store: store.add_source_secret("asana", "s3cr3t-handed", "handshake", NOW))
    code, out, _ = _relay(capsys, *(a.format(id=dead) for a in argv), "--db", str(db))
    assert code == 0
    assert API_KEY not in out
    assert "s3cr3t-handed" not in out
    assert "[redacted]" in out
