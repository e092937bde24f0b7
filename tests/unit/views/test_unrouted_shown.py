"""Why an event matched no route is shown wherever the event is: the JSON API, the page and
``relay show`` (the closest routes and what differed)."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import TypeAdapter

from relay.cli.show_cmd import render_event
from relay.views.models import EventDetail
from tests.helpers import github_headers
from tests.unit.admin.kit import admin_relay, bearer, login

CLOSEST = "route 'new-issues' (1 of 2 conditions hold): body.action is 'closed'"


async def test_unrouted_reason_is_in_the_api_the_page_and_relay_show(tmp_path: Path) -> None:
    body = json.dumps({"action": "closed", "issue": {"number": 4}}).encode()
    async with admin_relay(tmp_path) as relay:
        response = await relay.post(body, github_headers(body))
        event_id = response.json()["id"]
        api = await relay.client.get(f"/api/events/{event_id}", headers=bearer())
        listing = await relay.client.get("/api/events", headers=bearer())
        await login(relay.client)
        page = await relay.client.get(f"/ui/events/{event_id}")
        events_page = await relay.client.get("/ui/")
    assert api.status_code == 200
    detail = TypeAdapter(EventDetail).validate_python(api.json())  # the views model, exactly
    assert detail.status == "unrouted"
    assert detail.error is not None
    assert CLOSEST in detail.error
    assert listing.json()["items"][0]["error"] == detail.error
    assert "Why no route matched" in page.text
    assert "route &#39;new-issues&#39; (1 of 2 conditions hold)" in page.text
    assert "no route matched; closest: &#39;new-issues&#39;" in events_page.text
    shown = render_event(detail)
    assert "no route matched; closest: 'new-issues'" in shown
    assert f"  {CLOSEST}" in shown
