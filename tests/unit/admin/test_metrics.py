"""``/metrics``: what relay counts and reads at scrape time, served in the text format."""

from __future__ import annotations

from pathlib import Path

from relay.delivery.outbound import Reply
from relay.store.base import DeliveryStatus
from tests.helpers import github_headers, issue_opened, write_config
from tests.unit.admin.kit import admin_relay, bearer, send_issue
from tests.unit.metrics.scrape import sample_value


async def test_metrics_count_events_rejections_attempts_and_reloads(tmp_path: Path) -> None:
    config = write_config(tmp_path / "relay.yaml")
    async with admin_relay(tmp_path, config=config) as relay:
        relay.upstream.answers.append(Reply(503))
        await send_issue(relay, 1, delivery="d-1")
        await send_issue(relay, 1, delivery="d-1")  # a re-delivery
        body = issue_opened(2)
        await relay.post(body, github_headers(body, secret="not-the-secret"))
        await relay.wait_for(lambda: relay.status_is("new-issues", DeliveryStatus.SUCCEEDED))
        await relay.client.post("/api/config/reload", headers=bearer())
        config.write_text("version: 1\nnot valid")
        await relay.client.post("/api/config/reload", headers=bearer())
        text = (await relay.client.get("/metrics", headers=bearer())).text
        content_type = (await relay.client.get("/metrics", headers=bearer())).headers[
            "content-type"
        ]
    assert content_type.startswith("text/plain; version=0.0.4")
    assert sample_value(text, "relay_events_received_total", source="github", status="routed") == 1
    assert sample_value(text, "relay_events_duplicate_total", source="github") == 1
    rejected = {"source": "github", "reason": "signature_mismatch"}
    assert sample_value(text, "relay_events_rejected_total", **rejected) == 1
    attempts = {"route": "new-issues", "target": "notte"}
    assert sample_value(text, "relay_attempts_total", **attempts, outcome="retryable") == 1
    assert sample_value(text, "relay_attempts_total", **attempts, outcome="succeeded") == 1
    assert sample_value(text, "relay_deliveries_total", route="new-issues", status="succeeded") == 1
    assert sample_value(text, "relay_attempt_duration_seconds_count", target="notte") == 2
    assert sample_value(text, "relay_config_reloads_total", result="success") == 1
    assert sample_value(text, "relay_config_reloads_total", result="failure") == 1
    assert sample_value(text, "relay_config_last_reload_successful") == 0
    assert sample_value(text, "relay_target_max_concurrency", target="notte") == 10
    assert sample_value(text, "relay_target_in_flight", target="notte") == 0
    assert sample_value(text, "relay_target_breaker_state", target="notte", state="closed") == 1
    assert sample_value(text, "relay_target_breaker_state", target="notte", state="open") == 0
    assert sample_value(text, "relay_queue_depth", target="notte") == 0


async def test_queue_depth_and_lag_show_what_waits(tmp_path: Path) -> None:
    async with admin_relay(tmp_path) as relay:
        await relay.client.post("/api/targets/notte/pause", headers=bearer())
        await relay.wait_for(lambda: _paused(relay))
        await send_issue(relay)
        text = (await relay.client.get("/metrics", headers=bearer())).text
    assert sample_value(text, "relay_queue_depth", target="notte") == 1
    assert sample_value(text, "relay_queue_oldest_due_seconds", target="notte") >= 0
    assert sample_value(text, "relay_target_paused", target="notte") == 1


def _paused(relay: object) -> bool:
    gate = relay.worker.gate("notte")  # type: ignore[attr-defined]
    return gate is not None and bool(gate.paused)
