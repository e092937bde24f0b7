"""The JSON API: pages with filters and cursors, one event or delivery in full, targets,
stats, config, the actions and their error answers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from relay.delivery.outbound import Reply
from relay.store.base import DeliveryStatus
from relay.store.log_queries import DeliveryQuery
from tests.harness import Relay
from tests.helpers import github_headers, issue_opened
from tests.unit.admin.kit import admin_relay, bearer, dead_letter, send_issue

H = bearer()


async def _get(relay: Relay, path: str, expect: int = 200, **params: Any) -> Any:
    response = await relay.client.get(path, params=params, headers=H)
    assert response.status_code == expect, response.text
    return response.json()


async def _post(relay: Relay, path: str, expect: int = 200, body: Any = None) -> Any:
    response = await relay.client.post(path, json=body, headers=H)
    assert response.status_code == expect, response.text
    return response.json()


async def _succeeded(relay: Relay) -> None:
    await relay.wait_for(lambda: relay.status_is("new-issues", DeliveryStatus.SUCCEEDED))


async def test_events_list_newest_first_with_rejections_and_routes(tmp_path: Path) -> None:
    async with admin_relay(tmp_path) as relay:
        first = await send_issue(relay, 1, delivery="d-1")
        await _succeeded(relay)
        body = issue_opened(2)
        bad = await relay.post(body, github_headers(body, secret="wrong-secret-1234"))
        await relay.wait_for(lambda: _rejections(relay))
        page = await _get(relay, "/api/events")
    assert bad.status_code == 401
    rejection, event = page["items"]
    assert page["next_cursor"] is None
    assert (rejection["kind"], rejection["status"]) == ("rejection", "rejected")
    assert rejection["error"] == "signature_mismatch"
    assert rejection["client_ip"] == "127.0.0.1"
    assert event["id"] == first
    assert (event["status"], event["event_type"], event["provider_event_id"]) == (
        "routed",
        "issues",
        "d-1",
    )
    assert event["routes"] == [
        {
            "route": "new-issues",
            "delivery_id": event["routes"][0]["delivery_id"],
            "status": "succeeded",
        }
    ]


async def _rejections(relay: Relay) -> bool:
    from relay.store.log_queries import EventQuery

    return bool(await relay.store.query_rejections(EventQuery()))


async def test_events_pages_follow_the_cursor(tmp_path: Path) -> None:
    async with admin_relay(tmp_path) as relay:
        sent = [await send_issue(relay, n, delivery=f"d-{n}") for n in range(5)]
        one = await _get(relay, "/api/events", limit=2)
        two = await _get(relay, "/api/events", limit=2, cursor=one["next_cursor"])
        three = await _get(relay, "/api/events", limit=2, cursor=two["next_cursor"])
    seen = [e["id"] for page in (one, two, three) for e in page["items"]]
    assert seen == list(reversed(sent))
    assert three["next_cursor"] is None


async def test_events_filters(tmp_path: Path) -> None:
    async with admin_relay(tmp_path) as relay:
        opened = await send_issue(relay, 1, delivery="gh-abc")
        body = b'{"ref": "main"}'
        await relay.post(body, github_headers(body, event="ping", delivery="gh-ping"))
        await relay.post(body, github_headers(body, event="ping", delivery="gh-ping"))  # again
        by_status = await _get(relay, "/api/events", status="unrouted")
        by_route = await _get(relay, "/api/events", route="new-issues")
        duplicated = await _get(relay, "/api/events", status="duplicate")
        by_text = await _get(relay, "/api/events", q="ABC")
        by_source = await _get(relay, "/api/events", source="stripe")
        recent = await _get(relay, "/api/events", since="1h")
        future = await _get(relay, "/api/events", since="2999-01-01T00:00:00")
    assert [e["provider_event_id"] for e in by_status["items"]] == ["gh-ping"]
    assert [e["id"] for e in by_route["items"]] == [opened]
    assert [e["duplicates"] for e in duplicated["items"]] == [1]
    assert [e["id"] for e in by_text["items"]] == [opened]
    assert by_source["items"] == []
    assert len(recent["items"]) == 2
    assert future["items"] == []


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"status": "lost"}, "bad_filter"),
        ({"since": "yesterday"}, "bad_filter"),
        ({"limit": "0"}, "bad_filter"),
        ({"limit": "many"}, "bad_filter"),
        ({"cursor": "dlv_0000"}, "bad_cursor"),
        ({"q": "x" * 201}, "bad_filter"),
    ],
)
async def test_bad_filters_and_cursors_are_400(
    tmp_path: Path, params: dict[str, str], code: str
) -> None:
    async with admin_relay(tmp_path) as relay:
        body = await _get(relay, "/api/events", 400, **params)
    assert body["error"] == code
    assert body["detail"]


async def test_event_detail_has_payload_headers_attempts_and_logs(tmp_path: Path) -> None:
    async with admin_relay(tmp_path) as relay:
        relay.upstream.answers.append(
            Reply(
                200,
                json={
                    "function_run_id": "run_9",
                    "session_id": "s",
                    "status": "closed",
                    "result": {"triaged": True},
                    "logs": ["looking at issue 3"],
                },
            )
        )
        event_id = await send_issue(relay, 3)
        await _succeeded(relay)
        event = await _get(relay, f"/api/events/{event_id}")
    assert '"number": 3' in event["payload"]
    assert event["headers"]["x-hub-signature-256"] == "[redacted]"
    assert event["headers"]["x-github-event"] == "issues"
    (delivery,) = event["deliveries"]
    assert delivery["route"] == "new-issues"
    assert delivery["variables"] == {"repo": "octo/repo", "number": 3}
    (attempt,) = delivery["attempt_log"]
    assert (attempt["outcome"], attempt["status_code"], attempt["function_run_id"]) == (
        "succeeded",
        200,
        "run_9",
    )
    assert attempt["result"] == {"triaged": True}
    assert attempt["duration_ms"] >= 0
    assert [t["to_status"] for t in delivery["transitions"]] == [
        "pending",
        "in_flight",
        "succeeded",
    ]


async def test_unknown_ids_are_404_json(tmp_path: Path) -> None:
    async with admin_relay(tmp_path) as relay:
        event = await _get(relay, "/api/events/evt_nope", 404)
        delivery = await _get(relay, "/api/deliveries/dlv_nope", 404)
        rejection = await _get(relay, "/api/events/rej_nope", 404)
        path = await _get(relay, "/api/nothing-here", 404)
    assert {event["error"], delivery["error"], rejection["error"], path["error"]} == {"not_found"}


async def test_deliveries_list_filters_dead_letters(tmp_path: Path) -> None:
    async with admin_relay(tmp_path) as relay:
        dead = await dead_letter(relay)
        dead_only = await _get(relay, "/api/deliveries", status="dead,failed")
        repeated = await relay.client.get(
            "/api/deliveries?status=dead&status=needs_review", headers=H
        )
        by_reason = await _get(relay, "/api/deliveries", reason="function not found")
        bad = await _get(relay, "/api/deliveries", 400, status="gone")
        detail = await _get(relay, f"/api/deliveries/{dead}")
    assert [d["id"] for d in dead_only["items"]] == [dead]
    assert [d["id"] for d in repeated.json()["items"]] == [dead]
    assert [d["id"] for d in by_reason["items"]] == [dead]
    assert bad["error"] == "bad_filter"
    assert (detail["status"], detail["replayable"], detail["cancellable"]) == ("dead", True, False)
    assert "404" in detail["attempt_log"][0]["error"]


async def test_replay_requeues_and_the_worker_runs_it_again(tmp_path: Path) -> None:
    async with admin_relay(tmp_path) as relay:
        dead = await dead_letter(relay)
        replayed = await _post(relay, f"/api/deliveries/{dead}/replay")
        await _succeeded(relay)
        detail = await _get(relay, f"/api/deliveries/{dead}")
        (audit,) = [t for t in detail["transitions"] if t["actor"] == "api-token"]
    assert replayed["status"] == "pending"
    assert detail["status"] == "succeeded"
    assert len(detail["attempt_log"]) == 2
    assert audit["to_status"] == "pending"


async def test_replay_and_cancel_answer_404_and_409(tmp_path: Path) -> None:
    async with admin_relay(tmp_path) as relay:
        await send_issue(relay)
        await _succeeded(relay)
        (done,) = await relay.store.query_deliveries(DeliveryQuery(route="new-issues"))
        missing = await _post(relay, "/api/deliveries/dlv_nope/replay", 404)
        not_cancellable = await _post(relay, f"/api/deliveries/{done.id}/cancel", 409)
        missing_cancel = await _post(relay, "/api/deliveries/dlv_nope/cancel", 404)
        bad_body = await relay.client.post(
            f"/api/deliveries/{done.id}/cancel", content=b"{", headers=H
        )
    assert missing["error"] == "not_found"
    assert not_cancellable["error"] == "not_cancellable"
    assert missing_cancel["error"] == "not_found"
    assert bad_body.status_code == 400


async def test_cancel_a_paused_targets_pending_delivery(tmp_path: Path) -> None:
    async with admin_relay(tmp_path) as relay:
        await _post(relay, "/api/targets/notte/pause")
        await relay.wait_for(lambda: _gate_paused(relay))
        await send_issue(relay)
        (pending,) = await relay.store.query_deliveries(DeliveryQuery(route="new-issues"))
        cancelled = await _post(
            relay, f"/api/deliveries/{pending.id}/cancel", body={"reason": "not needed"}
        )
        again = await _post(relay, f"/api/deliveries/{pending.id}/cancel", 409)
    assert cancelled["status"] == "cancelled"
    assert again["error"] == "not_cancellable"


def _gate_paused(relay: Relay) -> bool:
    gate = relay.worker.gate("notte")
    return gate is not None and gate.paused


async def test_bulk_replay_previews_then_replays_with_an_audit(tmp_path: Path) -> None:
    async with admin_relay(tmp_path) as relay:
        dead = await dead_letter(relay)
        refused = await _post(relay, "/api/deliveries/replay", 400, body={})
        preview = await _post(
            relay, "/api/deliveries/replay", body={"route": "new-issues", "dry_run": True}
        )
        still_dead = await relay.store.get_delivery(dead)
        done = await _post(relay, "/api/deliveries/replay", body={"route": "new-issues"})
        await _succeeded(relay)
        (audit, *_) = await relay.store.list_audit()
    assert refused["error"] == "bad_request"
    assert preview == {"dry_run": True, "count": 1, "ids": [dead], "actor": "api-token"}
    assert still_dead is not None
    assert still_dead.status is DeliveryStatus.DEAD
    assert (done["count"], done["ids"]) == (1, [dead])
    assert (audit.actor, audit.count) == ("api-token", 1)


async def test_bulk_replay_refuses_a_bad_body(tmp_path: Path) -> None:
    async with admin_relay(tmp_path) as relay:
        wrong_status = await _post(
            relay, "/api/deliveries/replay", 400, body={"status": ["x"], "all": True}
        )
        bad_since = await _post(relay, "/api/deliveries/replay", 400, body={"since": "soon"})
        unknown_key = await _post(
            relay, "/api/deliveries/replay", 400, body={"evil": 1, "all": True}
        )
    assert {wrong_status["error"], bad_since["error"], unknown_key["error"]} <= {
        "bad_request",
        "bad_filter",
    }


async def test_targets_pause_resume_and_overview(tmp_path: Path) -> None:
    async with admin_relay(tmp_path) as relay:
        paused = await _post(relay, "/api/targets/notte/pause")
        listed = await _get(relay, "/api/targets")
        resumed = await _post(relay, "/api/targets/notte/resume")
        unknown = await _post(relay, "/api/targets/nope/pause", 404)
    assert (paused["paused"], paused["paused_by"]) == (True, "api-token")
    (target,) = listed
    assert target["name"] == "notte"
    assert (target["configured"], target["max_concurrency"], target["breaker"]) == (
        True,
        10,
        "closed",
    )
    assert resumed["paused"] is False
    assert unknown["error"] == "not_found"


async def test_stats_count_per_source_and_route(tmp_path: Path) -> None:
    async with admin_relay(tmp_path) as relay:
        await dead_letter(relay)
        await send_issue(relay, 2, delivery="d-ok")
        await relay.wait_for(lambda: _succeeded_count(relay, 1))
        stats = await _get(relay, "/api/stats", since="1h")
        bad = await _get(relay, "/api/stats", 400, since="then")
    (source,) = stats["sources"]
    assert (source["source"], source["received"], source["routed"]) == ("github", 2, 2)
    (route,) = stats["routes"]
    assert (route["route"], route["succeeded"], route["failed"]) == ("new-issues", 1, 1)
    assert route["success_rate"] == 0.5
    assert bad["error"] == "bad_filter"


@pytest.mark.parametrize("since", [" ", "\t", "   "])
async def test_stats_with_a_blank_since_cover_the_last_day_instead_of_failing(
    tmp_path: Path, since: str
) -> None:
    async with admin_relay(tmp_path) as relay:
        await send_issue(relay, 1, delivery="d-blank")
        blank = await _get(relay, "/api/stats", since=since)
        default = await _get(relay, "/api/stats")
    assert abs(blank["since"] - default["since"]) < 5  # both: 24 hours before now
    assert blank["sources"] == default["sources"]
    assert [s["received"] for s in blank["sources"]] == [1]


async def _succeeded_count(relay: Relay, n: int) -> bool:
    rows = await relay.store.query_deliveries(
        DeliveryQuery(route="new-issues", statuses=(DeliveryStatus.SUCCEEDED,))
    )
    return len(rows) == n


async def test_config_status_and_reload_are_mounted_under_the_api(tmp_path: Path) -> None:
    async with admin_relay(tmp_path) as relay:
        before = await _get(relay, "/api/config")
        reloaded = await _post(relay, "/api/config/reload")
    assert before["sha256"] == relay.services.config_sha256
    assert before["sources"] == ["github"]
    assert before["last_error"] is None
    assert (reloaded["ok"], reloaded["changed"]) == (True, False)


async def test_an_action_body_nested_too_deep_to_read_is_400(tmp_path: Path) -> None:
    async with admin_relay(tmp_path) as relay:
        response = await relay.client.post(
            "/api/deliveries/replay",
            content=b"[" * 60_000,
            headers={**H, "content-type": "application/json"},
        )
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "bad_request"
