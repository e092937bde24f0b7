"""Slow and broken upstreams: an answer that never comes, a reset after the request was sent,
an event stream cut half-way, one that never ends, a silent hang-up, an HTML page or an empty
202 where a run was expected. No attempt outlives its timeout, every one of these is flagged
as ambiguous (``needs_review``, never re-run, never a success), an event stream answering a
JSON request is read for what it says (a failed run), and the worker goes on delivering to a
well-behaved function afterwards. The routes start runs in one step (``runs/start``): what a
two-step start does with a lost answer is tests/integration/test_runs_followed.py's."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from tests.helpers import github_headers, write_config
from tests.reliability.kit import RelayProcess, db_rows, statuses
from tests.reliability.misbehaving import MODES, misbehaving
from tests.suite_plugin import Figures

TIMEOUT, CONNECT_TIMEOUT = 2.0, 1.0
PER_MODE = 3


def _routes() -> str:
    return "".join(
        f"""
  - name: {mode}
    source: github
    function_id: {mode}
    start: one_step
    stream: {"false" if mode == "sse_failed" else "true"}
    match: {{event_type: {mode}}}
    retry: {{max_attempts: 3, initial: 0.2, max: 0.5, jitter: 0}}
"""
        for mode in MODES
    )


def test_broken_upstreams_are_cut_at_the_timeout_and_flagged_never_rerun(
    tmp_path: Path, figures: Figures
) -> None:
    with misbehaving() as upstream:
        config = write_config(
            tmp_path / "relay.yaml",
            base_url=upstream.url,
            routes=_routes(),
            max_concurrency=20,
            timeout=TIMEOUT,
            connect_timeout=CONNECT_TIMEOUT,
            # the breaker would hold the rest after ten failures in a row: not what this tests
            target_extra="breaker: {failures: 1000}",
        )
        relay = RelayProcess(config, tmp_path / "relay.db", tmp_path)
        relay.start()
        try:
            with httpx.Client(timeout=30.0) as client:
                for mode in MODES:
                    for n in range(PER_MODE):
                        body = b'{"n": %d}' % n
                        headers = github_headers(body, event=mode, delivery=f"{mode}-{n}")
                        reply = client.post(
                            f"{relay.url}/hooks/github", content=body, headers=headers
                        )
                        assert reply.status_code == 200
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                counts = statuses(relay.db)
                if sum(counts.values()) == len(MODES) * PER_MODE and not (
                    set(counts) & {"pending", "in_flight", "retry_scheduled"}
                ):
                    break
                time.sleep(0.2)
            rows = db_rows(
                relay.db,
                "SELECT d.route, d.status, a.outcome, a.duration_ms, a.error, a.session_id "
                "FROM deliveries d JOIN attempts a ON a.delivery_id = d.id",
            )
            assert relay.alive
        finally:
            relay.kill()
        requests = dict(upstream.requests)

    by_route: dict[str, list[tuple[str, str, float, str, str | None]]] = {}
    for route, status, outcome, duration, error, session in rows:
        by_route.setdefault(route, []).append((status, outcome, duration, error, session))
    limit_ms = (TIMEOUT + CONNECT_TIMEOUT) * 1000 + 1500  # the cut, and some scheduling slack
    for mode in MODES:
        attempts = by_route[mode]
        assert len(attempts) == PER_MODE, (mode, attempts, counts)  # one attempt each
        assert requests[mode] == PER_MODE
        for status, outcome, duration, error, session in attempts:
            assert duration <= limit_ms, (mode, duration)
            if mode == "ok":
                assert (status, outcome) == ("succeeded", "succeeded")
            elif mode == "sse_failed":
                assert (status, outcome) == ("failed", "run_failed"), (mode, error)
            else:
                assert (status, outcome) == ("needs_review", "ambiguous"), (mode, error)
                assert error
            if mode in ("half_sse", "endless"):
                assert session == "sess_half"  # what the stream said before the cut is kept
    figures(
        "broken upstreams",
        {
            "modes": len(MODES),
            "attempts": len(rows),
            "flagged needs_review": sum(1 for r in rows if r[1] == "needs_review"),
            "longest attempt ms": round(max(r[3] for r in rows)),
        },
    )
