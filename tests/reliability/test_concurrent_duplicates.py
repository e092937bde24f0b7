"""The same provider event id sent many times at once: stored once, run once, every copy
acknowledged. The same id with another body is a conflict: the first body is kept, the
others are counted and answered ``"conflict": true``, and nothing of them is forwarded."""

from __future__ import annotations

import asyncio
import json
from collections import Counter

import httpx

from tests.helpers import github_headers, issue_opened
from tests.integration.procs import wait_until
from tests.reliability.kit import db_rows, runner_runs
from tests.reliability.shared import SharedRelay


async def _post_all(url: str, requests: list[tuple[bytes, dict[str, str]]]) -> list[httpx.Response]:
    limits = httpx.Limits(max_connections=len(requests))
    async with httpx.AsyncClient(timeout=30.0, limits=limits) as client:
        return list(
            await asyncio.gather(*(client.post(url, content=b, headers=h) for b, h in requests))
        )


def _runs_for(shared: SharedRelay, ident: str) -> list[dict[str, object]]:
    return [r for r in runner_runs(shared.runner.url) if r["variables"].get("delivery") == ident]


def _delivered(shared: SharedRelay, event_id: str) -> bool:
    rows = db_rows(shared.db, "SELECT status FROM deliveries WHERE event_id = ?", (event_id,))
    return [r[0] for r in rows] == ["succeeded"]


async def test_fifty_copies_at_once_store_one_event_and_start_one_run(
    shared_relay: SharedRelay,
) -> None:
    body = issue_opened(501)
    headers = github_headers(body, delivery="dup-50")
    replies = await _post_all(shared_relay.hook("github"), [(body, headers)] * 50)

    assert [r.status_code for r in replies] == [200] * 50
    answers = [r.json() for r in replies]
    assert len({a["id"] for a in answers}) == 1
    assert Counter(a["duplicate"] for a in answers) == {True: 49, False: 1}
    assert not any(a.get("conflict") for a in answers)
    event_id = answers[0]["id"]
    wait_until(lambda: _delivered(shared_relay, event_id), within=60, what="the one delivery")
    assert db_rows(
        shared_relay.db, "SELECT count(*), sum(duplicates) FROM events WHERE dedupe_key = 'dup-50'"
    ) == [(1, 49)]
    assert len(_runs_for(shared_relay, "dup-50")) == 1


async def test_same_id_with_another_body_keeps_the_first_and_counts_conflicts(
    shared_relay: SharedRelay,
) -> None:
    first, other = issue_opened(601), issue_opened(602)
    mixed = [(body, github_headers(body, delivery="conflict-1")) for body in [first, other] * 25]
    replies = await _post_all(shared_relay.hook("github"), mixed)

    assert [r.status_code for r in replies] == [200] * 50
    answers = [r.json() for r in replies]
    (winner,) = [i for i, a in enumerate(answers) if a["duplicate"] is False]
    kept = mixed[winner][0]
    conflicts = [a for a, (b, _) in zip(answers, mixed, strict=True) if b != kept]
    repeats = [
        a
        for i, (a, (b, _)) in enumerate(zip(answers, mixed, strict=True))
        if b == kept and i != winner
    ]
    assert len(conflicts) == 25
    assert all(a.get("conflict") is True for a in conflicts)
    assert len(repeats) == 24
    assert not any(a.get("conflict") for a in repeats)
    assert len({a["id"] for a in answers}) == 1
    event_id = answers[winner]["id"]
    (row,) = db_rows(
        shared_relay.db,
        "SELECT body, duplicates, conflicts FROM events WHERE dedupe_key = 'conflict-1'",
    )
    assert (bytes(row[0]), row[1], row[2]) == (kept, 24, 25)
    wait_until(lambda: _delivered(shared_relay, event_id), within=60, what="the one delivery")
    (run,) = _runs_for(shared_relay, "conflict-1")
    number = json.loads(kept)["issue"]["number"]
    assert run["variables"] == {"delivery": "conflict-1", "number": number}
    assert "relay.hook.conflict" in shared_relay.relay.output()
