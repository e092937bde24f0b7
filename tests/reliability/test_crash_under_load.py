"""Crash under load: relay is SIGKILLed and restarted again and again while a provider posts
signed webhooks and retries what was not acknowledged. Counted like Jepsen's total-queue:
every acknowledged event is stored once and delivered (the runner saw a run for it), no run
is started twice, and an attempt a kill left without an answer is never silently re-run.

Both start modes run, so that their figures sit side by side. With ``start: one_step``
(``runs/start``) such an attempt is flagged (``needs_review``, attempt ``ambiguous``): the
run id comes only with the answer. With ``start: two_step`` the run id is stored before the
start, and the next attempt asks the API (``GET runs/{id}``) whether the run started: nothing
is flagged, nothing started twice.

The kills fall at random times (between insert and ack, during delivery, between send and
record, statistically) and, with ``RELAY_FAULT``, exactly after a commit and before its
answer, and after a run start was sent and before its outcome was recorded. A flagged
delivery whose run never reached the runner is what an operator's review finds and replays;
the figures count those apart.
"""

from __future__ import annotations

import asyncio
import random
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Mapping
from pathlib import Path

import pytest

from relay.store import SqliteStore
from tests.helpers import write_config
from tests.reliability.crash_load import AckingSender, Killer, Step
from tests.reliability.kit import (
    RelayProcess,
    db_rows,
    restart_port,
    runner,
    runner_runs,
    statuses,
)
from tests.suite_plugin import Figures

ROUTE = """
  - name: crash
    source: github
    function_id: triage_issue
    start: {start}
    match: {{event_type: issues}}
    variables:
      delivery: event_id
      number: body.issue.number
    retry: {{max_attempts: 100, initial: 0.1, max: 0.5, jitter: 0}}
"""
KEY = "idempotency-key"  # the target's idempotency_header, as the runner records it
SETTLED = {"succeeded", "needs_review"}


def _plan(rng: random.Random, kills: int, points: tuple[str, ...]) -> list[Step]:
    """The crash points first, in turn (while there is surely work to crash in: a point
    that is never reached fails the test), then random kills."""
    first = {"after_commit": (20, 120), "after_send": (3, 30), "after_create": (3, 30)}
    plan = [Step("fault", f"{point}:{rng.randint(*first[point])}") for point in points]
    return plan + [Step("random")] * (kills - len(points))


async def _settled(db: Path, events: int, within: float) -> dict[str, int]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    counts: dict[str, int] = {}
    while loop.time() < deadline:
        counts = statuses(db)
        stored = db_rows(db, "SELECT count(*) FROM events")[0][0]
        if stored >= events and sum(counts.values()) >= events and set(counts) <= SETTLED:
            return counts
        await asyncio.sleep(0.25)
    raise AssertionError(f"deliveries not settled within {within}s: {counts}")


async def _review(db: Path, unstarted: list[str]) -> None:
    """The operator's review: replay the flagged deliveries whose run never started."""
    store = SqliteStore(db)
    await store.open()
    try:
        for delivery_id in unstarted:
            await store.replay(delivery_id, time.time(), actor="review")
    finally:
        await store.close()


async def _crash_run(
    tmp_path: Path,
    figures: Figures,
    *,
    count: int,
    kills: int,
    points: tuple[str, ...],
    start: str,
) -> None:
    rng = random.Random(count * 7919 + kills)
    with runner(tmp_path, "--run-duration", "0.05") as upstream:
        config = write_config(
            tmp_path / "relay.yaml",
            base_url=upstream.url,
            routes=ROUTE.format(start=start),
            max_concurrency=20,
            target_extra="idempotency_header: Idempotency-Key",
        )
        db = tmp_path / "relay.db"
        relay = RelayProcess(config, db, tmp_path)
        sender = AckingSender(relay.url, count)
        killer = Killer(relay, rng)
        sending = asyncio.create_task(sender.run())
        try:
            await killer.run(_plan(rng, kills, points))
            await asyncio.to_thread(relay.start)
            await asyncio.wait_for(asyncio.shield(sending), timeout=300)
            counts = await _settled(db, count, within=300)
            runs = runner_runs(upstream.url)
            started = Counter(str(run["headers"].get(KEY)) for run in runs)
            flagged = [
                str(r[0])
                for r in db_rows(
                    db, "SELECT id FROM deliveries WHERE status = ?", ("needs_review",)
                )
            ]
            unstarted = [d for d in flagged if started[d] == 0]
            await _review(db, unstarted)
            await _settled(db, count, within=120)
            final = statuses(db)
            runs = runner_runs(upstream.url)
        finally:
            sending.cancel()
            relay.kill()

    assert sender.wrong == []
    # stored once: one event per provider id, one delivery per event
    events = dict(db_rows(db, "SELECT dedupe_key, id FROM events"))
    per_event = Counter(str(r[0]) for r in db_rows(db, "SELECT event_id FROM deliveries"))
    delivery_of = {str(r[1]): str(r[0]) for r in db_rows(db, "SELECT id, event_id FROM deliveries")}
    acked = sender.acknowledged
    assert len(events) == count
    assert set(per_event.values()) == {1}
    # delivered: every acknowledged event's run was started, under its own delivery id
    by_key = Counter(str(run["headers"].get(KEY)) for run in runs)
    runs_by_event = Counter(str(run["variables"]["delivery"]) for run in runs)
    for run in runs:
        event_id = events[run["variables"]["delivery"]]
        assert run["headers"].get(KEY) == delivery_of[event_id]
    lost = sorted(i for i in acked if runs_by_event[i] == 0)
    duplicated = sorted(k for k, n in by_key.items() if n > 1)
    # flagged: held for review with an ambiguous attempt, never re-run by relay itself
    ambiguous = {
        str(r[0])
        for r in db_rows(
            db, "SELECT DISTINCT delivery_id FROM attempts WHERE outcome = ?", ("ambiguous",)
        )
    }
    assert set(flagged) <= ambiguous
    still_flagged = set(flagged) - set(unstarted)
    assert all(by_key[d] == 1 for d in still_flagged)
    open_attempts = db_rows(db, "SELECT count(*) FROM attempts WHERE finished_at IS NULL")[0][0]
    figures(
        f"crash under load ({count} webhooks, {killer.kills} kills, start: {start})",
        {
            "sent": count,
            "acknowledged": len(acked),
            "delivered": sum(1 for i in acked if runs_by_event[i] > 0),
            "lost": len(lost),
            "duplicated": len(duplicated),
            "flagged": len(flagged),
            "flagged with the run started (ambiguous, kept)": len(still_flagged),
            "flagged never sent (replayed on review)": len(unstarted),
            "acked on a retry after a kill cut the answer": sender.acked_on_retry_as_duplicate,
            "crash points fired": dict(killer.faults_fired),
            "crash points fired before ready": dict(killer.faults_fired_starting),
            "sender retries": sender.tries - count,
        },
    )
    assert len(acked) == count
    assert lost == []
    assert duplicated == []
    assert open_attempts == 0
    expected = {"succeeded": count - len(still_flagged), "needs_review": len(still_flagged)}
    assert final == {status: n for status, n in expected.items() if n}
    for point in points:
        assert killer.faults_fired[point] >= 1, point
    if start == "two_step":  # the API settled every attempt a kill cut: none for a person
        assert flagged == []
    assert killer.faults_missed == [], f"crash points never reached: {killer.faults_missed}"
    assert counts  # settled before the review


_POINTS = {
    "one_step": ("after_commit", "after_send"),
    "two_step": ("after_commit", "after_send", "after_create"),
}


@pytest.mark.crash
@pytest.mark.parametrize("start", ["one_step", "two_step"])
async def test_no_acknowledged_webhook_is_lost_or_run_twice_across_sigkills(
    tmp_path: Path, figures: Figures, start: str
) -> None:
    points = _POINTS[start]
    await _crash_run(
        tmp_path, figures, count=1500, kills=len(points) + 3, points=points, start=start
    )


@pytest.mark.crash
@pytest.mark.long
@pytest.mark.parametrize("start", ["one_step", "two_step"])
async def test_no_acknowledged_webhook_is_lost_or_run_twice_across_sigkills_5000(
    tmp_path: Path, figures: Figures, start: str
) -> None:
    points = _POINTS[start] * 2
    await _crash_run(tmp_path, figures, count=5000, kills=10, points=points, start=start)


class _CrashesAtOnce(RelayProcess):
    """A start that SIGKILLs itself before anything can answer its readiness probe."""

    def start(self, env: Mapping[str, str] | None = None, *, wait: bool = True) -> None:
        self.starts += 1
        code = "import os, signal; os.kill(os.getpid(), signal.SIGKILL)"
        self.process = subprocess.Popen([sys.executable, "-c", code])
        if wait:
            self.wait_ready()


@pytest.mark.crash
async def test_a_crash_point_reached_before_relay_is_ready_counts_as_fired(
    tmp_path: Path,
) -> None:
    relay = _CrashesAtOnce(tmp_path / "relay.yaml", tmp_path / "relay.db", tmp_path)
    killer = Killer(relay, random.Random(1), fault_within=5.0)
    await killer.run([Step("fault", "after_send:1"), Step("fault", "after_commit:1")])
    assert killer.faults_fired == {"after_send": 1, "after_commit": 1}
    assert killer.faults_fired_starting == killer.faults_fired
    assert killer.faults_missed == []
    assert killer.kills == 2
    assert relay.starts == 2


@pytest.mark.crash
async def test_a_crash_point_never_reached_is_reported_missed(tmp_path: Path) -> None:
    config = write_config(tmp_path / "relay.yaml", routes=ROUTE.format(start="two_step"))
    relay = RelayProcess(config, tmp_path / "relay.db", tmp_path)
    killer = Killer(relay, random.Random(1), fault_within=1.0)
    try:
        await killer.run([Step("fault", "after_commit:1")])  # no webhook ever comes
    finally:
        relay.kill()
    assert killer.faults_missed == ["after_commit:1"]
    assert killer.faults_fired == {}
    assert not relay.alive


def test_a_restarted_relay_keeps_a_port_nothing_else_is_handed() -> None:
    low, high = (int(n) for n in Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split())
    ports = {restart_port() for _ in range(20)}
    assert all(not low <= port <= high for port in ports)
