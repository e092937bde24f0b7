"""A flood of unsigned requests over real sockets: every one is answered 401 and counted, but
the database and the log grow by a row and a line or two per source, reason and client a
minute, not per request; signed webhooks sent meanwhile are all stored; the rejection views
(API, CLI) read the counted rows. ``bench/rejections.py`` measures the growth per 100,000."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import httpx

from tests.helpers import github_headers, issue_opened, write_config
from tests.reliability.kit import RelayProcess, db_rows

FLOOD = 3000
CONNECTIONS = 16


async def _flood(url: str, count: int) -> dict[int, int]:
    body = issue_opened(1)
    headers = {**github_headers(body), "X-Hub-Signature-256": "sha256=" + "0" * 64}
    answers: dict[int, int] = {}
    queue = iter(range(count))

    async def one_connection() -> None:
        async with httpx.AsyncClient(timeout=30.0) as client:
            for _ in queue:
                reply = await client.post(f"{url}/hooks/github", content=body, headers=headers)
                answers[reply.status_code] = answers.get(reply.status_code, 0) + 1

    await asyncio.gather(*(one_connection() for _ in range(CONNECTIONS)))
    return answers


async def _signed(url: str, count: int) -> list[int]:
    statuses = []
    async with httpx.AsyncClient(timeout=30.0) as client:
        for n in range(count):
            body = issue_opened(n)
            headers = github_headers(body, delivery=f"signed-{n}")
            reply = await client.post(f"{url}/hooks/github", content=body, headers=headers)
            statuses.append(reply.status_code)
            await asyncio.sleep(0.02)
    return statuses


async def _load(url: str) -> tuple[dict[int, int], list[int]]:
    flood, signed = await asyncio.gather(_flood(url, FLOOD), _signed(url, 40))
    return flood, signed


def test_unsigned_flood_grows_the_store_and_log_per_window_not_per_request(
    tmp_path: Path,
) -> None:
    config = write_config(tmp_path / "relay.yaml")
    relay = RelayProcess(config, tmp_path / "relay.db", tmp_path)
    relay.start()
    try:
        flood, signed = asyncio.run(_load(relay.url))
        listed = httpx.get(f"{relay.url}/api/events?status=rejected", timeout=30.0)
    finally:
        relay.terminate()  # what is counted is written before it stops
    assert flood == {401: FLOOD}
    assert signed == [200] * 40
    events = db_rows(relay.db, "SELECT count(*) FROM events")[0][0]
    assert events == 40
    lines = [line for line in relay.output().splitlines() if '"relay.hook.rejected' in line]
    assert 1 <= len(lines) <= 6, f"{len(lines)} log lines"  # 2 a window, 1-3 windows
    stored = db_rows(relay.db, "SELECT count(*) FROM rejections")[0][0]
    assert stored <= 3, f"{stored} rejection rows"  # one a minute (the flood may straddle two)
    rows = db_rows(relay.db, "SELECT reason, client_ip, count, samples FROM rejections")
    assert sum(r[2] for r in rows) == FLOOD  # every rejection counted
    assert {(r[0], r[1]) for r in rows} == {("signature_mismatch", "127.0.0.1")}
    assert json.loads(rows[0][3]) == ["X-Hub-Signature-256 does not match the body"]
    # the rejection views read the counted rows (the API before the last flush, the CLI after)
    assert listed.status_code == 200
    (item, *_) = listed.json()["items"]
    assert (item["kind"], item["error"], item["client_ip"]) == (
        "rejection",
        "signature_mismatch",
        "127.0.0.1",
    )
    assert item["count"] >= 1
    shown = subprocess.run(
        [
            sys.executable,
            "-m",
            "relay",
            "events",
            "--status=rejected",
            "--json",
            f"--db={relay.db}",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    items = json.loads(shown.stdout)["items"]
    assert sum(i["count"] for i in items) == FLOOD
