"""The web page, rendered on the server: events, one event, dead letters, targets; values
are escaped, pages cannot be framed, and need a session (or the token)."""

from __future__ import annotations

import json
from pathlib import Path

from relay.delivery.outbound import Reply
from relay.store.base import DeliveryStatus
from relay.store.log_queries import DeliveryQuery
from tests.helpers import FakeClock, github_headers
from tests.unit.admin.kit import TOKEN, admin_relay, dead_letter, login, send_issue


async def test_events_page_lists_events_with_their_routes(tmp_path: Path) -> None:
    async with admin_relay(tmp_path) as relay:
        await login(relay.client)
        event_id = await send_issue(relay)
        await relay.wait_for(lambda: relay.status_is("new-issues", DeliveryStatus.SUCCEEDED))
        page = await relay.client.get("/ui/")
        filtered = await relay.client.get("/ui/", params={"status": "rejected"})
        bad = await relay.client.get("/ui/", params={"since": "whenever"})
    assert page.status_code == 200
    assert f'href="/ui/events/{event_id}"' in page.text
    assert "new-issues" in page.text
    assert page.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert event_id not in filtered.text
    assert bad.status_code == 400


async def test_event_page_escapes_what_the_sender_controls(tmp_path: Path) -> None:
    async with admin_relay(tmp_path) as relay:
        await login(relay.client)
        body = json.dumps(
            {
                "action": "opened",
                "issue": {"number": 1, "title": "<script>alert(1)</script>"},
                "repository": {"full_name": "<img src=x onerror=alert(2)>"},
            }
        ).encode()
        response = await relay.post(body, github_headers(body, delivery="<b>id</b>"))
        event_id = response.json()["id"]
        await relay.wait_for(lambda: relay.status_is("new-issues", DeliveryStatus.SUCCEEDED))
        page = await relay.client.get(f"/ui/events/{event_id}")
        listing = await relay.client.get("/ui/")
    assert page.status_code == 200
    for html in (page.text, listing.text):
        assert "<script>alert" not in html
        assert "<img src=x" not in html
        assert "<b>id</b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert "attempt" in page.text


async def test_dead_letters_page_offers_replay(tmp_path: Path) -> None:
    async with admin_relay(tmp_path) as relay:
        await login(relay.client)
        dead = await dead_letter(relay)
        page = await relay.client.get("/ui/dead-letters")
        by_route = await relay.client.get("/ui/dead-letters", params={"route": "all-github"})
    assert f'data-action="replay" data-id="{dead}"' in page.text
    assert "Function not found" in page.text
    assert dead not in by_route.text


async def test_targets_page_shows_limits_breaker_and_the_config(tmp_path: Path) -> None:
    async with admin_relay(tmp_path) as relay:
        await login(relay.client)
        page = await relay.client.get("/ui/targets")
    assert "0 / 10" in page.text
    assert relay.services.config_sha256 in page.text
    assert 'data-action="pause" data-id="notte"' in page.text


async def test_unknown_event_page_is_404(tmp_path: Path) -> None:
    async with admin_relay(tmp_path) as relay:
        await login(relay.client)
        page = await relay.client.get("/ui/events/evt_gone")
    assert page.status_code == 404
    assert "No such event" in page.text


async def test_login_page_says_a_wrong_token(tmp_path: Path) -> None:
    async with admin_relay(tmp_path) as relay:
        page = await relay.client.post(
            "/ui/login",
            content="token=wrong&next=/ui/",
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
    assert page.status_code == 401
    assert "not the admin token" in page.text
    assert "wrong" not in page.text.replace("not the admin token", "")


async def test_without_a_token_the_page_has_no_login(tmp_path: Path) -> None:
    async with admin_relay(tmp_path, token=None) as relay:
        base = "http://127.0.0.1:8080"
        login_page = await relay.client.get(f"{base}/ui/login")
        events = await relay.client.get(f"{base}/ui/")
    assert login_page.status_code == 303
    assert events.status_code == 200
    assert "Log out" not in events.text


async def test_runs_page_lists_running_runs_with_their_run_and_a_stop(tmp_path: Path) -> None:
    active = {"function_run_id": "run_going", "session_id": "s", "status": "active"}
    clock = FakeClock()  # never advances: the run's first look never comes due
    async with admin_relay(tmp_path, clock=clock) as relay:
        relay.upstream.answers.append(Reply(200, json=active))
        await login(relay.client)
        await send_issue(relay)
        await relay.wait_for(lambda: relay.status_is("new-issues", DeliveryStatus.RUNNING))
        (running,) = await relay.store.query_deliveries(DeliveryQuery(route="new-issues"))
        page = await relay.client.get("/ui/runs")
        bearer = {"Authorization": f"Bearer {TOKEN}"}
        stop = await relay.client.post(f"/api/deliveries/{running.id}/stop", headers=bearer)
        again = await relay.client.post(f"/api/deliveries/{running.id}/stop", headers=bearer)
        after = await relay.client.get("/ui/runs")
    assert page.status_code == 200
    assert "run_going" in page.text
    assert f'data-action="stop" data-id="{running.id}"' in page.text
    assert f'data-since="{running.run_started_at}"' in page.text
    assert stop.status_code == 200
    assert stop.json()["stop_requested_by"] is not None
    assert stop.json()["stoppable"] is False
    assert again.status_code == 200  # asking twice is harmless: the run is stopped once
    assert "stop requested by" in after.text
    assert f'data-action="stop" data-id="{running.id}"' not in after.text
