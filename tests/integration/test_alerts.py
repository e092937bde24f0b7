"""A running ``relay serve`` tells operators: its ``alerts:`` webhook (a real local HTTP
server) receives signed alerts when a delivery dies, the target's breaker opens and a
route's variables cannot be mapped, while webhooks keep being answered at once."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import httpx
from svix.webhooks import Webhook

from tests.helpers import free_port, github_headers, issue_opened, write_config
from tests.integration.procs import start_relay, wait_until
from tests.unit.alerts.receivers import http_receiver

SECRET = "whsec_" + base64.b64encode(b"relay-alerts-key-for-the-test").decode()

ROUTES = """
  - name: new-issues
    source: github
    function_id: triage_issue
    match: {event_type: issues}
    variables:
      number: body.issue.number
    retry: {max_attempts: 2, initial: 0.05, max: 0.1, jitter: 0}
  - name: needs-label
    source: github
    function_id: label
    match: {event_type: issues}
    variables:
      label: {path: body.issue.label, required: true}
"""


def test_a_dead_delivery_an_open_breaker_and_a_mapping_failure_are_notified(
    tmp_path: Path,
) -> None:
    with http_receiver() as receiver:
        config = write_config(
            tmp_path / "relay.yaml",
            base_url=f"http://127.0.0.1:{free_port()}",  # nothing listens: attempts fail
            routes=ROUTES,
            target_extra="breaker: {failures: 2, cooldown: 600}",
            connect_timeout=0.5,
        )
        with config.open("a") as f:
            f.write(
                "alerts:\n"
                "  channels:\n"
                f"    - {{type: webhook, url: '{receiver.url}/alerts', secret: '{SECRET}'}}\n"
            )
        with start_relay(config, tmp_path / "relay.db", tmp_path) as relay:
            body = issue_opened(7)
            reply = httpx.post(
                f"{relay.url}/hooks/github", content=body, headers=github_headers(body)
            )
            assert reply.status_code == 200

            def kinds() -> set[str]:
                return {json.loads(r.body)["data"]["kind"] for r in receiver.requests}

            wait_until(
                lambda: kinds() >= {"dead", "breaker_open", "mapping_failed"},
                what="the three alerts",
                within=20,
            )
    for request in receiver.requests:
        Webhook(SECRET).verify(request.body, request.headers)
    by_kind = {json.loads(r.body)["data"]["kind"]: json.loads(r.body) for r in receiver.requests}
    assert by_kind["dead"]["data"]["subject"] == "new-issues"
    assert by_kind["dead"]["data"]["delivery_id"].startswith("dlv_")
    assert by_kind["breaker_open"]["data"]["target"] == "notte"
    assert by_kind["mapping_failed"]["data"]["subject"] == "needs-label"
    assert by_kind["mapping_failed"]["data"]["source"] == "github"
    # alerts carry ids and reasons, never the event's body
    assert all(b"Crash on start" not in r.body for r in receiver.requests)
