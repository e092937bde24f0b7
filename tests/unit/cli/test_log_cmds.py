"""``relay events``, ``relay show``, ``relay tail`` and ``relay stats`` on the file a server
wrote (an in-process relay on a SQLite file, then the CLI on the same file)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from pydantic import TypeAdapter

from relay.cli import main
from relay.cli.tail_cmd import Tailer, format_line
from relay.delivery.outbound import Reply
from relay.store import SqliteStore
from relay.store.base import DeliveryStatus, Store
from relay.store.log_queries import RejectionRecord
from relay.views.cli_shapes import TailAttempt, TailEvent, TailLine, TailRejection
from relay.views.models import plain
from tests.harness import Relay
from tests.helpers import FakeClock, github_headers, issue_opened, write_config
from tests.unit.admin.kit import admin_relay, bearer, send_issue

S = DeliveryStatus


def _relay(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A file with a succeeded event, a dead one, an unrouted one and a rejection."""
    tmp = tmp_path_factory.mktemp("logs")
    path = tmp / "relay.db"

    async def seed() -> None:
        async with admin_relay(tmp, store=SqliteStore(path)) as relay:
            relay.upstream.answers.append(
                Reply(
                    200,
                    headers={"content-type": "text/event-stream"},
                    content=(
                        b'data: {"type": "log", "message": "triaging issue 1"}\n\n'
                        b'data: {"type": "result", "message": "{\\"function_run_id\\": '
                        b'\\"run_ok\\", \\"status\\": \\"closed\\", \\"result\\": 1}"}\n\n'
                    ),
                )
            )
            await send_issue(relay, 1, delivery="gh-1")
            await relay.wait_for(lambda: relay.status_is("new-issues", S.SUCCEEDED))
            relay.upstream.answers.append(Reply(404, json={"detail": "no function"}))
            await send_issue(relay, 2, delivery="gh-2")
            await relay.wait_for(lambda: relay.status_is("new-issues", S.DEAD))
            ping = b'{"zen": "hi"}'
            await relay.post(ping, github_headers(ping, event="ping", delivery="gh-3"))
            body = issue_opened(3)
            await relay.post(body, github_headers(body, secret="wrong-one", delivery="gh-4"))
            await relay.wait_for(lambda: _has_rejection(relay.store))

    asyncio.run(seed())
    return path


def _paused(relay: Relay) -> bool:
    gate = relay.worker.gate("notte")
    return gate is not None and gate.paused


async def _has_rejection(store: Store) -> bool:
    from relay.store.log_queries import EventQuery

    return bool(await store.query_rejections(EventQuery()))


def test_events_lists_newest_first_with_rejections(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _relay(capsys, "events", "--db", str(db))
    assert code == 0
    header, *rows = out.strip().splitlines()
    assert header.split()[:3] == ["RECEIVED", "(UTC)", "ID"]
    assert len(rows) == 4
    assert "rejected (signature_mismatch)" in rows[0]
    assert "unrouted" in rows[1]
    assert "new-issues:dead" in rows[2]
    assert "new-issues:succeeded" in rows[3]


@pytest.mark.parametrize(
    ("args", "count"),
    [
        (["--status", "rejected"], 1),
        (["--status", "routed"], 2),
        (["--status", "unrouted"], 1),
        (["--route", "new-issues"], 2),
        (["--source", "stripe"], 0),
        (["--since", "1h"], 4),
        (["--search", "GH-2"], 1),
    ],
)
def test_events_filters(
    db: Path, capsys: pytest.CaptureFixture[str], args: list[str], count: int
) -> None:
    code, out, _ = _relay(capsys, "events", "--db", str(db), "--json", *args)
    assert code == 0
    assert len(json.loads(out)["items"]) == count


def test_events_pages_with_the_printed_cursor(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, first, _ = _relay(capsys, "events", "--db", str(db), "--limit", "3", "--json")
    page = json.loads(first)
    _, second, _ = _relay(
        capsys, "events", "--db", str(db), "--json", "--cursor", page["next_cursor"]
    )
    assert len(page["items"]) == 3
    assert len(json.loads(second)["items"]) == 1


def test_events_refuses_a_bad_age(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _relay(capsys, "events", "--db", str(db), "--since", "soon")
    assert code == 2
    assert "since" in err


def test_show_an_event_in_full(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, listing, _ = _relay(capsys, "events", "--db", str(db), "--json", "--search", "gh-1")
    (event,) = json.loads(listing)["items"]
    code, out, _ = _relay(capsys, "show", event["id"], "--db", str(db))
    assert code == 0
    assert "x-hub-signature-256: [redacted]" in out
    assert '"full_name": "octo/repo"' in out
    assert "route new-issues -> notte (function triage_issue): succeeded" in out
    assert '"repo": "octo/repo"' in out
    assert "#1 " in out
    assert "run run_ok (closed)" in out
    assert "triaging issue 1" in out
    assert "pending -> in_flight" in out


def test_show_a_delivery_shows_its_event_and_only_it(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, listing, _ = _relay(capsys, "deliveries", "--db", str(db), "--status", "dead", "--json")
    (dead,) = json.loads(listing)
    code, out, _ = _relay(capsys, "show", dead["id"], "--db", str(db), "--json")
    shown = json.loads(out)
    assert code == 0
    assert shown["id"] == dead["event_id"]
    assert [d["id"] for d in shown["deliveries"]] == [dead["id"]]
    assert "404" in shown["deliveries"][0]["attempt_log"][0]["error"]


def test_show_a_rejection_and_unknown_ids(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, listing, _ = _relay(capsys, "events", "--db", str(db), "--json", "--status", "rejected")
    (rejection,) = json.loads(listing)["items"]
    code, out, _ = _relay(capsys, "show", rejection["id"], "--db", str(db))
    missing, _, err = _relay(capsys, "show", "evt_nope", "--db", str(db))
    assert code == 0
    assert "signature_mismatch" in out
    assert "only the source, time, reason and client address are kept" in out
    assert missing == 1
    assert "no event evt_nope" in err


def test_stats_per_source_and_route(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _relay(capsys, "stats", "--db", str(db), "--since", "1h")
    _, as_json, _ = _relay(capsys, "stats", "--db", str(db), "--json")
    assert code == 0
    assert "SOURCE" in out
    assert "50.0%" in out
    stats = json.loads(as_json)
    (source,) = stats["sources"]
    assert (source["received"], source["unrouted"], source["rejected"]) == (3, 1, 1)
    (route,) = stats["routes"]
    assert (route["route"], route["succeeded"], route["failed"]) == ("new-issues", 1, 1)


def test_tail_once_prints_what_came_in_the_window(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _relay(capsys, "tail", "--db", str(db), "--since", "1h", "--once", "--json")
    lines = [json.loads(line) for line in out.strip().splitlines()]
    assert code == 0
    for line in lines:  # each line is a views model, as it is (extra keys are refused)
        assert plain(TypeAdapter(TailLine).validate_python(line)) == line
    kinds = [line["kind"] for line in lines]
    assert kinds.count("event") == 3
    assert kinds.count("rejected") == 1
    finished = [line for line in lines if line["kind"] == "attempt" and line["state"] == "finished"]
    assert sorted(line["outcome"] for line in finished) == ["fatal", "succeeded"]
    code, out, _ = _relay(capsys, "tail", "--db", str(db), "--since", "1h", "--limit", "2")
    assert len(out.strip().splitlines()) == 2


# Tailer ----------------------------------------------------------------------------------


async def test_tailer_prints_new_rows_once_and_attempts_when_they_end(tmp_path: Path) -> None:
    clock = FakeClock()
    config = write_config(tmp_path / "relay.yaml")
    lines: list[TailLine] = []
    async with admin_relay(tmp_path, config=config, clock=clock) as relay:
        tailer = Tailer(relay.store, clock, lines.append, start=clock.now() - 1)
        assert await tailer.poll() == 0
        await relay.client.post("/api/targets/notte/pause", headers=bearer())
        await relay.wait_for(lambda: _paused(relay))
        await send_issue(relay, 1)
        await relay.store.record_rejections(
            [
                RejectionRecord(
                    f"rej_{int(clock.now() * 1000):012x}{'0' * 16}",
                    "github",
                    clock.now(),
                    "missing_signature",
                    None,
                )
            ]
        )
        await tailer.poll()
        assert [line.kind for line in lines] == ["event", "rejected"]
        assert isinstance(lines[0], TailEvent)
        assert lines[0].routes == ["new-issues"]
        await tailer.poll()
        assert len(lines) == 2  # nothing printed twice
        await relay.client.post("/api/targets/notte/resume", headers=bearer())
        await relay.wait_for(lambda: relay.status_is("new-issues", S.SUCCEEDED))
        await tailer.poll()
    attempts = [line for line in lines if isinstance(line, TailAttempt)]
    assert [a.state for a in attempts] == ["started", "finished"]
    assert attempts[1].outcome == "succeeded"
    assert "succeeded HTTP 200" in format_line(attempts[1], as_json=False)
    assert isinstance(lines[1], TailRejection)
    assert format_line(lines[1], as_json=False).split()[2:4] == ["rejected", lines[1].id]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("events", "--status", "lost"), "status: use one of routed, unrouted"),
        (("events", "--limit", "0"), "limit: a whole number from 1 to 500"),
        (("deliveries", "--status", "lost"), "status: 'lost' is not one of pending"),
    ],
)
def test_filters_are_checked_as_the_api_checks_them(
    db: Path, capsys: pytest.CaptureFixture[str], argv: tuple[str, ...], message: str
) -> None:
    code, out, err = _relay(capsys, *argv, "--db", str(db))
    assert (code, out) == (2, "")
    assert err.strip().splitlines()[-1].startswith(f"relay: {message}")
