"""What an operator sees and may do with one delivery: the function's own error as the
reason (API, page), retry now for a waiting delivery, a confirmed replay of a succeeded
one; and the small things: ``/`` leads to the page, a body text filter, mapping failures
counted in /metrics, reload without a token from loopback."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from relay.delivery.outbound import Reply
from relay.store.base import DeliveryStatus
from relay.store.log_queries import DeliveryQuery
from tests.harness import Relay
from tests.helpers import github_headers, write_config
from tests.unit.admin.kit import admin_relay, bearer, client_from, login, send_issue
from tests.unit.metrics.scrape import sample_value

H = bearer()
REASON = "RuntimeError: amount 99900 needs manual review"
SLOW_RETRY = """
  - name: new-issues
    source: github
    function_id: triage_issue
    match: {event_type: issues, body: {action: opened}}
    variables:
      repo: body.repository.full_name
      number: body.issue.number
    retry: {max_attempts: 3, initial: 3600, max: 3600, jitter: 0}
  - name: orders
    source: github
    function_id: handle_order
    match: {event_type: order}
    variables:
      order: {path: body.order_id, required: true}
"""


def _failed_run() -> Reply:
    return Reply(
        200,
        json={
            "function_id": "triage_issue",
            "function_run_id": "run_1",
            "session_id": "sess_1",
            "status": "failed",
            "result": f"{REASON}\nTraceback (most recent call last): ...",
        },
    )


async def _get(relay: Relay, path: str, **params: Any) -> Any:
    response = await relay.client.get(path, params=params, headers=H)
    assert response.status_code == 200, response.text
    return response.json()


async def _one(relay: Relay, status: DeliveryStatus) -> str:
    await relay.wait_for(lambda: relay.status_is("new-issues", status))
    (found,) = await relay.store.query_deliveries(DeliveryQuery(route="new-issues"))
    return found.id


async def test_a_failed_runs_error_is_the_reason_in_the_api_and_the_dead_letters(
    tmp_path: Path,
) -> None:
    async with admin_relay(tmp_path) as relay:
        relay.upstream.answers.append(_failed_run())
        await send_issue(relay)
        delivery_id = await _one(relay, DeliveryStatus.FAILED)
        listed = await _get(relay, "/api/deliveries", status="failed")
        one = await _get(relay, f"/api/deliveries/{delivery_id}")
        await login(relay.client)
        page = await relay.client.get("/ui/dead-letters")
    assert [d["last_error"] for d in listed["items"]] == [f"run failed: {REASON}"]
    assert one["last_error"] == f"run failed: {REASON}"
    assert REASON in page.text
    assert "the function run failed" not in page.text


async def test_retry_now_sends_a_waiting_delivery_at_once_and_says_who(tmp_path: Path) -> None:
    config = write_config(tmp_path / "relay.yaml", routes=SLOW_RETRY)
    async with admin_relay(tmp_path, config=config) as relay:
        relay.upstream.answers.append(Reply(503, text="busy, try later"))
        event_id = await send_issue(relay)
        waiting = await _one(relay, DeliveryStatus.RETRY_SCHEDULED)
        before = await _get(relay, f"/api/deliveries/{waiting}")
        await login(relay.client)
        page = (await relay.client.get(f"/ui/events/{event_id}")).text
        retried = await relay.client.post(f"/api/deliveries/{waiting}/retry", headers=H)
        await _one(relay, DeliveryStatus.SUCCEEDED)
        again = await relay.client.post(f"/api/deliveries/{waiting}/retry", headers=H)
        after = await _get(relay, f"/api/deliveries/{waiting}")
    assert before["retryable_now"] is True
    assert before["last_error"] == "HTTP 503: busy, try later"
    assert before["next_attempt_at"] is not None
    assert f'data-action="retry" data-id="{waiting}"' in page
    assert "next attempt due" in page
    assert retried.status_code == 200, retried.text
    assert retried.json()["status"] == "pending"
    assert again.status_code == 409
    assert again.json()["error"] == "not_waiting"
    moves = [(t["to_status"], t["actor"], t["reason"]) for t in after["transitions"]]
    assert ("pending", "api-token", "retry now") in moves
    assert len(after["attempt_log"]) == 2


async def test_replaying_a_succeeded_delivery_needs_a_confirmation(tmp_path: Path) -> None:
    async with admin_relay(tmp_path) as relay:
        event_id = await send_issue(relay)
        done = await _one(relay, DeliveryStatus.SUCCEEDED)
        await login(relay.client)
        page = (await relay.client.get(f"/ui/events/{event_id}")).text
        refused = await relay.client.post(f"/api/deliveries/{done}/replay", headers=H)
        unchanged = await _get(relay, f"/api/deliveries/{done}")
        confirmed = await relay.client.post(
            f"/api/deliveries/{done}/replay", json={"confirm": True}, headers=H
        )
        await relay.wait_for(lambda: relay.status_is("new-issues", DeliveryStatus.SUCCEEDED))
        by_query = await relay.client.post(
            f"/api/deliveries/{done}/replay", params={"confirm": "true"}, headers=H
        )
        detail = await _get(relay, f"/api/deliveries/{done}")
    assert 'data-confirm="triage_issue"' in page
    assert refused.status_code == 409
    assert refused.json()["error"] == "confirm_required"
    assert "triage_issue" in refused.json()["detail"]
    assert unchanged["status"] == "succeeded"
    assert unchanged["replay_needs_confirm"] is True
    assert confirmed.status_code == 200, confirmed.text
    assert by_query.status_code == 200, by_query.text
    replays = [t for t in detail["transitions"] if t["reason"] == "replayed"]
    assert [t["actor"] for t in replays] == ["api-token", "api-token"]


async def test_the_root_leads_to_the_page(tmp_path: Path) -> None:
    async with admin_relay(tmp_path) as relay:
        response = await relay.client.get("/")
    assert response.status_code in (307, 308)
    assert response.headers["location"] == "/ui/"


async def test_events_can_be_found_by_a_piece_of_their_body(tmp_path: Path) -> None:
    async with admin_relay(tmp_path) as relay:
        first = await send_issue(relay, 4242, delivery="d-1")
        await send_issue(relay, 7, delivery="d-2")
        found = await _get(relay, "/api/events", body='"NUMBER": 4242')
        nothing = await _get(relay, "/api/events", body="no such text anywhere")
        await login(relay.client)
        page = (await relay.client.get("/ui/", params={"body": "4242"})).text
    assert [e["id"] for e in found["items"]] == [first]
    assert nothing["items"] == []
    assert 'name="body" value="4242"' in page


async def test_a_mapping_failure_is_counted_in_metrics(tmp_path: Path) -> None:
    config = write_config(tmp_path / "relay.yaml", routes=SLOW_RETRY)
    async with admin_relay(tmp_path, config=config) as relay:
        body = b'{"other": 1}'
        await relay.post(body, github_headers(body, event="order", delivery="o-1"))
        text = (await relay.client.get("/metrics", headers=H)).text
    failures = sample_value(text, "relay_mapping_failures_total", source="github", route="orders")
    assert failures == 1


async def test_reload_without_a_token_answers_loopback_only_as_the_docs_say(
    tmp_path: Path,
) -> None:
    async with admin_relay(tmp_path, token=None) as relay:
        async with client_from(relay, "127.0.0.1", "http://localhost") as local:
            here = await local.post("/api/config/reload")
        async with client_from(relay, "203.0.113.9") as remote:
            away = await remote.post("/api/config/reload")
    assert here.status_code == 200
    assert away.status_code == 403
    docs = (Path(__file__).parents[3] / "docs" / "routing.md").read_text()
    section = docs.split("## Hot reload", 1)[1].split("\n## ", 1)[0]
    assert "403 when\n  `RELAY_ADMIN_TOKEN` is not set" not in section
    assert "loopback" in section


async def test_times_carry_utc_for_the_browser_to_add_local_time_and_tables_fit_a_phone(
    tmp_path: Path,
) -> None:
    async with admin_relay(tmp_path) as relay:
        await login(relay.client)
        event_id = await send_issue(relay)
        listing = (await relay.client.get("/ui/")).text
        one = (await relay.client.get(f"/ui/events/{event_id}")).text
        script = (await relay.client.get("/ui/static/app.js")).text
        css = (await relay.client.get("/ui/static/app.css")).text
    for html in (listing, one):
        assert '<time class="ts" datetime="' in html
    assert 'document.querySelectorAll("time.ts").forEach(addLocal)' in script
    assert '<div class="table-wrap">\n<table class="grid" id="events">' in listing
    assert '<th class="wide-only">Client</th>' in listing
    assert "@media (max-width: 640px)" in css
    assert "table.grid .wide-only { display: none; }" in css
